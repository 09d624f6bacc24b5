package dev.distillery.distill.text;

import dev.distillery.distill.score.EdmTextUNetNet;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.models.diffusion.SchedulerConfig;
import dev.distillery.models.text.ClipTextModel;
import dev.distillery.models.text.ClipTokenizer;
import dev.distillery.models.unet.UNet2DConditionConfig;
import dev.distillery.models.unet.UNet2DConditionModel;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.io.Json;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A text-conditional teacher read from a diffusers pipeline folder (Stable Diffusion's layout):
 * <pre>
 *   model_index.json                                  (optional; when present it must name a unet)
 *   unet/config.json + unet/diffusion_pytorch_model.safetensors   (or its .safetensors.index.json)
 *   text_encoder/config.json + text_encoder/model.safetensors      (or model.safetensors.index.json)
 *   tokenizer/vocab.json + tokenizer/merges.txt                    (or tokenizer/tokenizer.json)
 *   scheduler/scheduler_config.json
 * </pre>
 * The scheduler config decides the parameterisation of the {@link EdmTextUNetNet}: an EDM scheduler
 * ({@code _class_name} starting with "EDM", prediction_type epsilon) gives EDM preconditioning with diffusers'
 * {@code c_noise = ln(sigma) / 4} (cNoiseScale 1) and its sigma_data; any other gives the VP form on the scheduler's
 * discrete schedule ({@link NoiseSchedule#fromConfig}: beta schedule, trained betas, zero-terminal-SNR rescale) with
 * its prediction_type (epsilon, v_prediction or sample). Samples are {@code sample_size} square (or [h, w]) in the
 * UNet's channels, i.e. latents for a latent-diffusion pipeline (no VAE is loaded). Every missing file is named.
 *
 * @param pipelineClass model_index.json's {@code _class_name}, or null when the folder has none
 */
public record DiffusersTextTeacher(Path dir, String pipelineClass, EdmTextUNetNet net, ClipTokenizer tokenizer, ClipTextModel textEncoder,
                                   SchedulerConfig scheduler) {
    public static final String MODEL_INDEX = "model_index.json", UNET_CONFIG = "unet/config.json", UNET_WEIGHTS = "unet/diffusion_pytorch_model.safetensors",
            TEXT_ENCODER_CONFIG = "text_encoder/config.json", TEXT_ENCODER_WEIGHTS = "text_encoder/model.safetensors", TOKENIZER = "tokenizer",
            SCHEDULER_CONFIG = "scheduler/scheduler_config.json";

    /** True when {@code dir} looks like a diffusers pipeline folder (it has {@value #UNET_CONFIG} or {@value #MODEL_INDEX}). */
    public static boolean isPipelineFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(UNET_CONFIG)) || Files.isRegularFile(dir.resolve(MODEL_INDEX));
    }

    /** Reads the folder; the weights are loaded strictly (a missing or unexpected tensor is an error naming the file). */
    public static DiffusersTextTeacher load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("diffusers pipeline " + dir + ": no such directory");
        String pipelineClass = null;
        Path index = dir.resolve(MODEL_INDEX);
        if (Files.isRegularFile(index)) {
            Object root;
            try {
                root = Json.parse(Files.readString(index));
            } catch (Json.ParseException e) {
                throw new IOException(index + ": " + e.getMessage(), e);
            }
            if (!(root instanceof Map<?, ?> m)) throw new IOException(index + ": not a JSON object");
            if (!m.containsKey("unet")) throw new IOException(index + ": names no \"unet\" (not a UNet pipeline)");
            if (m.get("_class_name") instanceof String s) pipelineClass = s;
        }
        Path unetConfig = need(dir, UNET_CONFIG), unetWeights = weights(dir, UNET_WEIGHTS);
        Path textConfig = need(dir, TEXT_ENCODER_CONFIG);
        weights(dir, TEXT_ENCODER_WEIGHTS);
        Path tokenizerDir = dir.resolve(TOKENIZER);
        if (!Files.isRegularFile(tokenizerDir.resolve("tokenizer.json"))) {
            need(dir, TOKENIZER + "/vocab.json");
            need(dir, TOKENIZER + "/merges.txt");
        }
        Path schedulerConfig = need(dir, SCHEDULER_CONFIG);

        SchedulerConfig sched = SchedulerConfig.load(schedulerConfig);
        UNet2DConditionConfig uc = UNet2DConditionConfig.load(unetConfig);
        List<Integer> size = uc.sampleSize();
        if (size == null || size.isEmpty()) throw new IOException(unetConfig + ": no sample_size (the sample height and width are needed)");
        int h = size.get(0), w = size.size() > 1 ? size.get(1) : size.get(0);
        UNet2DConditionModel unet = new UNet2DConditionModel(uc, new Rng(0));
        try {
            unet.loadStateDict(Safetensors.read(unetWeights), true);
        } catch (IllegalArgumentException e) {
            throw new IOException(unetWeights + ": " + e.getMessage(), e);
        }
        EdmTextUNetNet net;
        try {
            net = new EdmTextUNetNet(unet, new EdmPreconditioning(sched.sigmaData()), parameterization(sched), h, w);
        } catch (IllegalArgumentException e) {
            throw new IOException(dir + ": " + e.getMessage(), e);
        }
        ClipTextModel text;
        try {
            text = ClipTextModel.fromPretrained(textConfig.getParent());
        } catch (IllegalArgumentException e) {
            throw new IOException(textConfig.getParent() + ": " + e.getMessage(), e);
        }
        ClipTokenizer tokenizer = ClipTokenizer.fromDirectory(tokenizerDir);
        return new DiffusersTextTeacher(dir, pipelineClass, net, tokenizer, text, sched);
    }

    /** EDM preconditioning for diffusers' EDM schedulers, else the VP form; see the class comment. */
    public static EdmTextUNetNet.Parameterization parameterization(SchedulerConfig c) {
        boolean edm = c.className() != null && c.className().toUpperCase(Locale.ROOT).startsWith("EDM");
        if (edm) {
            if (c.predictionType() != PredictionType.EPSILON)
                throw new IllegalArgumentException("scheduler " + c.className() + ": prediction_type " + c.predictionType().configName()
                        + " is not supported for EDM schedulers (only epsilon, the standard EDM F)");
            return new EdmTextUNetNet.Parameterization.Edm(1.0); // diffusers' EDM precondition_noise: 0.25 ln(sigma)
        }
        return new EdmTextUNetNet.Parameterization.Vp(NoiseSchedule.fromConfig(c), c.predictionType());
    }

    /** Encodes training and evaluation prompts with this pipeline's tokenizer and text encoder. */
    public PromptConditions prompts(List<String> prompts, List<String> evalPrompts) {
        return PromptConditions.encode(tokenizer, textEncoder, prompts, evalPrompts);
    }

    private static Path need(Path dir, String rel) throws IOException {
        Path f = dir.resolve(rel);
        if (!Files.isRegularFile(f)) throw new IOException("diffusers pipeline " + dir + ": missing " + rel);
        return f;
    }

    /** {@code rel} or its sharded index {@code rel + ".index.json"}. */
    private static Path weights(Path dir, String rel) throws IOException {
        Path f = dir.resolve(rel), idx = dir.resolve(rel + ".index.json");
        if (Files.isRegularFile(f)) return f;
        if (Files.isRegularFile(idx)) return idx;
        throw new IOException("diffusers pipeline " + dir + ": missing " + rel + " (nor " + rel + ".index.json)");
    }
}
