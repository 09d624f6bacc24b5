package dev.distillery.tensor.backend;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The oracle's semantics on small cases computed by hand (PyTorch conventions), independent of the golden
 * fixtures. Runs through the front end with the reference backend in scope.
 */
class ReferenceBackendTest {
    private static <T> T ref(java.util.function.Supplier<T> body) {
        return Backends.using(ReferenceBackend.INSTANCE, body);
    }

    private static Tensor f(float[] v, int... shape) {
        return Tensor.of(v, shape);
    }

    @Test
    void reductionsOverDims() {
        Tensor x = f(new float[]{1, 5, 3, 4, 2, 6}, 2, 3);
        assertArrayEquals(new float[]{9, 12}, ref(() -> x.sum(1)).toFloatArray());
        assertArrayEquals(new float[]{5, 7, 9}, ref(() -> x.sum(0)).toFloatArray());
        assertEquals(21, ref(() -> x.sum()).item());
        assertArrayEquals(new int[]{2, 1}, ref(() -> x.mean(new int[]{1}, true)).shape());
        assertArrayEquals(new float[]{5, 6}, ref(() -> x.max(1)).toFloatArray());
        assertArrayEquals(new long[]{1, 2}, ref(() -> x.argmax(1, false)).toLongArray());
        assertArrayEquals(new long[]{0, 1, 0}, ref(() -> x.argmin(0, false)).toLongArray());
        // Unbiased variance of {1,5,3} = 4; population = 8/3.
        assertEquals(4, ref(() -> x.var(new int[]{1}, 1, false)).get(0), 1e-6);
        assertEquals(8.0 / 3, ref(() -> x.var(new int[]{1}, 0, false)).get(0), 1e-6);
        assertEquals(Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), ref(() -> x.logsumexp(new int[]{1}, false)).get(0), 1e-5);
    }

    @Test
    void maxPropagatesNaN() {
        Tensor x = f(new float[]{1, Float.NaN, 3}, 3);
        assertTrue(Double.isNaN(ref(() -> x.max()).item()));
        assertEquals(1, ref(() -> x.argmax(0, false)).item());
    }

    @Test
    void conv2dSmallCase() {
        // 1x1x3x3 input 1..9, 2x2 kernel of ones, stride 1, no pad: window sums.
        Tensor x = Tensor.arange(1, 10, 1, DType.F32).view(1, 1, 3, 3);
        Tensor w = Tensor.ones(DType.F32, 1, 1, 2, 2);
        assertArrayEquals(new float[]{12, 16, 24, 28}, ref(() -> x.conv2d(w, null, Conv2dParams.of(1, 0))).toFloatArray());
        // Padding 1, stride 2: corners of the padded sums.
        assertArrayEquals(new float[]{1, 5, 11, 28}, ref(() -> x.conv2d(w, null, Conv2dParams.of(2, 1))).toFloatArray());
        // Bias and two groups: each output channel sees its own input channel.
        Tensor x2 = Tensor.concat(List.of(x, x.mul(10)), 1);
        Tensor wg = Tensor.ones(DType.F32, 2, 1, 1, 1);
        Tensor y = ref(() -> x2.conv2d(wg, f(new float[]{0.5f, -1}, 2), Conv2dParams.of(1, 0, 1, 2)));
        assertEquals(1.5, y.get(0, 0, 0, 0));
        assertEquals(89, y.get(0, 1, 2, 2));
    }

    @Test
    void convTransposeIsAdjointOfConv() {
        // <conv(x), y> == <x, convT(y)> for the same weight.
        Tensor x = Tensor.randn(new dev.distillery.tensor.Rng(1), DType.F64, 2, 4, 7, 6);
        Tensor w = Tensor.randn(new dev.distillery.tensor.Rng(2), DType.F64, 6, 2, 3, 2);
        Conv2dParams p = new Conv2dParams(2, 1, 1, 0, 1, 2, 2, 0, 0);
        Tensor cx = ref(() -> x.conv2d(w, null, p));
        Tensor y = Tensor.randn(new dev.distillery.tensor.Rng(3), DType.F64, cx.shape());
        Tensor ty = ref(() -> ReferenceBackend.INSTANCE.conv2dBackwardInput(y, w, x.shape(), p));
        double lhs = ref(() -> cx.mul(y).sum()).item(), rhs = ref(() -> x.mul(ty).sum()).item();
        assertEquals(lhs, rhs, 1e-9 * Math.abs(lhs) + 1e-9);
        // And the weight gradient: <conv(x; w), y> is linear in w with gradient conv2dBackwardWeight(y, x).
        Tensor gw = ref(() -> ReferenceBackend.INSTANCE.conv2dBackwardWeight(y, x, w.shape(), p));
        assertEquals(lhs, ref(() -> gw.mul(w).sum()).item(), 1e-9 * Math.abs(lhs) + 1e-9);
    }

    @Test
    void poolsAndUpsampling() {
        Tensor x = Tensor.arange(16, DType.F32).view(1, 1, 4, 4);
        assertArrayEquals(new float[]{2.5f, 4.5f, 10.5f, 12.5f}, ref(() -> x.avgPool2d(Pool2dParams.of(2, 2, 0))).toFloatArray());
        ValuesIndices m = ref(() -> x.maxPool2d(Pool2dParams.of(2, 2, 0)));
        assertArrayEquals(new float[]{5, 7, 13, 15}, m.values().toFloatArray());
        assertArrayEquals(new long[]{5, 7, 13, 15}, m.indices().toLongArray());
        Tensor small = f(new float[]{1, 2, 3, 4}, 1, 1, 2, 2);
        assertArrayEquals(new float[]{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, ref(() -> small.upsampleNearest(4, 4)).toFloatArray());
        // Bilinear, align_corners=False, 2 -> 4 along a row [1, 2]: [1, 1.25, 1.75, 2].
        Tensor row = f(new float[]{1, 2}, 1, 1, 1, 2);
        assertArrayEquals(new float[]{1, 1.25f, 1.75f, 2}, ref(() -> row.upsampleBilinear(1, 4, false)).toFloatArray(), 1e-6f);
        // align_corners=True, 2 -> 3: [1, 1.5, 2].
        assertArrayEquals(new float[]{1, 1.5f, 2}, ref(() -> row.upsampleBilinear(1, 3, true)).toFloatArray(), 1e-6f);
    }

    @Test
    void softmaxAndNorms() {
        Tensor x = f(new float[]{1, 2, 3, 1, 1, 1}, 2, 3);
        Tensor s = ref(() -> x.softmax(1));
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(3) / z, s.get(0, 2), 1e-6);
        assertEquals(1.0 / 3, s.get(1, 0), 1e-6);
        assertEquals(Math.log(Math.exp(1) / z), ref(() -> x.logSoftmax(-1)).get(0, 0), 1e-6);
        // Softmax along dim 0 of a non-contiguous view.
        Tensor t = x.mT();
        assertEquals(Math.exp(2) / (Math.exp(2) + Math.exp(1)), ref(() -> t.softmax(1)).get(1, 0), 1e-6);

        NormResult ln = ref(() -> x.layerNorm(new int[]{3}, f(new float[]{1, 1, 2}, 3), f(new float[]{0, 0, 1}, 3), 0));
        double sd = Math.sqrt(2.0 / 3);
        assertEquals(-1 / sd, ln.output().get(0, 0), 1e-5);
        assertEquals(2 / sd + 1, ln.output().get(0, 2), 1e-5);
        assertEquals(2, ln.mean().get(0), 1e-6);
        assertEquals(1 / sd, ln.rstd().get(0), 1e-5);

        Tensor g = Tensor.arange(8, DType.F32).view(1, 4, 2);
        NormResult gn = ref(() -> g.groupNorm(2, null, null, 0));
        // Group 0 = {0,1,2,3}: mean 1.5, var 1.25.
        assertEquals((0 - 1.5) / Math.sqrt(1.25), gn.output().get(0, 0, 0), 1e-5);
        assertEquals(5.5, gn.mean().get(0, 1), 1e-6);
    }

    @Test
    void indexingAndPadding() {
        Tensor x = Tensor.arange(6, DType.F32).view(2, 3);
        assertArrayEquals(new float[]{2, 0, 5, 3}, ref(() -> x.indexSelect(1, Tensor.ofLongs(new long[]{2, 0}, 2))).toFloatArray());
        assertArrayEquals(new float[]{1, 1, 5, 3}, ref(() -> x.gather(1, Tensor.ofLongs(new long[]{1, 1, 2, 0}, 2, 2))).toFloatArray());
        Tensor e = ref(() -> Tensor.embedding(x, Tensor.ofLongs(new long[]{1, 0, 1}, 3, 1)));
        assertArrayEquals(new int[]{3, 1, 3}, e.shape());
        assertEquals(5, e.get(2, 0, 2));
        Tensor r = f(new float[]{1, 2, 3}, 1, 3);
        assertArrayEquals(new float[]{3, 2, 1, 2, 3, 2}, ref(() -> r.pad(new int[]{2, 1}, PadMode.REFLECT, 0)).toFloatArray());
        assertArrayEquals(new float[]{1, 1, 2, 3, 3, 3}, ref(() -> r.pad(new int[]{1, 2}, PadMode.REPLICATE, 0)).toFloatArray());
        assertArrayEquals(new float[]{9, 9, 9, 9, 9, 9, 1, 2, 3, 9}, ref(() -> r.pad(new int[]{1, 1, 1, 0}, PadMode.CONSTANT, 9).flatten()).toFloatArray());
    }

    @Test
    void elementwiseDefinitions() {
        assertEquals(0.8413447460685429, ReferenceBackend.unary(UnaryOp.GELU_ERF, 1, 0, 0), 1e-15);
        assertEquals(1 / (1 + Math.exp(-2.0)) * 2, ReferenceBackend.unary(UnaryOp.SILU, 2, 0, 0), 1e-15);
        assertEquals(0.8411919906082768, ReferenceBackend.unary(UnaryOp.GELU_TANH, 1, 0, 0), 1e-15);
        assertTrue(Double.isNaN(ReferenceBackend.unary(UnaryOp.RELU, Double.NaN, 0, 0)));
        assertTrue(Double.isNaN(ReferenceBackend.binary(BinaryOp.MAXIMUM, 1, Double.NaN)));
        Tensor c = ref(() -> Tensor.where(f(new float[]{1, 5}, 2).gt(2), f(new float[]{10, 20}, 2), f(new float[]{-1, -2}, 2)));
        assertArrayEquals(new float[]{-1, 20}, c.toFloatArray());
        assertArrayEquals(new float[]{0, 1, 2}, ref(() -> f(new float[]{-5, 1, 7}, 3).clamp(0, 2)).toFloatArray());
    }
}
