package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small random-weight UNets against diffusers 0.25.1 on torch 1.13 (fixtures: src/test/resources/unet/gen_parity.py):
 * the diffusers weights load with loadStateDict(strict=true), and the forward output, the gradients of a few
 * parameters and of the inputs under loss = sum(out * R), and a kept cross-attention map match. All in F32. Tolerance:
 * |ours - diffusers| <= 1e-4 * max|diffusers| + 1e-4 * |diffusers| for each compared tensor (F32 sums over
 * hundreds of terms in another order, through a dozen normalisations).
 */
class UNetParityTest {
    private static final double RTOL = 1e-4, SCALED_ATOL = 1e-4;

    private static Map<String, Tensor> fixture(String cse) throws IOException {
        return Safetensors.read(UNetManifestTest.resource("parity_" + cse + ".safetensors"));
    }

    private static Tensor fx(Map<String, Tensor> fx, String key) {
        Tensor t = fx.get(key);
        assertNotNull(t, "fixture key " + key);
        return t;
    }

    /** Loads the fixture's w.* weights strictly. */
    private static void load(Module model, Map<String, Tensor> fx) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        fx.forEach((k, v) -> {
            if (k.startsWith("w.")) weights.put(k.substring(2), v);
        });
        assertTrue(model.loadStateDict(weights, true).isClean());
    }

    static void close(Tensor expected, Tensor actual, String what) {
        double max = 0;
        for (double v : expected.toDoubleArray()) max = Math.max(max, Math.abs(v));
        assertClose(expected, actual, RTOL, SCALED_ATOL * max, what);
    }

    /** Backward of sum(out * R), then the output and the gradients against the fixture. */
    private static void checkOutputAndGradients(Module model, Variable out, Map<String, Tensor> fx, Map<String, Variable> inputs, String cse) {
        close(fx(fx, "out"), out.value(), cse + " output");
        out.mul(Variable.constant(fx(fx, "loss.r"))).sum().backward();
        Map<String, Parameter> params = model.namedParameters();
        int grads = 0;
        for (String k : fx.keySet()) {
            if (k.startsWith("grad.")) {
                String name = k.substring(5);
                assertNotNull(params.get(name), "parameter " + name);
                assertNotNull(params.get(name).grad(), "gradient of " + name);
                close(fx.get(k), params.get(name).grad(), cse + " gradient of " + name);
                grads++;
            } else if (k.startsWith("gin.")) {
                String name = k.substring(4);
                close(fx.get(k), inputs.get(name).grad(), cse + " gradient of input " + name);
                grads++;
            }
        }
        assertTrue(grads >= 3, cse + ": compared only " + grads + " gradients");
    }

    @Test
    void unet2dClassConditionalMatchesDiffusers() throws IOException {
        Map<String, Tensor> fx = fixture("unet2d_class");
        UNet2DModel unet = new UNet2DModel(UNet2DConfig.load(UNetManifestTest.resource("tiny_unet2d_class.json")), new Rng(1));
        unet.eval();
        load(unet, fx);
        Variable sample = Variable.leaf(fx(fx, "in.sample"));
        Variable out = unet.forward(sample, fx(fx, "in.timesteps"), fx(fx, "in.class_labels"));
        checkOutputAndGradients(unet, out, fx, Map.of("sample", sample), "UNet2DModel");
    }

    @Test
    void unet2dConditionSdLayoutMatchesDiffusers() throws IOException {
        Map<String, Tensor> fx = fixture("unet_cond_sd");
        UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.load(UNetManifestTest.resource("tiny_unet_cond_sd.json")), new Rng(2));
        unet.eval();
        load(unet, fx);
        List<String> mapped = List.of("down_blocks.0.attentions.0.transformer_blocks.0.attn2", "mid_block.attentions.0.transformer_blocks.0.attn1");
        unet.keepAttentionMaps(mapped);
        Variable sample = Variable.leaf(fx(fx, "in.sample"));
        Variable context = Variable.leaf(fx(fx, "in.encoder_hidden_states"));
        Variable out = unet.forward(sample, fx(fx, "in.timesteps"), context);
        Map<String, Variable> maps = unet.attentionMaps();
        assertEquals(mapped, List.copyOf(maps.keySet()));
        // The cross-attention map against diffusers' probabilities; the self-attention map by its shape and rows.
        close(fx(fx, "map." + mapped.get(0)), maps.get(mapped.get(0)).value(), "attention map " + mapped.get(0));
        Tensor self = maps.get(mapped.get(1)).value();
        assertArrayEquals(new int[]{2, 2, 64, 64}, self.shape(), "mid self-attention map [B, heads, HW, HW]");
        assertClose(Tensor.ones(DType.F32, 2, 2, 64), self.sum(-1), 0, 1e-5, "mid self-attention rows sum to 1");
        checkOutputAndGradients(unet, out, fx, Map.of("sample", sample, "encoder_hidden_states", context), "UNet2DConditionModel (SD layout)");
    }

    @Test
    void unet2dConditionSdxlLayoutMatchesDiffusers() throws IOException {
        Map<String, Tensor> fx = fixture("unet_cond_sdxl");
        UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.load(UNetManifestTest.resource("tiny_unet_cond_sdxl.json")), new Rng(3));
        unet.eval();
        load(unet, fx);
        Variable sample = Variable.leaf(fx(fx, "in.sample"));
        Variable context = Variable.leaf(fx(fx, "in.encoder_hidden_states"));
        Variable textEmbeds = Variable.leaf(fx(fx, "in.text_embeds"));
        Variable out = unet.forward(sample, fx(fx, "in.timesteps"), context,
                UNet2DConditionModel.Conditions.sdxl(textEmbeds, fx(fx, "in.time_ids")));
        assertEquals(DType.F32, out.dtype());
        checkOutputAndGradients(unet, out, fx, Map.of("sample", sample, "encoder_hidden_states", context, "text_embeds", textEmbeds),
                "UNet2DConditionModel (SDXL layout)");
    }
}
