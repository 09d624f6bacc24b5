package dev.distillery.tensor.golden;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.ValuesIndices;
import dev.distillery.tensor.testing.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every forward op against PyTorch 1.13 outputs (fixtures: src/test/resources/golden/gen_ops_forward.py), on both the
 * reference and the default CPU backend. F32 tolerance: rtol 1e-5, atol 1e-5 unless a case states otherwise.
 */
class OpsForwardGoldenTest {
    /** Case name to the op replayed on its inputs (in0, in1, ...), keeping the generator's parameters. */
    static final Map<String, Function<Tensor[], Tensor>> CASES = new LinkedHashMap<>();

    static {
        CASES.put("unary_neg", in -> in[0].neg());
        CASES.put("unary_exp", in -> in[0].exp());
        CASES.put("unary_log", in -> in[0].log());
        CASES.put("unary_sqrt", in -> in[0].sqrt());
        CASES.put("unary_rsqrt", in -> in[0].rsqrt());
        CASES.put("unary_abs", in -> in[0].abs());
        CASES.put("unary_tanh", in -> in[0].tanh());
        CASES.put("unary_sigmoid", in -> in[0].sigmoid());
        CASES.put("unary_silu", in -> in[0].silu());
        CASES.put("unary_gelu", in -> in[0].gelu());
        CASES.put("unary_gelu_tanh", in -> in[0].geluTanh());
        CASES.put("unary_relu", in -> in[0].relu());
        CASES.put("unary_square", in -> in[0].square());
        CASES.put("unary_sin", in -> in[0].sin());
        CASES.put("unary_cos", in -> in[0].cos());
        CASES.put("unary_reciprocal", in -> in[0].reciprocal());
        CASES.put("unary_pow_scalar", in -> in[0].pow(2.5));
        CASES.put("unary_clamp", in -> in[0].clamp(-0.5, 0.7));
        CASES.put("unary_leaky_relu", in -> in[0].leakyRelu(0.1));
        CASES.put("unary_sign", in -> in[0].sign());
        CASES.put("binary_add", in -> in[0].add(in[1]));
        CASES.put("binary_sub", in -> in[0].sub(in[1]));
        CASES.put("binary_mul", in -> in[0].mul(in[1]));
        CASES.put("binary_div", in -> in[0].div(in[1]));
        CASES.put("binary_pow", in -> in[0].pow(in[1]));
        CASES.put("binary_maximum", in -> in[0].maximum(in[1]));
        CASES.put("binary_minimum", in -> in[0].minimum(in[1]));
        CASES.put("where", in -> Tensor.where(in[0].gt(in[1]), in[0], in[1]));
        CASES.put("sum_02_keep", in -> in[0].sum(new int[]{0, 2}, true));
        CASES.put("mean_1", in -> in[0].mean(1));
        CASES.put("max_last", in -> in[0].max(-1));
        CASES.put("min_0", in -> in[0].min(0));
        CASES.put("var_1", in -> in[0].var(new int[]{1}, 1, false));
        CASES.put("logsumexp_2", in -> in[0].logsumexp(new int[]{2}, false));
        CASES.put("argmax_1", in -> in[0].argmax(1, false));
        CASES.put("matmul_batched", in -> in[0].matmul(in[1]));
        CASES.put("matmul_transposed", in -> in[0].mT().matmul(in[1].mT()));
        CASES.put("conv2d", in -> in[0].conv2d(in[1], in[2], new Conv2dParams(2, 1, 1, 2, 1, 2, 2, 0, 0)));
        CASES.put("conv_transpose2d", in -> in[0].convTranspose2d(in[1], in[2], Conv2dParams.of(2, 1).withOutputPadding(1, 1)));
        CASES.put("avg_pool2d", in -> in[0].avgPool2d(Pool2dParams.of(3, 2, 1)));
        CASES.put("max_pool2d", in -> in[0].maxPool2d(Pool2dParams.of(3, 2, 1)).values());
        CASES.put("nearest", in -> in[0].upsampleNearest(9, 4));
        CASES.put("bilinear", in -> in[0].upsampleBilinear(8, 11, false));
        CASES.put("bilinear_ac", in -> in[0].upsampleBilinear(3, 5, true));
        CASES.put("softmax_1", in -> in[0].softmax(1));
        CASES.put("log_softmax_last", in -> in[0].logSoftmax(-1));
        CASES.put("layer_norm", in -> in[0].layerNorm(new int[]{3, 5}, in[1], in[2], 1e-5).output());
        CASES.put("group_norm", in -> in[0].groupNorm(3, in[1], in[2], 1e-5).output());
        CASES.put("pad_reflect", in -> in[0].pad(new int[]{2, 1, 1, 2}, PadMode.REFLECT, 0));
        CASES.put("pad_replicate", in -> in[0].pad(new int[]{2, 1, 1, 2}, PadMode.REPLICATE, 0));
        CASES.put("pad_constant", in -> in[0].pad(new int[]{2, 1, 1, 2}, PadMode.CONSTANT, 0.5));
        CASES.put("gather_1", in -> in[0].gather(1, in[1]));
        CASES.put("index_select_0", in -> in[0].indexSelect(0, in[1]));
    }

    static Stream<Arguments> cases() {
        return Stream.of("reference", "cpu").flatMap(b -> CASES.keySet().stream().map(c -> Arguments.of(b, c)));
    }

    private static Tensor[] inputs(Map<String, Tensor> fx, String name) {
        int n = 0;
        while (fx.containsKey(name + ".in" + n)) n++;
        Tensor[] in = new Tensor[n];
        for (int i = 0; i < n; i++) in[i] = fx.get(name + ".in" + i);
        return in;
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void matchesPyTorch(String backendName, String name) {
        Map<String, Tensor> fx = Golden.load("ops_forward.safetensors");
        Backend backend = backendName.equals("reference") ? ReferenceBackend.INSTANCE : Backends.cpu();
        Tensor[] in = inputs(fx, name);
        Tensor expected = fx.get(name + ".out");
        Tensor actual = Backends.using(backend, () -> CASES.get(name).apply(in));
        assertEquals(expected.dtype(), actual.dtype(), name + ": dtype");
        // exp/pow results reach ~50, so their float32 rounding needs a relative tolerance.
        assertClose(expected, actual, 1e-5, 1e-5, name + " on " + backendName);
        if (name.equals("max_pool2d")) {
            ValuesIndices vi = Backends.using(backend, () -> in[0].maxPool2d(Pool2dParams.of(3, 2, 1)));
            assertClose(fx.get(name + ".idx"), vi.indices(), 0, 0, "max_pool2d indices on " + backendName);
        }
    }

    @org.junit.jupiter.api.Test
    void everyFixtureCaseIsReplayed() {
        Map<String, Tensor> fx = Golden.load("ops_forward.safetensors");
        for (String key : fx.keySet()) {
            String c = key.substring(0, key.lastIndexOf('.'));
            org.junit.jupiter.api.Assertions.assertTrue(CASES.containsKey(c), "fixture case " + c + " has no replay in this test");
        }
        assertEquals(DType.F32, fx.get("conv2d.out").dtype());
    }
}
