package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.CompareOp;
import dev.distillery.tensor.backend.RandomKind;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise kernels: unary, binary, compare, where, fillRandom.
 *
 * <p>F32 uses {@link FloatVector} loops; for inputs whose innermost coalesced stride is neither 1 nor 0 (a
 * transpose), the input is first copied into the output buffer by the tiled {@link Copy} and the op then runs in
 * place, so nothing but the output is allocated. Binary ops handle the broadcast patterns (each input unit-stride
 * or stride-0 along the innermost run) with vector loops.
 *
 * <p>Accuracy (F32): +, -, *, /, maximum/minimum, compare, where, relu, clamp, abs, sqrt, square, reciprocal and
 * sign are bit-identical to the reference (a float op rounded once equals the double op rounded to float); ops with
 * a scalar parameter (add/mul/rsub scalar, leaky relu) use the scalar rounded to float, as PyTorch does (within
 * an ulp); transcendentals use {@link VMath} (a few ulps; sin, cos and pow with exponents other than 2 are scalar
 * {@link Math} calls, identical to the reference). Scalar tails use {@link ReferenceBackend}'s definitions, and
 * unary work is split on vector boundaries so the same elements take the same path for any thread count. F64 runs
 * scalar loops with the reference's exact formulas.
 */
final class Elementwise {
    private Elementwise() {}

    private static final VectorSpecies<Float> F = VectorInfo.F;
    private static final int L = F.length();
    static final int GRAIN = 1 << 15;

    /** A zero-filled output, for kernels that accumulate into it or leave parts of it untouched. */
    static Tensor alloc(DType dt, int[] shape) {
        return Tensor.of(Storage.allocate(dt, dev.distillery.tensor.Shapes.numel(shape)), shape);
    }

    /**
     * An output with unspecified contents (possibly a recycled array, see {@link dev.distillery.tensor.BufferPool}),
     * for kernels that write every element on every path; it skips the JVM's zeroing pass.
     */
    static Tensor allocUninitialized(DType dt, int[] shape) {
        return Tensor.of(Storage.allocateUninitialized(dt, dev.distillery.tensor.Shapes.numel(shape)), shape);
    }

    // ------------------------------------------------------------------------------------------------ unary

