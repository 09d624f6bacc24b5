package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.distillery.tensor.backend.cpu.VectorInfo.F;

/**
 * Backward kernels of the CPU backend: {@code gradOut * op'(x)} for the elementwise ops in one pass, and
 * scatter-add (the adjoint of gather, index_select, max pooling and padding).
 */
final class Gradients {
    private Gradients() {}

    private static final int L = F.length();
    private static final FloatVector ONE = FloatVector.broadcast(F, 1f), HALF = FloatVector.broadcast(F, 0.5f);
    private static final FloatVector INV_SQRT2 = FloatVector.broadcast(F, 0.70710678118654752f);
    private static final FloatVector INV_SQRT_2PI = FloatVector.broadcast(F, 0.3989422804014327f);
    private static final FloatVector GELU_K = FloatVector.broadcast(F, 0.7978845608028654f), GELU_C = FloatVector.broadcast(F, 0.044715f);
    private static final FloatVector GELU_3C = FloatVector.broadcast(F, 3 * 0.044715f);

    static Tensor unaryBackward(UnaryOp op, Tensor x, Tensor g, double p0, double p1) {
        Tensor xc = x.contiguous(), gc = g.contiguous();
        int n = x.numel();
        Tensor out = Elementwise.allocUninitialized(x.dtype(), x.shape());
        if (n == 0) return out;
        if (x.dtype() == DType.F32) {
            float[] xs = StridedIter.f32(xc), gs = StridedIter.f32(gc), ys = StridedIter.f32(out);
            int xo = xc.offset(), go = gc.offset();
            boolean vector = vectorized(op);
            Parallel.forRange((n + L - 1) / L, Elementwise.GRAIN / L, (a, b) -> {
                int s = a * L, e = Math.min(n, b * L), i = s;
                if (vector)
                    for (int ub = s + F.loopBound(e - s); i < ub; i += L) {
                        FloatVector xv = FloatVector.fromArray(F, xs, xo + i);
                        derivative(op, xv, (float) p0, (float) p1).mul(FloatVector.fromArray(F, gs, go + i)).intoArray(ys, i);
                    }
                for (; i < e; i++) ys[i] = (float) (gs[go + i] * ReferenceBackend.unaryDerivative(op, xs[xo + i], p0, p1));
            });
        } else {
            double[] xs = StridedIter.f64(xc), gs = StridedIter.f64(gc), ys = StridedIter.f64(out);
            int xo = xc.offset(), go = gc.offset();
            Parallel.forRange(n, Elementwise.GRAIN, (a, b) -> {
                for (int i = a; i < b; i++) ys[i] = gs[go + i] * ReferenceBackend.unaryDerivative(op, xs[xo + i], p0, p1);
            });
        }
        return out;
    }

    private static boolean vectorized(UnaryOp op) {
        return switch (op) {
            case SILU, SIGMOID, TANH, EXP, GELU_TANH, GELU_ERF, RELU, LEAKY_RELU, CLAMP, MUL_SCALAR, ADD_SCALAR, NEG, RSUB_SCALAR, SQUARE -> true;
            default -> false;
        };
    }

