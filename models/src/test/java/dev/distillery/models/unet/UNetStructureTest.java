package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.Init;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.MetaStorage;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shape-only construction, head layouts of the public configs, and the attention-map switches. */
class UNetStructureTest {
    @Test
    void shapeOnlyIsScopedAndStorageLess() {
        Linear meta = Init.shapeOnly(() -> new Linear(1000, 2000, true, new Rng(0)));
        assertTrue(Init.isMeta(meta.weight.value()));
        assertEquals(MetaStorage.DEVICE, meta.weight.value().device());
        assertArrayEquals(new int[]{2000, 1000}, meta.weight.shape());
        assertEquals(2_002_000, meta.parameterCount());
        assertFalse(Init.isShapeOnly(), "the flag ends with the scope");
        Linear real = new Linear(3, 2, true, new Rng(0));
        assertFalse(Init.isMeta(real.weight.value()));
        // A meta parameter cannot be computed with, read or loaded into.
        Variable x = Variable.constant(Tensor.ones(DType.F32, 1, 1000));
        RuntimeException e = assertThrows(RuntimeException.class, () -> meta.forward(x));
        assertTrue(e.getMessage().contains("meta"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> meta.weight.value().mul(2));
        assertTrue(e.getMessage().contains("no backend for device meta"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> meta.weight.value().storage().getDouble(0));
        Linear small = Init.shapeOnly(() -> new Linear(3, 2, true, new Rng(0)));
        e = assertThrows(RuntimeException.class, () -> small.loadStateDict(real.stateDict(), true));
        assertTrue(e.getMessage().contains("meta"), e.getMessage());
    }

    @Test
    void headLayoutsOfThePublicConfigs() throws IOException {
        UNet2DConditionConfig sd15Config = load("sd15_unet_config.json"), sdxlConfig = load("sdxl_unet_config.json");
        UNet2DConditionModel sd15 = Init.shapeOnly(() -> new UNet2DConditionModel(sd15Config, new Rng(0)));
        Attention a = sd15.attentionModules().get("down_blocks.0.attentions.0.transformer_blocks.0.attn2");
        assertEquals(8, a.heads);
        assertEquals(40, a.headDim); // SD 1.x: attention_head_dim 8 is the number of heads
        assertEquals(8, sd15.attentionModules().get("mid_block.attentions.0.transformer_blocks.0.attn1").heads);
        assertEquals(16 * 2, sd15.attentionModules().size()); // 16 transformers, attn1 + attn2 each

        UNet2DConditionModel sdxl = Init.shapeOnly(() -> new UNet2DConditionModel(sdxlConfig, new Rng(0)));
        Attention down = sdxl.attentionModules().get("down_blocks.1.attentions.1.transformer_blocks.1.attn2");
        assertEquals(10, down.heads);
        assertEquals(64, down.headDim);
        Attention up = sdxl.attentionModules().get("up_blocks.0.attentions.2.transformer_blocks.9.attn1");
        assertEquals(20, up.heads); // the decoder takes the head counts reversed
        assertEquals(64, up.headDim);
        assertEquals(2 * (2 * 2 + 2 * 10 + 3 * 10 + 3 * 2 + 10), sdxl.attentionModules().size());
    }

    private static UNet2DConditionConfig load(String name) throws IOException {
        return UNet2DConditionConfig.load(UNetManifestTest.resource(name));
    }

    @Test
    void attentionMapSwitches() {
        UNet2DModel unet = new UNet2DModel(UNet2DConfig.parse("{\"block_out_channels\": [8, 16], \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"],"
                + " \"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"layers_per_block\": 1, \"norm_num_groups\": 4, \"attention_head_dim\": 4,"
                + " \"in_channels\": 1, \"out_channels\": 1}"), new Rng(5));
        Map<String, Attention> all = unet.attentionModules();
        assertEquals(List.of("down_blocks.1.attentions.0", "up_blocks.0.attentions.0", "up_blocks.0.attentions.1", "mid_block.attentions.0"),
                List.copyOf(all.keySet()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> unet.keepAttentionMaps(List.of("mid_block.attentions.9")));
        assertTrue(e.getMessage().contains("mid_block.attentions.0"), e.getMessage());

        unet.keepAttentionMaps(p -> p.startsWith("mid_block"));
        Variable x = Variable.constant(Tensor.randn(new Rng(1), DType.F32, 2, 1, 8, 8));
        Variable y = unet.forward(x, Tensor.scalar(3, DType.I64));
        Map<String, Variable> maps = unet.attentionMaps();
        assertEquals(List.of("mid_block.attentions.0"), List.copyOf(maps.keySet()));
        assertArrayEquals(new int[]{2, 4, 16, 16}, maps.get("mid_block.attentions.0").shape()); // 16 channels / head dim 4, 4x4 tokens

        // As a sampler's denoiser: the same prediction for the same timestep.
        assertClose(y.value(), unet.asDenoiser(null).predict(x.value(), 3.0), 0, 0, "asDenoiser");

        unet.keepAttentionMaps(List.of());
        assertTrue(unet.attentionMaps().isEmpty());
        assertNull(all.get("mid_block.attentions.0").lastAttentionMap());
    }
}
