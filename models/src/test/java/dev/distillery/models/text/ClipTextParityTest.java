package dev.distillery.models.text;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiny random-weight CLIP text encoders against transformers 5.18 (eager attention, float32), fixtures from
 * {@code /clip/gen_clip_reference.py}: every hidden state, the last (final-normed) state, the pooled output (argmax
 * pooling and first-EOS pooling), the projection, and parameter gradients of a fixed linear functional.
 */
class ClipTextParityTest {
    static final double RTOL = 1e-4, ATOL = 1e-4;

    private static double maxAbsDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    private static void close(Tensor expected, Variable actual, String what) {
        System.out.printf("[clip parity] %-60s max |diff| %.2e%n", what, maxAbsDiff(expected, actual.value()));
        assertClose(expected, actual.value(), RTOL, ATOL, what);
    }

    @Test
    void textModelMatchesTransformersWithArgmaxPooling() {
        ClipTextConfig config = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-text.config.json"));
        Map<String, Tensor> io = ClipTextFixtures.safetensors("/clip/tiny-clip-text-io.safetensors");
        ClipTextModel model = new ClipTextModel(config, new Rng(7));
        model.loadStateDict(ClipTextFixtures.safetensors("/clip/tiny-clip-text.safetensors"), true);
        Tensor ids = io.get("input_ids");
        ClipTextOutput out = model.forward(ids);

        assertArrayEquals(new long[]{4, 7}, out.poolPositions(), "argmax of each row");
        assertEquals(config.numHiddenLayers() + 1, out.hiddenStates().size());
        for (int i = 0; i < out.hiddenStates().size(); i++) close(io.get("hidden_states." + i), out.hiddenState(i), "tiny-clip-text hidden_states[" + i + "]");
        close(io.get("hidden_states.1"), out.penultimateHiddenState(), "tiny-clip-text penultimate");
        close(io.get("last_hidden_state"), out.lastHiddenState(), "tiny-clip-text last_hidden_state");
        close(io.get("pooler_output"), out.pooledOutput(), "tiny-clip-text pooler_output");

        Variable loss = out.lastHiddenState().mul(Variable.constant(io.get("g_last"))).sum()
                .add(out.pooledOutput().mul(Variable.constant(io.get("g_pooled"))).sum())
                .add(out.penultimateHiddenState().mul(Variable.constant(io.get("g_penult"))).sum());
        assertClose(io.get("loss").reshape(), loss.value(), 1e-4, 1e-3, "loss");
        loss.backward();
        Map<String, Parameter> params = model.namedParameters();
        int checked = 0;
        for (String k : io.keySet()) {
            if (!k.startsWith("grad.")) continue;
            String name = k.substring(5);
            Parameter p = params.get(name);
            assertTrue(p != null && p.grad() != null, "gradient of " + name);
            System.out.printf("[clip parity] %-60s max |diff| %.2e%n", "grad " + name, maxAbsDiff(io.get(k), p.grad()));
            assertClose(io.get(k), p.grad(), RTOL, 2 * ATOL, "grad " + name);
            checked++;
        }
        assertEquals(7, checked);
    }

    @Test
    void withProjectionMatchesTransformersWithFirstEosPooling() {
        ClipTextConfig config = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-proj.config.json"));
        Map<String, Tensor> io = ClipTextFixtures.safetensors("/clip/tiny-clip-proj-io.safetensors");
        ClipTextModelWithProjection model = new ClipTextModelWithProjection(config, new Rng(7));
        model.loadStateDict(ClipTextFixtures.safetensors("/clip/tiny-clip-proj.safetensors"), true);
        ClipTextOutput out;
        try (var ignored = NoGrad.enter()) {
            out = model.forward(io.get("input_ids"));
        }
        assertArrayEquals(new long[]{3, 4}, out.poolPositions(), "first eos_token_id (98), not argmax (99 at position 1)");
        for (int i = 0; i < out.hiddenStates().size(); i++) close(io.get("hidden_states." + i), out.hiddenState(i), "tiny-clip-proj hidden_states[" + i + "]");
        close(io.get("last_hidden_state"), out.lastHiddenState(), "tiny-clip-proj last_hidden_state");
        close(io.get("pooler_output"), out.pooledOutput(), "tiny-clip-proj pooler_output");
        close(io.get("text_embeds"), out.textEmbeds(), "tiny-clip-proj text_embeds");
    }

    @Test
    void loadsTransformers5NamesAndDropsLegacyPositionIds() {
        ClipTextConfig config = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-text.config.json"));
        Map<String, Tensor> state = ClipTextFixtures.safetensors("/clip/tiny-clip-text.safetensors");
        Map<String, Tensor> v5 = new LinkedHashMap<>();
        state.forEach((k, v) -> v5.put(k.substring("text_model.".length()), v));
        v5.put("embeddings.position_ids", Tensor.arange(16, DType.I64).reshape(1, 16));
        ClipTextModel model = new ClipTextModel(config, new Rng(3));
        assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(v5, true), "raw v5 names do not match");
        assertTrue(model.loadCheckpoint(v5, true).isClean());
        Map<String, Tensor> io = ClipTextFixtures.safetensors("/clip/tiny-clip-text-io.safetensors");
        try (var ignored = NoGrad.enter()) {
            assertClose(io.get("last_hidden_state"), model.forward(io.get("input_ids")).lastHiddenState().value(), RTOL, ATOL, "after v5-name load");
        }
    }

    @Test
    void attentionIsCausalAndInputsAreChecked() {
        ClipTextConfig config = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-text.config.json"));
        ClipTextModel model = new ClipTextModel(config, new Rng(11));
        try (var ignored = NoGrad.enter()) {
            Tensor a = Tensor.ofLongs(new long[]{98, 10, 20, 30, 99}, 5), b = Tensor.ofLongs(new long[]{98, 10, 20, 31, 99}, 5);
            Tensor ha = model.forward(a).lastHiddenState().value(), hb = model.forward(b).lastHiddenState().value();
            assertClose(ha.narrow(1, 0, 3), hb.narrow(1, 0, 3), 0, 0, "positions before the changed token");
            assertTrue(maxAbsDiff(ha.narrow(1, 3, 2), hb.narrow(1, 3, 2)) > 1e-4, "positions from the changed token on differ");
        }
        assertThrows(IllegalArgumentException.class, () -> model.forward(Tensor.ofLongs(new long[17], 1, 17)), "longer than max positions");
        assertThrows(IllegalArgumentException.class, () -> model.forward(Tensor.ofLongs(new long[]{1, 100}, 1, 2)), "id outside the vocabulary");
        assertThrows(IllegalArgumentException.class, () -> model.forward(Tensor.of(new float[]{1, 2}, 1, 2)), "float ids");
    }

    @Test
    void poolingFollowsTransformers() {
        Tensor ids = Tensor.ofLongs(new long[]{5, 9, 9, 3, /**/ 1, 2, 3, 4, /**/ 7, 7, 7, 7}, 3, 4);
        assertArrayEquals(new long[]{1, 3, 0}, ClipTextTransformer.poolPositions(ids, ClipTextConfig.defaults().withTokenIds(0, 2, 1)),
                "legacy: first maximum");
        assertArrayEquals(new long[]{1, 0, 0}, ClipTextTransformer.poolPositions(ids, ClipTextConfig.defaults().withTokenIds(0, 9, 1)),
                "first EOS, 0 when a row has none");
    }
}