    static Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        Tensor out = allocUninitialized(x.dtype(), x.shape());
        int n = x.numel();
        if (n == 0) return out;
        Tensor src = x;
        if (!x.isContiguous()) {
            Copy.copyInto(x, out);
            src = out;
        }
        int so = src.offset();
        if (x.dtype() == DType.F32) {
            float[] xs = StridedIter.f32(src), ys = StridedIter.f32(out);
            int grain = cheap(op) ? GRAIN * 4 : GRAIN;
            // Chunks are whole vectors, so the same elements take the vector path for any thread count (the scalar
            // tail formula is not bit-identical to the vector one for transcendentals).
            VecKernel k = kernel(op, p0);
            Parallel.forRange((n + L - 1) / L, grain / L, (a, b) -> {
                int s = a * L, e = Math.min(n, b * L);
                unaryF(k, op, xs, so + s, ys, s, e - s, p0, p1);
            });
        } else {
            double[] xs = StridedIter.f64(src), ys = StridedIter.f64(out);
            Parallel.forRange(n, GRAIN, (a, b) -> unaryD(op, xs, so + a, ys, a, b - a, p0, p1));
        }
        return out;
    }

    private static boolean cheap(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, RELU, SQUARE, ADD_SCALAR, MUL_SCALAR, RSUB_SCALAR, CLAMP, LEAKY_RELU, SIGN -> true;
            default -> false;
        };
    }

    /**
     * The vector body of one unary op: processes a prefix of {@code [0, n)} and returns where the scalar tail starts.
     * Kernels are reached through this interface so that C2 compiles each one as its own unit: a dispatcher that
     * inlined several exp-based kernels would exceed C2's inlining node budget, and a vector helper left
     * un-inlined falls back to boxed vectors (orders of magnitude slower).
     */
    @FunctionalInterface
    interface VecKernel {
        int run(float[] x, int xo, float[] y, int yo, int n, float p0, float p1);
    }

    static VecKernel kernel(UnaryOp op, double p0) {
        return switch (op) {
            case NEG -> Elementwise::neg;
            case EXP -> Elementwise::exp;
            case LOG -> Elementwise::log;
            case SQRT -> Elementwise::sqrt;
            case RSQRT -> Elementwise::rsqrt;
            case ABS -> Elementwise::abs;
            case TANH -> Elementwise::tanh;
            case SIGMOID -> Elementwise::sigmoid;
            case SILU -> Elementwise::silu;
            case GELU_TANH -> Elementwise::geluTanh;
            case GELU_ERF -> Elementwise::geluErf;
            case RELU -> Elementwise::relu;
            case SQUARE -> Elementwise::square;
            // sin/cos stay scalar (Math.sin/cos, the reference's own values): they are used on small tensors
            // (timestep embeddings) and the Vector API's versions differ between compiled and interpreted code.
            case SIN, COS -> Elementwise::none;
            case RECIPROCAL -> Elementwise::reciprocal;
            case SIGN -> Elementwise::sign;
            case ADD_SCALAR -> Elementwise::addScalar;
            case MUL_SCALAR -> Elementwise::mulScalar;
            case POW_SCALAR -> p0 == 2 ? Elementwise::square : Elementwise::none;
            case RSUB_SCALAR -> Elementwise::rsubScalar;
            case CLAMP -> Elementwise::clamp;
            case LEAKY_RELU -> Elementwise::leakyRelu;
        };
    }

    /** y[yo..yo+n) = op(x[xo..xo+n)); y may be x (same offsets). */
    static void unaryF(UnaryOp op, float[] x, int xo, float[] y, int yo, int n, double p0, double p1) {
        unaryF(kernel(op, p0), op, x, xo, y, yo, n, p0, p1);
    }

    static void unaryF(VecKernel k, UnaryOp op, float[] x, int xo, float[] y, int yo, int n, double p0, double p1) {
        int i = k.run(x, xo, y, yo, n, (float) p0, (float) p1);
        for (; i < n; i++) y[yo + i] = (float) ReferenceBackend.unary(op, x[xo + i], p0, p1);
    }

    private static int none(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        return 0;
    }

    // Each helper processes the vector body and returns where the scalar tail starts.

    private static int neg(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).neg().intoArray(y, yo + i);
        return i;
    }

    private static int abs(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).abs().intoArray(y, yo + i);
        return i;
    }

    private static int square(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.mul(v).intoArray(y, yo + i);
        }
        return i;
    }

    private static int sqrt(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).sqrt().intoArray(y, yo + i);
        return i;
    }

    private static int rsqrt(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int ub = F.loopBound(n); i < ub; i += L) one.div(FloatVector.fromArray(F, x, xo + i).sqrt()).intoArray(y, yo + i);
        return i;
    }

    private static int reciprocal(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int ub = F.loopBound(n); i < ub; i += L) one.div(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int exp(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.exp(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int sigmoid(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.sigmoid(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    /** silu over a run of {@code a} in place: the vector kernel of the SILU op, then its scalar tail (the reference's formula). */
    static void siluInPlace(float[] a, int off, int n) {
        int i = silu(a, off, a, off, n, 0, 0);
        for (; i < n; i++) a[off + i] = (float) ReferenceBackend.unary(UnaryOp.SILU, a[off + i], 0, 0);
    }

    private static int silu(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.silu(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int geluTanh(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.geluTanh(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int geluErf(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.geluErf(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int log(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.log(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int tanh(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) VMath.tanh(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int relu(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        FloatVector zero = FloatVector.zero(F);
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.blend(zero, v.compare(VectorOperators.LE, 0f)).intoArray(y, yo + i); // NaN compares false: kept
        }
        return i;
    }

    private static int leakyRelu(float[] x, int xo, float[] y, int yo, int n, float slope, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.mul(slope).blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, yo + i);
        }
        return i;
    }

    private static int sign(float[] x, int xo, float[] y, int yo, int n, float p0, float p1) {
        int i = 0;
        FloatVector one = FloatVector.broadcast(F, 1f), minusOne = FloatVector.broadcast(F, -1f);
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.blend(one, v.compare(VectorOperators.GT, 0f)).blend(minusOne, v.compare(VectorOperators.LT, 0f)).intoArray(y, yo + i);
        }
        return i;
    }

    private static int addScalar(float[] x, int xo, float[] y, int yo, int n, float s, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).add(s).intoArray(y, yo + i);
        return i;
    }

    private static int mulScalar(float[] x, int xo, float[] y, int yo, int n, float s, float p1) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).mul(s).intoArray(y, yo + i);
        return i;
    }

    private static int rsubScalar(float[] x, int xo, float[] y, int yo, int n, float s, float p1) {
        int i = 0;
        FloatVector sv = FloatVector.broadcast(F, s);
        for (int ub = F.loopBound(n); i < ub; i += L) sv.sub(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        return i;
    }

    private static int clamp(float[] x, int xo, float[] y, int yo, int n, float lo, float hi) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).max(lo).min(hi).intoArray(y, yo + i);
        return i;
    }

    static void unaryD(UnaryOp op, double[] x, int xo, double[] y, int yo, int n, double p0, double p1) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
            case SQUARE -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * x[xo + i]; }
            case ADD_SCALAR -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] + p0; }
            case MUL_SCALAR -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * p0; }
            case RSUB_SCALAR -> { for (int i = 0; i < n; i++) y[yo + i] = p0 - x[xo + i]; }
            case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = Math.exp(x[xo + i]); }
            default -> { for (int i = 0; i < n; i++) y[yo + i] = ReferenceBackend.unary(op, x[xo + i], p0, p1); }
        }
    }

    // ------------------------------------------------------------------------------------------------ binary

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = allocUninitialized(a.dtype(), a.shape());
        int n = out.numel();
        if (n == 0) return out;
        StridedIter it = StridedIter.of(out, a, b);
        int sa = it.innerStride(1), sb = it.innerStride(2);
        boolean badA = sa != 0 && sa != 1, badB = sb != 0 && sb != 1;
        // A transposed operand: copy it into the output (tiled) and combine in place there.
        if (badA && !badB && it.rank > 1) {
            Copy.copyInto(a, out);
            a = out;
            it = StridedIter.of(out, a, b);
        } else if (badB && !badA && it.rank > 1) {
            Copy.copyInto(b, out);
            b = out;
            it = StridedIter.of(out, a, b);
        }
        StridedIter fit = it;
        int as = fit.innerStride(1), bs = fit.innerStride(2);
        if (a.dtype() == DType.F32) {
            float[] av = StridedIter.f32(a), bv = StridedIter.f32(b), ov = StridedIter.f32(out);
            fit.parallelRuns(GRAIN * 2, (offs, len) -> binaryF(op, av, offs[1], as, bv, offs[2], bs, ov, offs[0], len));
        } else {
            double[] av = StridedIter.f64(a), bv = StridedIter.f64(b), ov = StridedIter.f64(out);
            fit.parallelRuns(GRAIN, (offs, len) -> binaryD(op, av, offs[1], as, bv, offs[2], bs, ov, offs[0], len));
        }
        return out;
    }

    /** o[oo + i] = a[ao + i*as] op b[bo + i*bs]; the output run is unit-stride. */
    static void binaryF(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0;
        if ((as == 1 || as == 0) && (bs == 1 || bs == 0) && (as | bs) != 0) {
            i = switch (op) {
                case ADD -> add(a, ao, as, b, bo, bs, o, oo, n);
                case SUB -> sub(a, ao, as, b, bo, bs, o, oo, n);
                case MUL -> mul(a, ao, as, b, bo, bs, o, oo, n);
                case DIV -> div(a, ao, as, b, bo, bs, o, oo, n);
                case MAXIMUM -> max(a, ao, as, b, bo, bs, o, oo, n);
                case MINIMUM -> min(a, ao, as, b, bo, bs, o, oo, n);
                case POW -> 0;
            };
        }
        switch (op) {
            case ADD -> { for (; i < n; i++) o[oo + i] = a[ao + i * as] + b[bo + i * bs]; }
            case SUB -> { for (; i < n; i++) o[oo + i] = a[ao + i * as] - b[bo + i * bs]; }
            case MUL -> { for (; i < n; i++) o[oo + i] = a[ao + i * as] * b[bo + i * bs]; }
            case DIV -> { for (; i < n; i++) o[oo + i] = a[ao + i * as] / b[bo + i * bs]; }
            default -> { for (; i < n; i++) o[oo + i] = (float) ReferenceBackend.binary(op, a[ao + i * as], b[bo + i * bs]); }
        }
    }

    private static int add(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0, ub = F.loopBound(n);
        if (as == 1 && bs == 1) for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        else if (as == 1) { FloatVector s = FloatVector.broadcast(F, b[bo]); for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).add(s).intoArray(o, oo + i); }
        else { FloatVector s = FloatVector.broadcast(F, a[ao]); for (; i < ub; i += L) s.add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
        return i;
    }

    private static int sub(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0, ub = F.loopBound(n);
        if (as == 1 && bs == 1) for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        else if (as == 1) { FloatVector s = FloatVector.broadcast(F, b[bo]); for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).sub(s).intoArray(o, oo + i); }
        else { FloatVector s = FloatVector.broadcast(F, a[ao]); for (; i < ub; i += L) s.sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
        return i;
    }

    private static int mul(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0, ub = F.loopBound(n);
        if (as == 1 && bs == 1) for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        else if (as == 1) { FloatVector s = FloatVector.broadcast(F, b[bo]); for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).mul(s).intoArray(o, oo + i); }
        else { FloatVector s = FloatVector.broadcast(F, a[ao]); for (; i < ub; i += L) s.mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
        return i;
    }

    private static int div(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0, ub = F.loopBound(n);
        if (as == 1 && bs == 1) for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        else if (as == 1) { FloatVector s = FloatVector.broadcast(F, b[bo]); for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).div(s).intoArray(o, oo + i); }
        else { FloatVector s = FloatVector.broadcast(F, a[ao]); for (; i < ub; i += L) s.div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
        return i;
    }

    private static int max(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0, ub = F.loopBound(n);
        if (as == 1 && bs == 1) for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        else if (as == 1) { FloatVector s = FloatVector.broadcast(F, b[bo]); for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).max(s).intoArray(o, oo + i); }
        else { FloatVector s = FloatVector.broadcast(F, a[ao]); for (; i < ub; i += L) s.max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
        return i;
    }

    private static int min(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        int i = 0, ub = F.loopBound(n);
        if (as == 1 && bs == 1) for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        else if (as == 1) { FloatVector s = FloatVector.broadcast(F, b[bo]); for (; i < ub; i += L) FloatVector.fromArray(F, a, ao + i).min(s).intoArray(o, oo + i); }
        else { FloatVector s = FloatVector.broadcast(F, a[ao]); for (; i < ub; i += L) s.min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i); }
        return i;
    }

    static void binaryD(BinaryOp op, double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] + b[bo + i * bs]; }
            case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] - b[bo + i * bs]; }
            case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] * b[bo + i * bs]; }
            case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] / b[bo + i * bs]; }
            default -> { for (int i = 0; i < n; i++) o[oo + i] = ReferenceBackend.binary(op, a[ao + i * as], b[bo + i * bs]); }
        }
    }

    // ------------------------------------------------------------------------------------------------ compare, where

    static Tensor compare(CompareOp op, Tensor a, Tensor b) {
        Tensor out = alloc(DType.BOOL, a.shape());
        if (out.numel() == 0) return out;
        StridedIter it = StridedIter.of(out, a, b);
        int as = it.innerStride(1), bs = it.innerStride(2);
        byte[] o = ((Storage.BoolStorage) out.storage()).data();
        if (a.dtype() == DType.F32) {
            float[] av = StridedIter.f32(a), bv = StridedIter.f32(b);
            it.parallelRuns(GRAIN * 2, (offs, len) -> compareF(op, av, offs[1], as, bv, offs[2], bs, o, offs[0], len));
        } else {
            double[] av = StridedIter.f64(a), bv = StridedIter.f64(b);
            it.parallelRuns(GRAIN * 2, (offs, len) -> compareD(op, av, offs[1], as, bv, offs[2], bs, o, offs[0], len));
        }
        return out;
    }

    private static void compareF(CompareOp op, float[] a, int ao, int as, float[] b, int bo, int bs, byte[] o, int oo, int n) {
        switch (op) {
            case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] == b[bo + i * bs] ? 1 : 0); }
            case NE -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] != b[bo + i * bs] ? 1 : 0); }
            case LT -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] < b[bo + i * bs] ? 1 : 0); }
            case LE -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] <= b[bo + i * bs] ? 1 : 0); }
            case GT -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] > b[bo + i * bs] ? 1 : 0); }
            case GE -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] >= b[bo + i * bs] ? 1 : 0); }
        }
    }

    private static void compareD(CompareOp op, double[] a, int ao, int as, double[] b, int bo, int bs, byte[] o, int oo, int n) {
        switch (op) {
            case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] == b[bo + i * bs] ? 1 : 0); }
            case NE -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] != b[bo + i * bs] ? 1 : 0); }
            case LT -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] < b[bo + i * bs] ? 1 : 0); }
            case LE -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] <= b[bo + i * bs] ? 1 : 0); }
            case GT -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] > b[bo + i * bs] ? 1 : 0); }
            case GE -> { for (int i = 0; i < n; i++) o[oo + i] = (byte) (a[ao + i * as] >= b[bo + i * bs] ? 1 : 0); }
        }
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor out = allocUninitialized(a.dtype(), a.shape());
        if (out.numel() == 0) return out;
        StridedIter it = StridedIter.of(out, cond, a, b);
        int cs = it.innerStride(1), as = it.innerStride(2), bs = it.innerStride(3);
        byte[] c = ((Storage.BoolStorage) cond.storage()).data();
        if (a.dtype() == DType.F32) {
            float[] av = StridedIter.f32(a), bv = StridedIter.f32(b), o = StridedIter.f32(out);
            it.parallelRuns(GRAIN * 2, (offs, n) -> {
                int oo = offs[0], co = offs[1], ao = offs[2], bo = offs[3];
                for (int i = 0; i < n; i++) o[oo + i] = c[co + i * cs] != 0 ? av[ao + i * as] : bv[bo + i * bs];
            });
        } else {
            double[] av = StridedIter.f64(a), bv = StridedIter.f64(b), o = StridedIter.f64(out);
            it.parallelRuns(GRAIN * 2, (offs, n) -> {
                int oo = offs[0], co = offs[1], ao = offs[2], bo = offs[3];
                for (int i = 0; i < n; i++) o[oo + i] = c[co + i * cs] != 0 ? av[ao + i * as] : bv[bo + i * bs];
            });
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ random

    /** Each element is {@link ReferenceBackend#randomValue} of its own counter, so chunks are independent. */
    static boolean fillRandom(Tensor dst, RandomKind kind, double a, double b, long seed, long offset) {
        int n = dst.numel();
        if (n == 0) return true;
        if (!dst.isContiguous()) return false;
        int base = dst.offset();
        switch (dst.storage()) {
            case Storage.FloatStorage fs -> {
                float[] d = fs.data();
                Parallel.forRange(n, 2048, (s, e) -> {
                    for (int i = s; i < e; i++) d[base + i] = (float) ReferenceBackend.randomValue(kind, a, b, seed, offset + i);
                });
            }
            case Storage.DoubleStorage ds -> {
                double[] d = ds.data();
                Parallel.forRange(n, 2048, (s, e) -> {
                    for (int i = s; i < e; i++) d[base + i] = ReferenceBackend.randomValue(kind, a, b, seed, offset + i);
                });
            }
            default -> {
                Storage st = dst.storage();
                Parallel.forRange(n, 2048, (s, e) -> {
                    for (int i = s; i < e; i++) st.setDouble(base + i, ReferenceBackend.randomValue(kind, a, b, seed, offset + i));
                });
            }
        }
        return true;
    }
}
