package dev.distillery.distill.text;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.distill.score.EdmTextUNetNet;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.models.diffusion.SchedulerConfig;
import dev.distillery.models.text.ClipTextModel;
import dev.distillery.models.unet.UNet2DConditionModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A tiny diffusers pipeline folder written here and read back by {@link DiffusersTextTeacher}. */
class DiffusersTextTeacherTest {
    @Test
    void aPipelineFolderRoundTrips(@TempDir Path tmp) throws IOException {
        UNet2DConditionModel unet = TextFixtures.unet(61);
        ClipTextModel text = TextFixtures.textEncoder(62);
        Path dir = TextFixtures.writePipeline(tmp.resolve("pipe"), unet, text, TextFixtures.VP_SCHEDULER);
        assertTrue(DiffusersTextTeacher.isPipelineFolder(dir));
        DiffusersTextTeacher t = DiffusersTextTeacher.load(dir);
        assertEquals("StableDiffusionPipeline", t.pipelineClass());
        assertEquals(WeightsDigest.of(unet), WeightsDigest.of(t.net().module()));
        assertEquals(WeightsDigest.of(text), WeightsDigest.of(t.textEncoder()));
        assertArrayEquals(new int[]{TextFixtures.CHANNELS, TextFixtures.SIZE, TextFixtures.SIZE}, t.net().sampleShape());
        var form = assertInstanceOf(EdmTextUNetNet.Parameterization.Vp.class, t.net().parameterization());
        assertEquals(PredictionType.V_PREDICTION, form.prediction());
        assertEquals(NoiseSchedule.scaledLinear(1000, 0.00085, 0.012), form.schedule(), "scheduler_config's beta schedule");
        // the loaded teacher computes what the in-memory one does
        EdmTextUNetNet ref = new EdmTextUNetNet(unet, new EdmPreconditioning(0.5), form, TextFixtures.SIZE, TextFixtures.SIZE);
        PromptConditions fromFolder = t.prompts(TextFixtures.PROMPTS, TextFixtures.PROMPTS);
        PromptConditions inMemory = PromptConditions.encode(TextFixtures.tokenizer(tmp.resolve("tok")), text, TextFixtures.PROMPTS, TextFixtures.PROMPTS);
        assertEquals(0, fromFolder.embeddings().sub(inMemory.embeddings()).abs().max().item());
        assertEquals(fromFolder.key(), inMemory.key());
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 3, TextFixtures.CHANNELS, TextFixtures.SIZE, TextFixtures.SIZE);
        double[] sigma = {0.1, 1, 10};
        try (var g = NoGrad.enter()) {
            Tensor a = t.net().denoise(Variable.constant(x), sigma, fromFolder.embeddings()).value();
            Tensor b = ref.denoise(Variable.constant(x), sigma, inMemory.embeddings()).value();
            assertEquals(0, a.sub(b).abs().max().item());
        }
        // an EDM scheduler gives EDM preconditioning with diffusers' c_noise = ln(sigma) / 4
        SchedulerConfig edm = SchedulerConfig.parse("{\"_class_name\": \"EDMEulerScheduler\", \"sigma_data\": 0.5, \"prediction_type\": \"epsilon\"}");
        assertEquals(new EdmTextUNetNet.Parameterization.Edm(1.0), DiffusersTextTeacher.parameterization(edm));
        assertThrows(IllegalArgumentException.class, () -> DiffusersTextTeacher.parameterization(edm.withPredictionType(PredictionType.V_PREDICTION)));
    }

    @Test
    void aMissingFileIsNamed(@TempDir Path tmp) throws IOException {
        UNet2DConditionModel unet = TextFixtures.unet(71);
        ClipTextModel text = TextFixtures.textEncoder(72);
        for (String rel : List.of("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "text_encoder/config.json", "text_encoder/model.safetensors",
                "tokenizer/vocab.json", "tokenizer/merges.txt", "scheduler/scheduler_config.json")) {
            Path dir = TextFixtures.writePipeline(tmp.resolve(rel.replace('/', '_')), unet, text, TextFixtures.VP_SCHEDULER);
            Files.delete(dir.resolve(rel));
            IOException e = assertThrows(IOException.class, () -> DiffusersTextTeacher.load(dir));
            assertTrue(e.getMessage().contains("missing " + rel) && e.getMessage().contains(dir.toString()), e.getMessage());
        }
        IOException e = assertThrows(IOException.class, () -> DiffusersTextTeacher.load(tmp.resolve("nowhere")));
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
        Path noSize = TextFixtures.writePipeline(tmp.resolve("nosize"), unet, text, TextFixtures.VP_SCHEDULER);
        Files.writeString(noSize.resolve("unet/config.json"), TextFixtures.UNET_CONFIG_JSON.replace("\"sample_size\": 8, ", ""));
        e = assertThrows(IOException.class, () -> DiffusersTextTeacher.load(noSize));
        assertTrue(e.getMessage().contains("sample_size") && e.getMessage().contains("unet"), e.getMessage());
    }
}
