package dev.distillery.models.unet;

import dev.distillery.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading diffusers UNet config.json files: field names, defaults, None handling, extras and errors. */
class UNetConfigTest {
    @Test
    void sd15ConfigFieldsAndDefaults() throws IOException {
        UNet2DConditionConfig c = UNet2DConditionConfig.load(UNetManifestTest.resource("sd15_unet_config.json"));
        assertEquals("UNet2DConditionModel", c.className());
        assertEquals(List.of(64), c.sampleSize());
        assertEquals(List.of(320, 640, 1280, 1280), c.blockOutChannels());
        assertEquals(PerBlock.of(768), c.crossAttentionDim());
        assertEquals(PerBlock.of(8), c.attentionHeadDim());
        assertEquals(List.of(8, 8, 8, 8), c.numHeadsPerBlock());
        assertEquals(1280, c.timeEmbedDim());
        assertEquals("UNetMidBlock2DCrossAttn", c.midBlockType()); // absent: the default
        assertFalse(c.useLinearProjection());
        assertEquals(1e-5, c.normEps());
        assertEquals("0.6.0", c.extras().get("_diffusers_version"));
        assertEquals(1, c.extras().size());
    }

    @Test
    void sdxlConfigPerBlockFieldsAndNone() throws IOException {
        UNet2DConditionConfig c = UNet2DConditionConfig.load(UNetManifestTest.resource("sdxl_unet_config.json"));
        assertEquals(PerBlock.list(List.of(5, 10, 20)), c.attentionHeadDim());
        assertEquals(List.of(5, 10, 20), c.numHeadsPerBlock());
        assertEquals(PerBlock.list(List.of(TransformerDepth.of(1), TransformerDepth.of(2), TransformerDepth.of(10))), c.transformerLayersPerBlock());
        assertEquals("text_time", c.additionEmbedType());
        assertEquals(256, c.additionTimeEmbedDim());
        assertEquals(2816, c.projectionClassEmbeddingsInputDim());
        assertFalse(c.upcastAttention()); // "upcast_attention": null is Python's None, falsy
        assertNull(c.numAttentionHeads());
        assertNull(c.midBlockOnlyCrossAttention());
        assertNull(c.classEmbedType());
        assertTrue(c.useLinearProjection());
        assertEquals(List.of("_diffusers_version"), List.copyOf(c.extras().keySet()));
    }

    @Test
    void sd21ConfigUpcastAndHeads() throws IOException {
        UNet2DConditionConfig c = UNet2DConditionConfig.load(UNetManifestTest.resource("sd21_unet_config.json"));
        assertTrue(c.upcastAttention());
        assertEquals(List.of(5, 10, 20, 20), c.numHeadsPerBlock());
        assertEquals(PerBlock.of(1024), c.crossAttentionDim());
    }

    @Test
    void unet2dConfigDefaultsAndExtras() {
        UNet2DConfig c = UNet2DConfig.parse("{\"_class_name\": \"UNet2DModel\", \"block_out_channels\": [16, 32], \"some_future_flag\": [1, 2],"
                + " \"attn_norm_num_groups\": null, \"class_embed_type\": null}");
        assertEquals(List.of(16, 32), c.blockOutChannels());
        assertEquals(UNet2DConfig.defaults().downBlockTypes(), c.downBlockTypes());
        assertEquals(8, c.attentionHeadDim());
        assertEquals(64, c.timeEmbedDim());
        assertNull(c.attnNormNumGroups());
        assertEquals(List.of("some_future_flag"), List.copyOf(c.extras().keySet()));
        assertEquals(UNet2DConfig.defaults().extras(), UNet2DConfig.parse("{}").extras());
    }

    @Test
    void wrongTypesNameTheFieldAndTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"in_channels\": \"4\"}");
        IOException e = assertThrows(IOException.class, () -> UNet2DConditionConfig.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'in_channels' must be an integer, got a string"), e.getMessage());

        Files.writeString(f, "{\"transformer_layers_per_block\": [1, [2, true]]}");
        e = assertThrows(IOException.class, () -> UNet2DConditionConfig.load(f));
        assertTrue(e.getMessage().contains("'transformer_layers_per_block[1][1]' must be an integer, got a boolean"), e.getMessage());

        Files.writeString(f, "{\"norm_eps\": 1e-5, \"layers_per_block\": 2.5}");
        e = assertThrows(IOException.class, () -> UNet2DConfig.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'layers_per_block' must be an integer, got 2.5"), e.getMessage());

        Files.writeString(f, "{\"act_fn\": null}");
        e = assertThrows(IOException.class, () -> UNet2DConfig.load(f));
        assertTrue(e.getMessage().contains("'act_fn' must be a string, got null"), e.getMessage());

        Files.writeString(f, "{\"in_channels\": 4,}");
        e = assertThrows(IOException.class, () -> UNet2DConfig.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());

        assertThrows(IllegalArgumentException.class, () -> UNet2DConditionConfig.parse("[1, 2]"));
    }

    @Test
    void buildTimeChecksFollowDiffusers() {
        UNet2DConditionConfig heads = UNet2DConditionConfig.parse("{\"num_attention_heads\": 8}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new UNet2DConditionModel(heads, new Rng(0))).getMessage().contains("num_attention_heads"));

        UNet2DConditionConfig lengths = UNet2DConditionConfig.parse("{\"attention_head_dim\": [8, 8]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new UNet2DConditionModel(lengths, new Rng(0))).getMessage().contains("attention_head_dim"));

        UNet2DConditionConfig asym = UNet2DConditionConfig.parse("{\"transformer_layers_per_block\": [1, [2, 2], 1, 1]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new UNet2DConditionModel(asym, new Rng(0))).getMessage()
                .contains("reverse_transformer_layers_per_block"));

        UNet2DConditionConfig block = UNet2DConditionConfig.parse("{\"down_block_types\": [\"SimpleCrossAttnDownBlock2D\", \"DownBlock2D\"],"
                + " \"up_block_types\": [\"UpBlock2D\", \"UpBlock2D\"], \"block_out_channels\": [32, 64]}");
        assertTrue(assertThrows(UnsupportedOperationException.class, () -> new UNet2DConditionModel(block, new Rng(0))).getMessage()
                .contains("SimpleCrossAttnDownBlock2D"));

        UNet2DConfig fourier = UNet2DConfig.parse("{\"time_embedding_type\": \"fourier\", \"block_out_channels\": [32, 64, 64, 64]}");
        assertTrue(assertThrows(UnsupportedOperationException.class, () -> new UNet2DModel(fourier, new Rng(0))).getMessage().contains("fourier"));
    }
}