    /** op'(x) in float vectors, for the ops {@link #vectorized} lists (same formulas as the reference). */
    private static FloatVector derivative(UnaryOp op, FloatVector x, float p0, float p1) {
        return switch (op) {
            case SILU -> {
                FloatVector s = VMath.sigmoid(x);
                yield s.mul(ONE.add(x.mul(ONE.sub(s))));
            }
            case SIGMOID -> {
                FloatVector s = VMath.sigmoid(x);
                yield s.mul(ONE.sub(s));
            }
            case TANH -> {
                FloatVector t = VMath.tanh(x);
                yield ONE.sub(t.mul(t));
            }
            case EXP -> VMath.exp(x);
            case GELU_TANH -> {
                // With t = tanh(u) = 2s - 1, s = sigmoid(2u): 0.5 (1 + t) = s and 0.5 (1 - t^2) = 2 s (1 - s), which
                // keeps precision where t is near -1: d = s + 2 x s (1 - s) k (1 + 3c x^2).
                FloatVector x2 = x.mul(x);
                FloatVector s = VMath.sigmoid(x.mul(GELU_K).mul(x2.fma(GELU_C, ONE)).mul(2f));
                yield s.add(x.mul(s).mul(ONE.sub(s)).mul(GELU_K).mul(x2.fma(GELU_3C, ONE)).mul(2f));
            }
            case GELU_ERF -> {
                FloatVector h = VMath.erfcPos(x.mul(INV_SQRT2).abs()).mul(HALF); // Phi(-|x|)
                FloatVector cdf = h.blend(ONE.sub(h), x.compare(VectorOperators.GT, 0f));
                FloatVector pdf = VMath.exp(x.mul(x).mul(-0.5f)).mul(INV_SQRT_2PI);
                yield cdf.add(x.mul(pdf));
            }
            case RELU -> ONE.blend(0f, x.compare(VectorOperators.GT, 0f).not());
            case LEAKY_RELU -> ONE.blend(p0, x.compare(VectorOperators.GT, 0f).not());
            case CLAMP -> {
                VectorMask<Float> in = x.compare(VectorOperators.GE, p0).and(x.compare(VectorOperators.LE, p1));
                yield FloatVector.zero(F).blend(ONE, in);
            }
            case MUL_SCALAR -> FloatVector.broadcast(F, p0);
            case ADD_SCALAR -> ONE;
            case NEG, RSUB_SCALAR -> ONE.neg();
            case SQUARE -> x.add(x);
            default -> throw new AssertionError(op);
        };
    }

    /** out[.., index[.., j, ..], ..] += src[.., j, ..] into zeros of {@code outShape}; index I64 of src's shape. */
    static Tensor scatterAdd(Tensor index, Tensor src, int dim, int[] outShape) {
        Tensor sc = src.contiguous(), ic = index.contiguous();
        int[] s = sc.shape();
        int outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= s[i];
        for (int i = dim + 1; i < s.length; i++) inner *= s[i];
        int len = s[dim], outLen = outShape[dim];
        Tensor out = Elementwise.alloc(src.dtype(), outShape);
        if (sc.numel() == 0) return out;
        long[] idx = ((Storage.LongStorage) ic.storage()).data();
        int io = ic.offset(), so = sc.offset();
        final int fOuter = outer, fInner = inner;
        // Each output element is accumulated by one task in a fixed order: deterministic for any thread count.
        boolean byOuter = outer >= Parallel.threads();
        int tasks = byOuter ? outer : inner;
        if (src.dtype() == DType.F32) {
            float[] x = StridedIter.f32(sc), y = StridedIter.f32(out);
            Parallel.forRange(tasks, byOuter ? 1 : 1024, (a, b) -> {
                int o0 = byOuter ? a : 0, o1 = byOuter ? b : fOuter, k0 = byOuter ? 0 : a, k1 = byOuter ? fInner : b;
                for (int o = o0; o < o1; o++)
                    for (int j = 0; j < len; j++) {
                        int base = (o * len + j) * fInner;
                        for (int k = k0; k < k1; k++) y[(o * outLen + (int) idx[io + base + k]) * fInner + k] += x[so + base + k];
                    }
            });
        } else if (src.dtype() == DType.F64) {
            double[] x = StridedIter.f64(sc), y = StridedIter.f64(out);
            Parallel.forRange(tasks, byOuter ? 1 : 1024, (a, b) -> {
                int o0 = byOuter ? a : 0, o1 = byOuter ? b : fOuter, k0 = byOuter ? 0 : a, k1 = byOuter ? fInner : b;
                for (int o = o0; o < o1; o++)
                    for (int j = 0; j < len; j++) {
                        int base = (o * len + j) * fInner;
                        for (int k = k0; k < k1; k++) y[(o * outLen + (int) idx[io + base + k]) * fInner + k] += x[so + base + k];
                    }
            });
        } else {
            return ReferenceBackend.INSTANCE.scatterAdd(index, src, dim, outShape);
        }
        assert Shapes.numel(outShape) == out.numel();
        return out;
    }
}
