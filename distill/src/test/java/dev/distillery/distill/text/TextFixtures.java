package dev.distillery.distill.text;

import dev.distillery.distill.score.EdmTextUNetNet;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.text.ClipTextConfig;
import dev.distillery.models.text.ClipTextModel;
import dev.distillery.models.text.ClipTokenizer;
import dev.distillery.models.unet.UNet2DConditionConfig;
import dev.distillery.models.unet.UNet2DConditionModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Json;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tiny random text-conditional pieces for the tests: a UNet2DConditionModel (channels 8, 16; cross-attention width 16;
 * 8x8 samples of 2 channels), a CLIP text encoder of width 16 and a byte-level BPE vocabulary over a-z.
 */
public final class TextFixtures {
    private TextFixtures() {}

    public static final int CHANNELS = 2, SIZE = 8, CONTEXT = 16, MAX_TOKENS = 8;
    public static final List<String> PROMPTS = List.of("a red cat", "the blue sea", "hello world");

    public static final String UNET_CONFIG_JSON = "{\"_class_name\": \"UNet2DConditionModel\", \"sample_size\": " + SIZE + ", \"in_channels\": " + CHANNELS
            + ", \"out_channels\": " + CHANNELS + ", \"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\"],"
            + " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\"], \"block_out_channels\": [8, 16], \"layers_per_block\": 1,"
            + " \"cross_attention_dim\": " + CONTEXT + ", \"attention_head_dim\": 2, \"norm_num_groups\": 4}";

    /** A random UNet whose every weight is drawn N(0, 0.2^2), so no zero-initialised projection hides the text. */
    public static UNet2DConditionModel unet(long seed) {
        UNet2DConditionModel u = new UNet2DConditionModel(UNet2DConditionConfig.parse(UNET_CONFIG_JSON), new Rng(seed));
        Rng r = new Rng(seed + 1000);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : u.stateDict().entrySet()) w.put(e.getKey(), Tensor.randn(r, DType.F32, e.getValue().shape()).mul(0.2));
        u.loadStateDict(w, true);
        return u;
    }

    public static EdmTextUNetNet edmNet(long seed) {
        return new EdmTextUNetNet(unet(seed), new EdmPreconditioning(0.5), new EdmTextUNetNet.Parameterization.Edm(1000), SIZE, SIZE);
    }

    /** Letters a-z, their word-final forms, the merges of {@link #MERGES}, then the two special tokens (CLIP's layout, cut to a-z). */
    public static final List<String[]> MERGES = List.of(new String[]{"c", "a"}, new String[]{"ca", "t</w>"}, new String[]{"r", "e"}, new String[]{"re", "d</w>"},
            new String[]{"s", "e"}, new String[]{"se", "a</w>"});

    public static Map<String, Integer> vocab() {
        Map<String, Integer> v = new LinkedHashMap<>();
        for (char c = 'a'; c <= 'z'; c++) v.put(String.valueOf(c), v.size());
        for (char c = 'a'; c <= 'z'; c++) v.put(c + "</w>", v.size());
        for (String[] m : MERGES) v.putIfAbsent(m[0] + m[1], v.size());
        v.put(ClipTokenizer.BOS_TOKEN, v.size());
        v.put(ClipTokenizer.EOS_TOKEN, v.size());
        return v;
    }

    /** Writes vocab.json, merges.txt and tokenizer_config.json (max length {@link #MAX_TOKENS}) into {@code dir}. */
    public static void writeTokenizer(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder("{");
        for (var e : vocab().entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            Json.writeString(sb, e.getKey());
            sb.append(": ").append(e.getValue());
        }
        Files.writeString(dir.resolve("vocab.json"), sb.append('}').toString());
        StringBuilder m = new StringBuilder("#version: 0.2\n");
        for (String[] p : MERGES) m.append(p[0]).append(' ').append(p[1]).append('\n');
        Files.writeString(dir.resolve("merges.txt"), m.toString());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": " + MAX_TOKENS + "}");
    }

    public static ClipTokenizer tokenizer(Path dir) throws IOException {
        writeTokenizer(dir);
        return ClipTokenizer.fromDirectory(dir);
    }

    public static String clipConfigJson() {
        Map<String, Integer> v = vocab();
        return "{\"hidden_size\": " + CONTEXT + ", \"intermediate_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                + " \"max_position_embeddings\": " + MAX_TOKENS + ", \"vocab_size\": " + v.size() + ", \"projection_dim\": 8, \"hidden_act\": \"quick_gelu\","
                + " \"bos_token_id\": " + v.get(ClipTokenizer.BOS_TOKEN) + ", \"eos_token_id\": " + v.get(ClipTokenizer.EOS_TOKEN) + ", \"pad_token_id\": 1}";
    }

    public static ClipTextModel textEncoder(long seed) {
        return new ClipTextModel(ClipTextConfig.parse(clipConfigJson()), new Rng(seed));
    }

    /** Prompt conditioning of {@link #PROMPTS} (training and evaluation) with a fresh tiny tokenizer and encoder. */
    public static PromptConditions prompts(Path tmp) throws IOException {
        return PromptConditions.encode(tokenizer(tmp.resolve("tokenizer")), textEncoder(3), PROMPTS, PROMPTS.subList(0, 2));
    }

    public static final String VP_SCHEDULER = "{\"_class_name\": \"DDPMScheduler\", \"num_train_timesteps\": 1000, \"beta_start\": 0.00085, \"beta_end\": 0.012,"
            + " \"beta_schedule\": \"scaled_linear\", \"prediction_type\": \"v_prediction\"}";

    /** Writes the pipeline of {@code unet} and {@code text} into {@code dir}. */
    public static Path writePipeline(Path dir, UNet2DConditionModel unet, ClipTextModel text, String scheduler) throws IOException {
        Files.createDirectories(dir.resolve("unet"));
        Files.createDirectories(dir.resolve("text_encoder"));
        Files.createDirectories(dir.resolve("scheduler"));
        Files.writeString(dir.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionPipeline\", \"unet\": [\"diffusers\", \"UNet2DConditionModel\"],"
                + " \"text_encoder\": [\"transformers\", \"CLIPTextModel\"], \"tokenizer\": [\"transformers\", \"CLIPTokenizer\"], \"scheduler\": [\"diffusers\", \"DDPMScheduler\"]}");
        Files.writeString(dir.resolve("unet/config.json"), TextFixtures.UNET_CONFIG_JSON);
        Safetensors.write(dir.resolve("unet/diffusion_pytorch_model.safetensors"), unet.stateDict());
        Files.writeString(dir.resolve("text_encoder/config.json"), TextFixtures.clipConfigJson());
        Safetensors.write(dir.resolve("text_encoder/model.safetensors"), text.stateDict());
        TextFixtures.writeTokenizer(dir.resolve("tokenizer"));
        Files.writeString(dir.resolve("scheduler/scheduler_config.json"), scheduler);
        return dir;
    }
}
