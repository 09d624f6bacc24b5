package dev.distillery.tensor.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The device kernels: plain static Java methods that TornadoVM compiles to OpenCL C or PTX. Every kernel has the same
 * parameters, so one compiled kernel serves every tensor:
 * <ul>
 *   <li>{@code f}: the float arena, where every F32 tensor lives at an offset;</li>
 *   <li>{@code n}: the int arena, for I64 (stored as int32) and BOOL (0/1) tensors;</li>
 *   <li>{@code a}: the integer arguments of this launch (sizes, offsets, strides, op codes), see {@link KernelArgs};</li>
 *   <li>{@code s}: the float arguments of this launch (scalars).</li>
 * </ul>
 * Arena and arguments stay on the device; only {@code a} and {@code s} (a few hundred bytes) cross the bus per launch.
 *
 * <p>Elementwise kernels share one argument layout: {@code a[0]} element count, {@code a[1]} op code, {@code a[2]} rank
 * r, {@code a[3..3+r)} the shape, then per operand k at {@code 3 + r + k (r + 1)}: its offset and r strides
 * ({@link #at}). Op codes are the ordinals of the {@code dev.distillery.tensor.backend} enums.
 *
 * <p>Kernels avoid what TornadoVM's OpenCL/PTX code generators do not take: objects, exceptions, switch over enums.
 * Helpers return through one variable, since they are inlined.
 */
public final class TornadoKernels {
    private TornadoKernels() {}

    /** Tile edge of {@link #matmul} (its work-groups are TILE x TILE). */
    public static final int TILE = 16;

    // ------------------------------------------------------------------------------------------------ indexing

    /** Arena index of element {@code i} (row-major over the shared shape) of elementwise operand {@code k}. */
    static int at(IntArray a, int r, int k, int i) {
        int base = 3 + r + k * (r + 1);
        return walk(a, r, 3, base + 1, a.get(base), i);
    }

    /**
     * Arena index of element {@code i} of a sub-shape described at {@code a[shapeAt..shapeAt+rank)} with strides at
     * {@code a[strideAt..strideAt+rank)}, starting from {@code off} (used by the reductions for their outer and inner
     * index spaces).
     */
    static int walk(IntArray a, int rank, int shapeAt, int strideAt, int off, int i) {
        int o = off;
        int rem = i;
        for (int d = rank - 1; d >= 0; d--) {
            int size = a.get(shapeAt + d);
            int q = rem / size;
            o += (rem - q * size) * a.get(strideAt + d);
            rem = q;
        }
        return o;
    }

    // ------------------------------------------------------------------------------------------------ scalar math

    /** erfc(|x|), to a relative error below 1.2e-7 (the Chebyshev fit of Numerical Recipes' erfcc). */
    static float erfcOfAbs(float x) {
        float z = TornadoMath.abs(x);
        float t = 1.0f / (1.0f + 0.5f * z);
        float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
                + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        return t * TornadoMath.exp(-z * z + poly);
    }

    /** The normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, from erfc on the tail side so that tiny values keep their digits. */
    static float normalCdf(float x) {
        float half = 0.5f * erfcOfAbs(x * 0.7071067811865476f);
        float r = half;
        if (x > 0) r = 1.0f - half;
        return r;
    }

    /**
     * pow with Java's special cases where C's differ (OpenCL follows C): a NaN exponent gives NaN (C: pow(1, NaN) = 1),
     * and so does |x| = 1 with an infinite exponent (C: 1).
     */
    static float javaPow(float x, float y) {
        float r;
        if (y == 2.0f) r = x * x; // the common square exactly (correctly rounded, as the double pow rounded to float)
        else r = TornadoMath.pow(x, y);
        if (y != y) r = y;
        if ((x == 1.0f || x == -1.0f) && (y == Float.POSITIVE_INFINITY || y == Float.NEGATIVE_INFINITY)) r = y - y; // NaN (a NaN literal does not compile)
        return r;
    }

    /** {@code op(x)} for a {@code UnaryOp} ordinal; the same formulas as the reference backend, in float. */
    static float unaryOp(int op, float x, float p0, float p1) {
        float r = x;
        if (op == 0) r = -x;                                                  // NEG
        else if (op == 1) r = TornadoMath.exp(x);                             // EXP
        else if (op == 2) r = TornadoMath.log(x);                             // LOG
        else if (op == 3) r = TornadoMath.sqrt(x);                            // SQRT
        else if (op == 4) r = 1.0f / TornadoMath.sqrt(x);                     // RSQRT
        else if (op == 5) r = TornadoMath.abs(x);                             // ABS
        else if (op == 6) r = TornadoMath.tanh(x);                            // TANH
        else if (op == 7) r = 1.0f / (1.0f + TornadoMath.exp(-x));            // SIGMOID
        else if (op == 8) r = x / (1.0f + TornadoMath.exp(-x));               // SILU
        // GELU_TANH as x * sigmoid(2u) = 0.5 x (1 + tanh u): the same function, but without 1 + tanh(u) cancelling to a
        // few ulps of garbage for very negative x (a device tanh need not return exactly -1 there).
        else if (op == 9) r = x / (1.0f + TornadoMath.exp(-1.5957691216057308f * (x + 0.044715f * x * x * x)));
        else if (op == 10) r = x * normalCdf(x);                               // GELU_ERF
        else if (op == 11) { if (!(x > 0) && x == x) r = 0.0f; }             // RELU (NaN stays NaN)
        else if (op == 12) r = x * x;                                         // SQUARE
        else if (op == 13) r = TornadoMath.sin(x);                            // SIN
        else if (op == 14) r = TornadoMath.cos(x);                            // COS
        else if (op == 15) r = 1.0f / x;                                      // RECIPROCAL
        else if (op == 16) { if (x > 0) r = 1.0f; else if (x < 0) r = -1.0f; } // SIGN (0, -0 and NaN stay)
        else if (op == 17) r = x + p0;                                        // ADD_SCALAR
        else if (op == 18) r = x * p0;                                        // MUL_SCALAR
        else if (op == 19) r = javaPow(x, p0);                                // POW_SCALAR
        else if (op == 20) r = p0 - x;                                        // RSUB_SCALAR
        else if (op == 21) { if (x == x) r = TornadoMath.min(TornadoMath.max(x, p0), p1); } // CLAMP
        else if (op == 22) { if (!(x > 0)) r = x * p0; }                      // LEAKY_RELU
        return r;
    }

    /** d op(x) / dx for a {@code UnaryOp} ordinal (PyTorch's conventions at kinks, as the reference backend). */
    static float unaryDerivative(int op, float x, float p0, float p1) {
        float r = 0.0f;
        if (op == 0) r = -1.0f;
        else if (op == 1) r = TornadoMath.exp(x);
        else if (op == 2) r = 1.0f / x;
        else if (op == 3) r = 0.5f / TornadoMath.sqrt(x);
        else if (op == 4) r = -0.5f / (x * TornadoMath.sqrt(x));
        else if (op == 5) { if (x > 0) r = 1.0f; else if (x < 0) r = -1.0f; else r = x; }
        else if (op == 6) { float t = TornadoMath.tanh(x); r = 1.0f - t * t; }
        else if (op == 7) { float s = 1.0f / (1.0f + TornadoMath.exp(-x)); r = s * (1.0f - s); }
        else if (op == 8) { float s = 1.0f / (1.0f + TornadoMath.exp(-x)); r = s * (1.0f + x * (1.0f - s)); }
        else if (op == 9) {
            // With s = sigmoid(2u) = (1 + tanh u) / 2, 1 - tanh^2 u = 4 s (1 - s): d/dx = s + 2 x s (1 - s) k (1 + 3 c x^2), free of cancellation.
            float k = 0.7978845608028654f;
            float c = 0.044715f;
            float sg = 1.0f / (1.0f + TornadoMath.exp(-2.0f * k * (x + c * x * x * x)));
            r = sg + 2.0f * x * sg * (1.0f - sg) * k * (1.0f + 3.0f * c * x * x);
        } else if (op == 10) r = normalCdf(x) + x * TornadoMath.exp(-0.5f * x * x) * 0.3989422804014327f;
        else if (op == 11) { if (x > 0) r = 1.0f; }
        else if (op == 12) r = 2.0f * x;
        else if (op == 13) r = TornadoMath.cos(x);
        else if (op == 14) r = -TornadoMath.sin(x);
        else if (op == 15) r = -1.0f / (x * x);
        else if (op == 16) r = 0.0f;
        else if (op == 17) r = 1.0f;
        else if (op == 18) r = p0;
        else if (op == 19) { if (p0 != 0) r = p0 * TornadoMath.pow(x, p0 - 1.0f); }
        else if (op == 20) r = -1.0f;
        else if (op == 21) { if (x >= p0 && x <= p1) r = 1.0f; }
        else if (op == 22) { if (x > 0) r = 1.0f; else r = p0; }
        return r;
    }

    /** {@code a op b} for a {@code BinaryOp} ordinal; MAXIMUM/MINIMUM propagate NaN as PyTorch does. */
    static float binaryOp(int op, float x, float y) {
        float r = 0.0f;
        if (op == 0) r = x + y;
        else if (op == 1) r = x - y;
        else if (op == 2) r = x * y;
        else if (op == 3) r = x / y;
        else if (op == 4) r = javaPow(x, y);
        else if (op == 5) { if (x != x || y != y) r = x + y; else r = TornadoMath.max(x, y); }
        else if (op == 6) { if (x != x || y != y) r = x + y; else r = TornadoMath.min(x, y); }
        // Signed zeros as Java and PyTorch order them (-0 < +0); OpenCL's fmax/fmin may return either.
        if ((op == 5 || op == 6) && x == 0.0f && y == 0.0f) {
            boolean xNegative = 1.0f / x < 0.0f;
            r = x;
            if ((op == 5) == xNegative) r = y;
        }
        return r;
    }

    /** {@code a op b} for a {@code CompareOp} ordinal, as 0/1. */
    static int compareOp(int op, float x, float y) {
        // NaN is tested explicitly: with it left to the comparison, x <= NaN came out true on PoCL (an ordered
        // comparison compiled as the negation of its complement).
        boolean ordered = x == x && y == y;
        int r = 0;
        if (op == 0) { if (ordered && x == y) r = 1; }
        else if (op == 1) { r = 1; if (ordered && x == y) r = 0; }
        else if (op == 2) { if (ordered && x < y) r = 1; }
        else if (op == 3) { if (ordered && x <= y) r = 1; }
        else if (op == 4) { if (ordered && x > y) r = 1; }
        else if (op == 5) { if (ordered && x >= y) r = 1; }
        return r;
    }

    // ------------------------------------------------------------------------------------------------ kernels

    /** Does nothing; the first graph of the plan runs it to put the arenas on the device. */
    public static void noop(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < 0) a.set(0, 0);
    }

    /** {@code f[a[1] + i] = stage[i]} for i below a[0]: host-to-device copy through the staging buffer. */
    public static void uploadFloats(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s, FloatArray stage) {
        int i = c.globalIdx;
        if (i < a.get(0)) f.set(a.get(1) + i, stage.get(i));
    }

    /** {@code n[a[1] + i] = stage[i]}. */
    public static void uploadInts(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s, IntArray stage) {
        int i = c.globalIdx;
        if (i < a.get(0)) n.set(a.get(1) + i, stage.get(i));
    }

    /** {@code stage[i] = f[a[1] + i]}: device-to-host copy through the staging buffer. */
    public static void downloadFloats(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s, FloatArray stage) {
        int i = c.globalIdx;
        if (i < a.get(0)) stage.set(i, f.get(a.get(1) + i));
    }

    /** {@code stage[i] = n[a[1] + i]}. */
    public static void downloadInts(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s, IntArray stage) {
        int i = c.globalIdx;
        if (i < a.get(0)) stage.set(i, n.get(a.get(1) + i));
    }

    /** Fills a[0] elements from a[2] with s[0]: the float arena if a[1] == 0, else the int arena with (int) s[0]. */
    public static void fill(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            if (a.get(1) == 0) f.set(a.get(2) + i, s.get(0));
            else n.set(a.get(2) + i, (int) s.get(0));
        }
    }

    /**
     * Strided copy with conversion, operands src (0) and dst (1). Mode a[1]: 0 float to float, 1 int to int, 2 float to
     * int (truncation, as a Java cast), 3 int to float, 4 float to bool, 5 int to bool.
     */
    public static void copy(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int mode = a.get(1);
            int r = a.get(2);
            int src = at(a, r, 0, i);
            int dst = at(a, r, 1, i);
            if (mode == 0) f.set(dst, f.get(src));
            else if (mode == 1) n.set(dst, n.get(src));
            else if (mode == 2) n.set(dst, (int) f.get(src));
            else if (mode == 3) f.set(dst, (float) n.get(src));
            else if (mode == 4) { int b = 0; if (f.get(src) != 0.0f) b = 1; n.set(dst, b); }
            else { int b = 0; if (n.get(src) != 0) b = 1; n.set(dst, b); }
        }
    }

    /** out (1) = op(x (0)) with s[0], s[1] as p0, p1. */
    public static void unary(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            f.set(at(a, r, 1, i), unaryOp(a.get(1), f.get(at(a, r, 0, i)), s.get(0), s.get(1)));
        }
    }

    /**
     * out (2) = gradOut (1) * op'(x (0)); with s[2] != 0, out (3) = gradOut (1) * op'(x (0)) + addend (2): the gradient
     * folded into one already pending for x.
     */
    public static void unaryBackward(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            float d = unaryDerivative(a.get(1), f.get(at(a, r, 0, i)), s.get(0), s.get(1));
            float v = f.get(at(a, r, 1, i)) * d;
            int out = 2;
            if (s.get(2) != 0.0f) {
                v = v + f.get(at(a, r, 2, i));
                out = 3;
            }
            f.set(at(a, r, out, i), v);
        }
    }

    /** out (2) = x (0) op y (1). */
    public static void binary(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            f.set(at(a, r, 2, i), binaryOp(a.get(1), f.get(at(a, r, 0, i)), f.get(at(a, r, 1, i))));
        }
    }

    /** out (2, int arena) = x (0) op y (1) as 0/1. */
    public static void compare(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            n.set(at(a, r, 2, i), compareOp(a.get(1), f.get(at(a, r, 0, i)), f.get(at(a, r, 1, i))));
        }
    }

    /** out (3) = cond (0, int arena) ? x (1) : y (2). */
    public static void where(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            float v;
            if (n.get(at(a, r, 0, i)) != 0) v = f.get(at(a, r, 1, i));
            else v = f.get(at(a, r, 2, i));
            f.set(at(a, r, 3, i), v);
        }
    }

    /**
     * One pass of a reduction. Work-item w = (output o, chunk k) reduces inner elements [k L, min((k+1) L, inner)) of
     * output o and writes to {@code out + w}. Layout: a[0] outputs x chunks, a[1] op (0 sum, 1 max, 2 min, 3 sum of
     * squared deviations from aux[o], 4 sum of exp(x - aux[o])), a[2] chunks, a[3] chunk length L, a[4] inner count,
     * a[5] x offset, a[6] out offset, a[7] aux offset, a[8] outer rank R, a[9] inner rank Q, then outer shape (R), outer
     * strides (R), inner shape (Q), inner strides (Q).
     */
    public static void reduce(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int w = c.globalIdx;
        if (w < a.get(0)) {
            int op = a.get(1);
            int chunks = a.get(2);
            int len = a.get(3);
            int inner = a.get(4);
            int outerRank = a.get(8);
            int innerRank = a.get(9);
            int o = w / chunks;
            int k = w - o * chunks;
            int base = walk(a, outerRank, 10, 10 + outerRank, a.get(5), o);
            int innerShapeAt = 10 + 2 * outerRank;
            int start = k * len;
            int end = TornadoMath.min(start + len, inner);
            float aux = 0.0f;
            if (op >= 3) aux = f.get(a.get(7) + o);
            float acc = 0.0f;
            if (op == 1) acc = Float.NEGATIVE_INFINITY;
            if (op == 2) acc = Float.POSITIVE_INFINITY;
            for (int j = start; j < end; j++) {
                float x = f.get(walk(a, innerRank, innerShapeAt, innerShapeAt + innerRank, base, j));
                if (op == 0) acc += x;
                else if (op == 1) { if (x > acc || x != x) acc = x; }
                else if (op == 2) { if (x < acc || x != x) acc = x; }
                else if (op == 3) { float d = x - aux; acc += d * d; }
                else {
                    // An infinite max: the terms equal to it count 1 and the rest 0 (x - aux would be inf - inf = NaN).
                    float d = x - aux;
                    if (aux == Float.POSITIVE_INFINITY || aux == Float.NEGATIVE_INFINITY) {
                        d = Float.NEGATIVE_INFINITY;
                        if (x == aux) d = 0.0f;
                    }
                    acc += TornadoMath.exp(d);
                }
            }
            f.set(a.get(6) + w, acc);
        }
    }

    /**
     * Index of the first maximum (a[1] == 0) or minimum (a[1] == 1) along one dim, into the int arena. Layout as
     * {@link #reduce} with one inner dim: a[0] outputs, a[4] dim size, a[5] x offset, a[6] out offset (int arena),
     * a[8] outer rank R, a[9] = 1, outer shape, outer strides, dim size, dim stride. NaN counts as the extreme.
     */
    public static void argReduce(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int o = c.globalIdx;
        if (o < a.get(0)) {
            int outerRank = a.get(8);
            int size = a.get(4);
            int base = walk(a, outerRank, 10, 10 + outerRank, a.get(5), o);
            int stride = a.get(10 + 2 * outerRank + 1);
            int best = 0;
            float bv = f.get(base);
            boolean max = a.get(1) == 0;
            for (int j = 1; j < size; j++) {
                if (bv == bv) { // the first NaN wins: stop updating once one was seen
                    float x = f.get(base + j * stride);
                    boolean better;
                    if (max) better = x > bv;
                    else better = x < bv;
                    if (better || x != x) {
                        bv = x;
                        best = j;
                    }
                }
            }
            n.set(a.get(6) + o, best);
        }
    }

    /**
     * Arena offset of batch {@code batch} of a matmul operand whose batches have two levels: a[14] inner batches per
     * outer one, the outer stride at a[outerAt], the inner one at a[innerAt].
     */
    static int batchOffset(IntArray a, int batch, int outerAt, int innerAt) {
        int inner = a.get(14);
        int outer = batch / inner;
        return outer * a.get(outerAt) + (batch - outer * inner) * a.get(innerAt);
    }

    /**
     * {@code onesValue} for output column {@code q} when it is the column of ones ({@code ones}: its index, or -1 when
     * there is none), else {@code value}: where a blocked kernel stores a column (the bias gradient's sums instead of
     * the product's column), and its row step.
     */
    static int onesColumnOr(int q, int ones, int value, int onesValue) {
        int v = value;
        if (q == ones) v = onesValue;
        return v;
    }

    /**
     * The offset of conv result column q (sample b, pixel (y, x): q = b ohw + y ow + x, with ohw and ow the result's
     * plane size and row length) in an addend with sample and pixel strides sN, sY, sX (the caller adds the channel's).
     */
    static int addendColumn(int q, int ohw, int ow, int sN, int sY, int sX) {
        int b = q / ohw;
        int pix = q - b * ohw;
        int y = pix / ow;
        return b * sN + y * sY + (pix - y * ow) * sX;
    }

    /** The addend element at {@code base + at}, or 0 for an element outside the result ({@code inside} false). */
    static float addendAt(FloatArray f, int base, boolean inside, int at) {
        float v = 0.0f;
        if (inside) v = f.get(base + at);
        return v;
    }

    /**
     * Offset of reduction index k of a matmul operand whose K has two levels (Linear's weight gradient over [P, M]
     * leading dims that one stride cannot walk): k = outer kInner + inner, at outer outerStride + inner innerStride.
     * With kInner >= kk (one level, the usual case) simply k innerStride, without a division.
     */
    static int kOffset(int k, int kk, int kInner, int innerStride, int outerStride) {
        int off = k * innerStride;
        if (kInner < kk) {
            int outer = k / kInner;
            off = outer * outerStride + (k - outer * kInner) * innerStride;
        }
        return off;
    }

    /**
     * Batched matmul C[b] = A[b] B[b] with TILE x TILE tiles in local memory. a[0] M, a[1] N, a[2] K, a[3] row tiles
     * per batch (ceil(M / TILE)), A at a[4] with strides batch a[5], row a[6], col a[7]; B at a[8] with strides a[9],
     * a[10], a[11]; C (contiguous [B, M, N]) at a[12]; a[13] a contiguous bias [N] added to every row, or -1. Batches
     * may have two levels ({@link #batchOffset}): a[14] inner batches per outer one (1: one level), a[15] and a[16]
     * the inner batch strides of A and B (a[5], a[9] the outer ones). K may have two levels ({@link #kOffset}): a[17]
     * the inner count (K: one level), a[18] and a[19] the outer K strides of A and B (a[7] and a[10] the inner ones).
     * a[20] >= 0: B has one more column, of ones, whose output column goes to the contiguous [B, M] at a[20] instead
     * of C (the bias gradient of Linear: the row sums of A). a[21] a contiguous [B, M, N] added to C as it is stored,
     * or -1 (a gradient already pending for the product's variable). C's strides: a[22] and a[23] outer and inner
     * batch, a[24] row, a[25] column (contiguous: M N a[14], M N, N, 1; others write a gradient in its input's
     * layout). Grid: x over ceil(N / TILE) TILE columns (N + 1 with the column of ones), y over batches x row tiles,
     * both in groups of TILE.
     */
    public static void matmul(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        float[] tileA = c.allocateFloatLocalArray(256);
        float[] tileB = c.allocateFloatLocalArray(256);
        int lx = c.localIdx;
        int ly = c.localIdy;
        int m = a.get(0);
        int nn = a.get(1);
        int kk = a.get(2);
        int rowTiles = a.get(3);
        int gy = c.groupIdy;
        int batch = gy / rowTiles;
        int row = (gy - batch * rowTiles) * 16 + ly;
        int col = c.groupIdx * 16 + lx;
        int aBase = a.get(4) + batchOffset(a, batch, 5, 15) + row * a.get(6);
        int aCol = a.get(7);
        int bBase = a.get(8) + batchOffset(a, batch, 9, 16) + col * a.get(11);
        int bRow = a.get(10);
        int kInner = a.get(17);
        int aKOuter = a.get(18);
        int bKOuter = a.get(19);
        int onesAt = a.get(20);
        float acc = 0.0f;
        for (int t = 0; t < kk; t += 16) {
            c.localBarrier(); // leading, as in convBlocked
            int ka = t + lx;
            float va = 0.0f;
            if (row < m && ka < kk) va = f.get(aBase + kOffset(ka, kk, kInner, aCol, aKOuter));
            tileA[ly * 16 + lx] = va;
            int kb = t + ly;
            float vb = 0.0f;
            if (kb < kk && col < nn) vb = f.get(bBase + kOffset(kb, kk, kInner, bRow, bKOuter));
            else if (kb < kk && col == nn && onesAt >= 0) vb = 1.0f;
            tileB[ly * 16 + lx] = vb;
            c.localBarrier();
            for (int q = 0; q < 16; q++) acc += tileA[ly * 16 + q] * tileB[q * 16 + lx];
        }
        if (row < m && col < nn) {
            if (a.get(13) >= 0) acc += f.get(a.get(13) + col);
            if (a.get(21) >= 0) acc += f.get(a.get(21) + (batch * m + row) * nn + col);
            f.set(a.get(12) + batchOffset(a, batch, 22, 23) + row * a.get(24) + col * a.get(25), acc);
        } else if (row < m && col == nn && onesAt >= 0) {
            f.set(onesAt + batch * m + row, acc);
        }
    }

    /**
     * Batched matmul with 64 x 64 output blocks per work-group of 16 x 16: each work-item accumulates a 4 x 4 register
     * tile (rows ly + 16 i, columns lx + 16 j, so loads and stores stay coalesced) over K in steps of 16, with the A
     * and B panels in local memory. Same argument layout as {@link #matmul}, but a[3] counts 64-row blocks per batch;
     * the grid has ceil(N / 64) x (batches x row blocks) groups (ceil((N + 1) / 64) with the column of ones).
     */
    public static void matmulBlocked(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        float[] tileA = c.allocateFloatLocalArray(1024);
        float[] tileB = c.allocateFloatLocalArray(1024);
        int lx = c.localIdx;
        int ly = c.localIdy;
        int tid = ly * 16 + lx;
        int m = a.get(0);
        int nn = a.get(1);
        int kk = a.get(2);
        int rowBlocks = a.get(3);
        int gy = c.groupIdy;
        int batch = gy / rowBlocks;
        int row0 = (gy - batch * rowBlocks) * 64;
        int col0 = c.groupIdx * 64;
        int aBase = a.get(4) + batchOffset(a, batch, 5, 15);
        int aRow = a.get(6);
        int aCol = a.get(7);
        int bBase = a.get(8) + batchOffset(a, batch, 9, 16);
        int bRow = a.get(10);
        int bCol = a.get(11);
        int cBase = a.get(12) + batchOffset(a, batch, 22, 23);
        int cRow = a.get(24);
        int cCol = a.get(25);
        int kInner = a.get(17);
        int aKOuter = a.get(18);
        int bKOuter = a.get(19);
        int onesAt = a.get(20);
        float c00 = 0.0f;
        float c01 = 0.0f;
        float c02 = 0.0f;
        float c03 = 0.0f;
        float c10 = 0.0f;
        float c11 = 0.0f;
        float c12 = 0.0f;
        float c13 = 0.0f;
        float c20 = 0.0f;
        float c21 = 0.0f;
        float c22 = 0.0f;
        float c23 = 0.0f;
        float c30 = 0.0f;
        float c31 = 0.0f;
        float c32 = 0.0f;
        float c33 = 0.0f;
        for (int t = 0; t < kk; t += 16) {
            c.localBarrier(); // leading, as in convBlocked
            for (int p = 0; p < 4; p++) {
                int idx = p * 256 + tid;
                int r = idx / 16;
                int k = idx - r * 16;
                float va = 0.0f;
                if (row0 + r < m && t + k < kk) va = f.get(aBase + (row0 + r) * aRow + kOffset(t + k, kk, kInner, aCol, aKOuter));
                tileA[idx] = va;
                int kb = idx / 64;
                int cb = idx - kb * 64;
                float vb = 0.0f;
                if (t + kb < kk && col0 + cb < nn) vb = f.get(bBase + kOffset(t + kb, kk, kInner, bRow, bKOuter) + (col0 + cb) * bCol);
                else if (t + kb < kk && col0 + cb == nn && onesAt >= 0) vb = 1.0f;
                tileB[idx] = vb;
            }
            c.localBarrier();
            for (int q = 0; q < 16; q++) {
                float a0 = tileA[(ly + 0) * 16 + q];
                float a1 = tileA[(ly + 16) * 16 + q];
                float a2 = tileA[(ly + 32) * 16 + q];
                float a3 = tileA[(ly + 48) * 16 + q];
                float b0 = tileB[q * 64 + lx + 0];
                float b1 = tileB[q * 64 + lx + 16];
                float b2 = tileB[q * 64 + lx + 32];
                float b3 = tileB[q * 64 + lx + 48];
                c00 += a0 * b0;
                c01 += a0 * b1;
                c02 += a0 * b2;
                c03 += a0 * b3;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c12 += a1 * b2;
                c13 += a1 * b3;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c22 += a2 * b2;
                c23 += a2 * b3;
                c30 += a3 * b0;
                c31 += a3 * b1;
                c32 += a3 * b2;
                c33 += a3 * b3;
            }
        }
        int r0 = row0 + ly + 0;
        int r1 = row0 + ly + 16;
        int r2 = row0 + ly + 32;
        int r3 = row0 + ly + 48;
        int biasAt = a.get(13);
        if (biasAt >= 0) {
            float bias0 = 0.0f;
            float bias1 = 0.0f;
            float bias2 = 0.0f;
            float bias3 = 0.0f;
            if (col0 + lx + 0 < nn) bias0 = f.get(biasAt + col0 + lx + 0);
            if (col0 + lx + 16 < nn) bias1 = f.get(biasAt + col0 + lx + 16);
            if (col0 + lx + 32 < nn) bias2 = f.get(biasAt + col0 + lx + 32);
            if (col0 + lx + 48 < nn) bias3 = f.get(biasAt + col0 + lx + 48);
            c00 += bias0;
            c10 += bias0;
            c20 += bias0;
            c30 += bias0;
            c01 += bias1;
            c11 += bias1;
            c21 += bias1;
            c31 += bias1;
            c02 += bias2;
            c12 += bias2;
            c22 += bias2;
            c32 += bias2;
            c03 += bias3;
            c13 += bias3;
            c23 += bias3;
            c33 += bias3;
        }
        // Output column q of row r at base_q + r * mul_q: C on its strides, or for the column of ones (q == N) the row
        // sums at a[20].
        int cols = nn;
        int ones = -1;
        if (onesAt >= 0) {
            cols = nn + 1;
            ones = nn;
        }
        int q0 = col0 + lx + 0;
        int q1 = col0 + lx + 16;
        int q2 = col0 + lx + 32;
        int q3 = col0 + lx + 48;
        int sums = onesAt + batch * m;
        int base0 = onesColumnOr(q0, ones, cBase + q0 * cCol, sums);
        int base1 = onesColumnOr(q1, ones, cBase + q1 * cCol, sums);
        int base2 = onesColumnOr(q2, ones, cBase + q2 * cCol, sums);
        int base3 = onesColumnOr(q3, ones, cBase + q3 * cCol, sums);
        int mul0 = onesColumnOr(q0, ones, cRow, 1);
        int mul1 = onesColumnOr(q1, ones, cRow, 1);
        int mul2 = onesColumnOr(q2, ones, cRow, 1);
        int mul3 = onesColumnOr(q3, ones, cRow, 1);
        int addend = a.get(21); // a pending gradient to add: a contiguous [B, M, N]
        if (addend >= 0) {
            int dBase = addend + batch * m * nn;
            c00 += addendAt(f, dBase, r0 < m && q0 < nn, r0 * nn + q0);
            c01 += addendAt(f, dBase, r0 < m && q1 < nn, r0 * nn + q1);
            c02 += addendAt(f, dBase, r0 < m && q2 < nn, r0 * nn + q2);
            c03 += addendAt(f, dBase, r0 < m && q3 < nn, r0 * nn + q3);
            c10 += addendAt(f, dBase, r1 < m && q0 < nn, r1 * nn + q0);
            c11 += addendAt(f, dBase, r1 < m && q1 < nn, r1 * nn + q1);
            c12 += addendAt(f, dBase, r1 < m && q2 < nn, r1 * nn + q2);
            c13 += addendAt(f, dBase, r1 < m && q3 < nn, r1 * nn + q3);
            c20 += addendAt(f, dBase, r2 < m && q0 < nn, r2 * nn + q0);
            c21 += addendAt(f, dBase, r2 < m && q1 < nn, r2 * nn + q1);
            c22 += addendAt(f, dBase, r2 < m && q2 < nn, r2 * nn + q2);
            c23 += addendAt(f, dBase, r2 < m && q3 < nn, r2 * nn + q3);
            c30 += addendAt(f, dBase, r3 < m && q0 < nn, r3 * nn + q0);
            c31 += addendAt(f, dBase, r3 < m && q1 < nn, r3 * nn + q1);
            c32 += addendAt(f, dBase, r3 < m && q2 < nn, r3 * nn + q2);
            c33 += addendAt(f, dBase, r3 < m && q3 < nn, r3 * nn + q3);
        }
        if (r0 < m && q0 < cols) f.set(base0 + r0 * mul0, c00);
        if (r0 < m && q1 < cols) f.set(base1 + r0 * mul1, c01);
        if (r0 < m && q2 < cols) f.set(base2 + r0 * mul2, c02);
        if (r0 < m && q3 < cols) f.set(base3 + r0 * mul3, c03);
        if (r1 < m && q0 < cols) f.set(base0 + r1 * mul0, c10);
        if (r1 < m && q1 < cols) f.set(base1 + r1 * mul1, c11);
        if (r1 < m && q2 < cols) f.set(base2 + r1 * mul2, c12);
        if (r1 < m && q3 < cols) f.set(base3 + r1 * mul3, c13);
        if (r2 < m && q0 < cols) f.set(base0 + r2 * mul0, c20);
        if (r2 < m && q1 < cols) f.set(base1 + r2 * mul1, c21);
        if (r2 < m && q2 < cols) f.set(base2 + r2 * mul2, c22);
        if (r2 < m && q3 < cols) f.set(base3 + r2 * mul3, c23);
        if (r3 < m && q0 < cols) f.set(base0 + r3 * mul0, c30);
        if (r3 < m && q1 < cols) f.set(base1 + r3 * mul1, c31);
        if (r3 < m && q2 < cols) f.set(base2 + r3 * mul2, c32);
        if (r3 < m && q3 < cols) f.set(base3 + r3 * mul3, c33);
    }

    /**
     * Softmax (a[1] == 0) or log-softmax (a[1] == 1) of rows of a contiguous tensor: row w of a[0] rows has a[2]
     * elements with stride a[3] (the elements after the softmax dim); x at a[4], out at a[5].
     */
    public static void softmax(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int w = c.globalIdx;
        if (w < a.get(0)) {
            int len = a.get(2);
            int inner = a.get(3);
            int outer = w / inner;
            int base = outer * len * inner + (w - outer * inner);
            int x = a.get(4) + base;
            int y = a.get(5) + base;
            float mx = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < len; j++) mx = TornadoMath.max(mx, f.get(x + j * inner));
            float sum = 0.0f;
            for (int j = 0; j < len; j++) sum += TornadoMath.exp(f.get(x + j * inner) - mx);
            if (a.get(1) == 0) {
                float inv = 1.0f / sum;
                for (int j = 0; j < len; j++) f.set(y + j * inner, TornadoMath.exp(f.get(x + j * inner) - mx) * inv);
            } else {
                float lse = mx + TornadoMath.log(sum);
                for (int j = 0; j < len; j++) f.set(y + j * inner, f.get(x + j * inner) - lse);
            }
        }
    }

    /**
     * The backward pass of {@link #softmax} from its output y (a[4]) and gradient g (a[6]) into out (a[5]), rows as in
     * softmax: softmax {@code y (g - sum(g y))}, log-softmax {@code g - exp(y) sum(g)}.
     */
    public static void softmaxBackward(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int w = c.globalIdx;
        if (w < a.get(0)) {
            int len = a.get(2);
            int inner = a.get(3);
            int outer = w / inner;
            int base = outer * len * inner + (w - outer * inner);
            int y = a.get(4) + base;
            int out = a.get(5) + base;
            int g = a.get(6) + base;
            float dot = 0.0f;
            if (a.get(1) == 0) {
                for (int j = 0; j < len; j++) dot += f.get(g + j * inner) * f.get(y + j * inner);
                for (int j = 0; j < len; j++) f.set(out + j * inner, f.get(y + j * inner) * (f.get(g + j * inner) - dot));
            } else {
                for (int j = 0; j < len; j++) dot += f.get(g + j * inner);
                for (int j = 0; j < len; j++) f.set(out + j * inner, f.get(g + j * inner) - TornadoMath.exp(f.get(y + j * inner)) * dot);
            }
        }
    }

    /**
     * Layer norm (a[1] == 0) or group norm (a[1] == 1) of contiguous rows: row w of a[0] rows has a[2] elements; x at
     * a[3], out a[4], mean a[5], rstd a[6], weight a[7] and bias a[8] (-1 when absent). Layer norm: weight index is the
     * position in the row. Group norm: a[9] groups, a[10] elements per channel (spatial size), a[11] channels per group;
     * the weight index is the channel. a[12] 1: silu of the result (group norm's fused activation). s[0] is eps.
     * Variance is the biased two-pass variance.
     */
    public static void norm(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int w = c.globalIdx;
        if (w < a.get(0)) {
            int len = a.get(2);
            int x = a.get(3) + w * len;
            int y = a.get(4) + w * len;
            // Deviations are taken from the first element: for data far from 0 (mean >> std) x - x0 is exact where a
            // float mean would already be off by half an ulp of the mean, an error the normalised output would scale by 1/std.
            float x0 = 0.0f;
            if (len > 0) x0 = f.get(x);
            float sum = 0.0f;
            for (int j = 0; j < len; j++) sum += f.get(x + j) - x0;
            float shiftedMean = sum / len;
            float sq = 0.0f;
            for (int j = 0; j < len; j++) {
                float d = f.get(x + j) - x0 - shiftedMean;
                sq += d * d;
            }
            float rstd = 1.0f / TornadoMath.sqrt(sq / len + s.get(0));
            f.set(a.get(5) + w, x0 + shiftedMean);
            f.set(a.get(6) + w, rstd);
            int wt = a.get(7);
            int bs = a.get(8);
            int group = 0;
            int spatial = 1;
            int perGroup = 1;
            if (a.get(1) == 1) {
                group = w - (w / a.get(9)) * a.get(9);
                spatial = a.get(10);
                perGroup = a.get(11);
            }
            for (int j = 0; j < len; j++) {
                float v = (f.get(x + j) - x0 - shiftedMean) * rstd;
                int p = j;
                if (a.get(1) == 1) p = group * perGroup + j / spatial;
                if (wt >= 0) v = v * f.get(wt + p);
                if (bs >= 0) v = v + f.get(bs + p);
                if (a.get(12) == 1) v = v / (1.0f + TornadoMath.exp(-v));
                f.set(y + j, v);
            }
        }
    }

    /**
     * Layer and group norm backward over contiguous x and g as [rows, len], each row a[11] runs of a[9] elements that
     * share one affine parameter (layer norm: runs of 1; group norm: a channel's spatial run). Row r's first parameter
     * is (r mod a[10]) x a[11] (a[10]: rows per sample, the groups; 1 for layer norm). a[1] mode: 0 input gradient, one
     * work-item per row (a[0] = rows): dx = rstd (gw - mean(gw) - xhat mean(gw xhat)); 1 affine gradients, one
     * work-item per parameter (a[0] = parameters): dweight = sum g xhat, dbias = sum g over the parameter's runs in
     * every sample. a[2] len, a[3] x, a[4] g, a[5] mean, a[6] rstd, a[7] weight (-1: none), a[8] dx, a[12] rows,
     * a[13] dweight, a[14] dbias, a[15] parameters, a[16] 1 when the forward applied silu (g is then first multiplied
     * by silu'(y) at y = xhat weight + bias, recomputed), a[17] bias (-1: none), a[18] a contiguous addend of x's shape
     * added to dx (a gradient already pending for x), or -1. g may be strided as [samples, parameters, run]: a[19],
     * a[20], a[21] its sample, parameter and run strides (group norm's gradient through attention's transpose needs no
     * copy). Sums in double, like the CPU backend.
     */
    public static void normBackward(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int w = c.globalIdx;
        if (w < a.get(0)) {
            int len = a.get(2);
            int x = a.get(3);
            int g = a.get(4);
            int wt = a.get(7);
            int run = a.get(9);
            int rowsPerSample = a.get(10);
            int runsPerRow = a.get(11);
            int silu = a.get(16);
            int bs = a.get(17);
            int gSample = a.get(19);
            int gParam = a.get(20);
            int gRun = a.get(21);
            if (a.get(1) == 0) {
                float m = f.get(a.get(5) + w);
                float rstd = f.get(a.get(6) + w);
                int row = w * len;
                int sample = w / rowsPerSample;
                int firstParam = (w - sample * rowsPerSample) * runsPerRow;
                int gRow = g + sample * gSample;
                double sumGw = 0.0;
                double sumGwXhat = 0.0;
                for (int k = 0; k < runsPerRow; k++) {
                    float wv = 1.0f;
                    if (wt >= 0) wv = f.get(wt + firstParam + k);
                    float bv = 0.0f;
                    if (bs >= 0) bv = f.get(bs + firstParam + k);
                    for (int j = 0; j < run; j++) {
                        int i = row + k * run + j;
                        float xhat = (f.get(x + i) - m) * rstd;
                        float gw = siluGradient(silu, f.get(gRow + (firstParam + k) * gParam + j * gRun), xhat * wv + bv) * wv;
                        sumGw += gw;
                        sumGwXhat += gw * xhat;
                    }
                }
                float meanGw = (float) (sumGw / len);
                float meanGwXhat = (float) (sumGwXhat / len);
                int dx = a.get(8);
                int addend = a.get(18);
                for (int k = 0; k < runsPerRow; k++) {
                    float wv = 1.0f;
                    if (wt >= 0) wv = f.get(wt + firstParam + k);
                    float bv = 0.0f;
                    if (bs >= 0) bv = f.get(bs + firstParam + k);
                    for (int j = 0; j < run; j++) {
                        int i = row + k * run + j;
                        float xhat = (f.get(x + i) - m) * rstd;
                        float gw = siluGradient(silu, f.get(gRow + (firstParam + k) * gParam + j * gRun), xhat * wv + bv) * wv;
                        float d = rstd * (gw - meanGw - xhat * meanGwXhat);
                        if (addend >= 0) d = d + f.get(addend + i);
                        f.set(dx + i, d);
                    }
                }
            } else {
                int params = a.get(15);
                int samples = a.get(12) / rowsPerSample;
                int rowInSample = w / runsPerRow;
                float wv = 1.0f;
                if (wt >= 0) wv = f.get(wt + w);
                float bv = 0.0f;
                if (bs >= 0) bv = f.get(bs + w);
                double accW = 0.0;
                double accB = 0.0;
                for (int smp = 0; smp < samples; smp++) {
                    int r = smp * rowsPerSample + rowInSample;
                    float m = f.get(a.get(5) + r);
                    float rstd = f.get(a.get(6) + r);
                    int base = (smp * params + w) * run;
                    for (int j = 0; j < run; j++) {
                        float xhat = (f.get(x + base + j) - m) * rstd;
                        float gv = siluGradient(silu, f.get(g + smp * gSample + w * gParam + j * gRun), xhat * wv + bv);
                        accW += gv * xhat;
                        accB += gv;
                    }
                }
                f.set(a.get(13) + w, (float) accW);
                f.set(a.get(14) + w, (float) accB);
            }
        }
    }

    /** g silu'(y) when {@code silu} is 1, else g: the gradient at a norm's output through a fused silu. */
    static float siluGradient(int silu, float g, float y) {
        float r = g;
        if (silu == 1) {
            float sg = 1.0f / (1.0f + TornadoMath.exp(-y));
            r = g * (sg * (1.0f + y * (1.0f - sg)));
        }
        return r;
    }

    /**
     * One Adam/AdamW step over a[0] contiguous elements: param a[1], grad a[2], m a[3], v a[4]; s = {lr, beta1,
     * beta2, eps, weightDecay, lr / (1 - beta1^t), sqrt(1 - beta2^t)}; a[5] == 1 for decoupled weight decay (AdamW).
     */
    public static void adam(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) adamElement(f, s, a.get(5), a.get(1) + i, a.get(2) + i, a.get(3) + i, a.get(4) + i);
    }

    /** One element of an Adam step: param at pi, grad gi, m mi, v vi; s and decoupled as {@link #adam}'s. */
    static void adamElement(FloatArray f, FloatArray s, int decoupled, int pi, int gi, int mi, int vi) {
        float p = f.get(pi);
        float g = f.get(gi);
        float b1 = s.get(1);
        float b2 = s.get(2);
        if (decoupled == 1) p = p * (1.0f - s.get(0) * s.get(4));
        else g = g + s.get(4) * p;
        float m = b1 * f.get(mi) + (1.0f - b1) * g;
        float v = b2 * f.get(vi) + (1.0f - b2) * g * g;
        f.set(mi, m);
        f.set(vi, v);
        f.set(pi, p - s.get(5) * m / (TornadoMath.sqrt(v) / s.get(6) + s.get(3)));
    }

    /** Ints per entry of the tensor table of {@link #adamMulti} and {@link #foreach}. */
    public static final int TABLE_ENTRY = 5;

    /**
     * The entry of the tensor table whose elements hold launch element i: the last of the {@code entries} entries whose
     * first index (the entry's int 0, increasing) is at most i, by binary search.
     */
    static int tableEntry(IntArray table, int entries, int i) {
        int lo = 0;
        int hi = entries - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (table.get(mid * TABLE_ENTRY) <= i) lo = mid;
            else hi = mid - 1;
        }
        return lo * TABLE_ENTRY;
    }

    /**
     * {@link #adam} over several parameter tensors in one launch (the scalars are {@link #adam}'s): a[0] elements in
     * all, a[1] tensors, a[5] decoupled; tensor t's entry in {@code table} is {first element's index in the launch,
     * param, grad, m, v}.
     */
    public static void adamMulti(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s, IntArray table) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int e = tableEntry(table, a.get(1), i);
            int j = i - table.get(e);
            adamElement(f, s, a.get(5), table.get(e + 1) + j, table.get(e + 2) + j, table.get(e + 3) + j, table.get(e + 4) + j);
        }
    }

    /**
     * Elementwise ops over many tensors in one launch, a[2] the op, a[1] table entries:
     * <ul>
     *   <li>0, EMA: entry {first index, shadow, param}; shadow = shadow s[0] + param s[1] (s[1] = 1 - s[0]), in place;
     *       a[0] elements in all, one work-item each;</li>
     *   <li>1, scale: entry {first index, source, destination}; destination = source s[0]; a[0] elements in all;</li>
     *   <li>2, sums of squares: entry {unused, source, length, partial}: one work-item per entry (a[0] = entries)
     *       writes the sum of its elements' squares, accumulated in double, to the float arena at partial.</li>
     *   <li>3, concat: entry {first index, source, destination, block, destination stride}: a contiguous part copied
     *       in blocks of {@code block} elements (its extent along the concat dim times the dims after it), block b to
     *       destination + b x destination stride; a[0] elements in all.</li>
     * </ul>
     */
    public static void foreach(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s, IntArray table) {
        int i = c.globalIdx;
        int op = a.get(2);
        if (i < a.get(0)) {
            if (op == 2) {
                int e = i * TABLE_ENTRY;
                int src = table.get(e + 1);
                int len = table.get(e + 2);
                double acc = 0.0;
                for (int j = 0; j < len; j++) {
                    float v = f.get(src + j);
                    acc += v * v;
                }
                f.set(table.get(e + 3), (float) acc);
            } else {
                int e = tableEntry(table, a.get(1), i);
                int j = i - table.get(e);
                int first = table.get(e + 1) + j;
                int second = table.get(e + 2) + j;
                if (op == 0) f.set(first, f.get(first) * s.get(0) + f.get(second) * s.get(1));
                else if (op == 1) f.set(second, f.get(first) * s.get(0));
                else {
                    int block = table.get(e + 3);
                    int b = j / block;
                    f.set(table.get(e + 2) + b * table.get(e + 4) + (j - b * block), f.get(first));
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ convolution

    /**
     * conv2d and its two gradients as implicit GEMMs (no im2col buffer), TILE x TILE tiles in local memory like
     * {@link #matmul}; contiguous tensors. a[0] mode: 0 forward (M = O/g, N = batch x outH x outW, K = C/g x kH x kW),
     * 1 input gradient (M = C/g, N = batch x H x W, K = O/g x kH x kW; the stride's holes read as 0), 2 weight gradient
     * (M = O/g, N = C/g x kH x kW, K = batch x outH x outW). a[1] M, a[2] N, a[3] K, a[4] row tiles per group, a[5] x,
     * a[6] weight, a[7] gradOut, a[8] the bias (-1: none; mode 0 adds it, mode 2 writes its gradient there: B gets one
     * more column, of ones, so that output column N holds the gradient's sums over K), a[9] result, a[10..26] batch,
     * C, H, W, O, C/g, kH, kW, outH, outW, O/g, strideH, strideW, padH, padW, dilationH, dilationW; a[27] 1 for that
     * column of ones (mode 2 with a bias), else 0; a[28] and a[29] the sample (batch) strides of x and gradOut, whose
     * samples are contiguous [C, H, W] and [O, outH, outW] (a channel slice of a concat's gradient needs no copy);
     * a[30] an addend of the result's shape added as it is stored (mode 0: after the bias; a residual, an expanded time
     * embedding; mode 1: a gradient already pending for x), or -1 (always -1 in mode 2), with strides a[31..34] over
     * the result's [N, channels, height, width].
     *
     * <p>The arguments are read once into registers, and each work-item decodes its own fixed row (A loads) and column
     * (B loads) before the K loop, so the loop decodes only k: reading the arguments per element from global memory
     * (the first version) cost most of the time.
     */
    public static void conv(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        float[] tileA = c.allocateFloatLocalArray(256);
        float[] tileB = c.allocateFloatLocalArray(256);
        int xN = a.get(28);
        int gN = a.get(29);
        int lx = c.localIdx;
        int ly = c.localIdy;
        int mode = a.get(0);
        int m = a.get(1);
        int nn = a.get(2);
        int kk = a.get(3);
        int rowTiles = a.get(4);
        int xOff = a.get(5);
        int wOff = a.get(6);
        int gOff = a.get(7);
        int ch = a.get(11);
        int h = a.get(12);
        int w = a.get(13);
        int o = a.get(14);
        int cg = a.get(15);
        int kh = a.get(16);
        int kw = a.get(17);
        int oh = a.get(18);
        int ow = a.get(19);
        int og = a.get(20);
        int sh = a.get(21);
        int sw = a.get(22);
        int ph = a.get(23);
        int pw = a.get(24);
        int dh = a.get(25);
        int dw = a.get(26);
        int khw = kh * kw;
        int ohw = oh * ow;
        int hw = h * w;
        int gy = c.groupIdy;
        int g = gy / rowTiles;
        int row = (gy - g * rowTiles) * 16 + ly; // this work-item's A row (its output row too, with ly)
        int col = c.groupIdx * 16 + lx;          // this work-item's B column (its output column too, with lx)
        int aRow = row;
        // Row of A fixed per work-item: its base address.
        int aBase = 0;
        if (mode == 0) aBase = wOff + (g * og + aRow) * cg * khw;
        else if (mode == 1) aBase = wOff + aRow * khw;                 // + ((g og + oc) cg) khw + rem
        else aBase = gOff + (g * og + aRow) * ohw;                     // + b o ohw + p
        // Column of B fixed per work-item: decode it once.
        int bb = 0;
        int by = 0;
        int bx = 0;
        int bic = 0;
        int bi = 0;
        int bj = 0;
        if (mode == 0) {
            bb = col / ohw;
            int p = col - bb * ohw;
            by = p / ow;
            bx = p - by * ow;
        } else if (mode == 1) {
            bb = col / hw;
            int p = col - bb * hw;
            by = p / w;
            bx = p - by * w;
        } else {
            bic = col / khw;
            int rem = col - bic * khw;
            bi = rem / kw;
            bj = rem - bi * kw;
        }
        float acc = 0.0f;
        for (int t = 0; t < kk; t += 16) {
            c.localBarrier(); // leading, as in convBlocked
            int ka = t + lx;
            float va = 0.0f;
            if (row < m && ka < kk) {
                if (mode == 0) va = f.get(aBase + ka);
                else if (mode == 1) {
                    int oc = ka / khw;
                    va = f.get(aBase + (g * og + oc) * cg * khw + (ka - oc * khw));
                } else {
                    int b = ka / ohw;
                    va = f.get(aBase + b * gN + (ka - b * ohw));
                }
            }
            tileA[ly * 16 + lx] = va;
            int kb = t + ly;
            float vb = 0.0f;
            if (kb < kk && col < nn) {
                if (mode == 0) {
                    int ic = kb / khw;
                    int rem = kb - ic * khw;
                    int i = rem / kw;
                    int j = rem - i * kw;
                    int iy = by * sh - ph + i * dh;
                    int ix = bx * sw - pw + j * dw;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) vb = f.get(xOff + bb * xN + ((g * cg + ic) * h + iy) * w + ix);
                } else if (mode == 1) {
                    int oc = kb / khw;
                    int rem = kb - oc * khw;
                    int i = rem / kw;
                    int j = rem - i * kw;
                    int ty = by + ph - i * dh;
                    int tx = bx + pw - j * dw;
                    if (ty >= 0 && tx >= 0) {
                        int y = ty / sh;
                        int x = tx / sw;
                        if (y * sh == ty && x * sw == tx && y < oh && x < ow) vb = f.get(gOff + bb * gN + ((g * og + oc) * oh + y) * ow + x);
                    }
                } else {
                    int b = kb / ohw;
                    int p = kb - b * ohw;
                    int y = p / ow;
                    int x = p - y * ow;
                    int iy = y * sh - ph + bi * dh;
                    int ix = x * sw - pw + bj * dw;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) vb = f.get(xOff + b * xN + ((g * cg + bic) * h + iy) * w + ix);
                }
            } else if (kb < kk && col == nn && a.get(27) == 1) {
                vb = 1.0f;
            }
            tileB[ly * 16 + lx] = vb;
            c.localBarrier();
            for (int q = 0; q < 16; q++) acc += tileA[ly * 16 + q] * tileB[q * 16 + lx];
        }
        if (row < m && col < nn) {
            if (mode == 0) {
                int oc = g * og + row;
                if (a.get(8) >= 0) acc += f.get(a.get(8) + oc);
                int pix = col - bb * ohw;
                if (a.get(30) >= 0) acc += f.get(a.get(30) + oc * a.get(32) + addendColumn(col, ohw, ow, a.get(31), a.get(33), a.get(34)));
                f.set(a.get(9) + (bb * o + oc) * ohw + pix, acc);
            } else if (mode == 1) {
                int ic = g * cg + row;
                if (a.get(30) >= 0) acc += f.get(a.get(30) + ic * a.get(32) + addendColumn(col, hw, w, a.get(31), a.get(33), a.get(34)));
                f.set(a.get(9) + (bb * ch + ic) * hw + (col - bb * hw), acc);
            } else {
                f.set(a.get(9) + (g * og + row) * nn + col, acc);
            }
        } else if (row < m && col == nn && a.get(27) == 1) {
            f.set(a.get(8) + g * og + row, acc);
        }
    }

    /**
     * {@link #conv} with {@link #matmulBlocked}'s register blocking: 64 x 64 outputs per work-group of 16 x 16, each
     * work-item accumulating a 4 x 4 register tile (rows ly + 16 i, columns lx + 16 j of the block) over K in steps of
     * 16, with the 64 x 16 A panel and the 16 x 64 B panel in local memory. Same argument layout as {@link #conv}, except
     * that a[4] counts 64-row blocks per group; the grid has ceil(N / 64) x (groups x row blocks) work-groups
     * (ceil((N + 1) / 64) for a weight gradient with its bias's).
     *
     * <p>Each work-item loads panel elements p * 256 + tid (p = 0..3, tid = 16 ly + lx). In A that is row 16 p + ly,
     * column lx: one k per step for all four rows, so the k decode (modes 1 and 2) is done once per step and the rows
     * differ by a fixed stride. In B it is row 4 p + tid / 64, column tid % 64: one column for the whole K loop, decoded
     * once before it, as {@link #conv} does.
     *
     * <p>The 4 x 4 multiply-add block repeats {@link #matmulBlocked}'s: a helper cannot share it, since kernel helpers
     * return one value and the 16 accumulators must stay in registers.
     */
    public static void convBlocked(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        float[] tileA = c.allocateFloatLocalArray(1024);
        float[] tileB = c.allocateFloatLocalArray(1024);
        int lx = c.localIdx;
        int ly = c.localIdy;
        int tid = ly * 16 + lx;
        int mode = a.get(0);
        int m = a.get(1);
        int nn = a.get(2);
        int kk = a.get(3);
        int rowBlocks = a.get(4);
        int xOff = a.get(5);
        int wOff = a.get(6);
        int gOff = a.get(7);
        int ch = a.get(11);
        int h = a.get(12);
        int w = a.get(13);
        int o = a.get(14);
        int cg = a.get(15);
        int kh = a.get(16);
        int kw = a.get(17);
        int oh = a.get(18);
        int ow = a.get(19);
        int og = a.get(20);
        int sh = a.get(21);
        int sw = a.get(22);
        int ph = a.get(23);
        int pw = a.get(24);
        int dh = a.get(25);
        int dw = a.get(26);
        int khw = kh * kw;
        int ohw = oh * ow;
        int hw = h * w;
        int gy = c.groupIdy;
        int g = gy / rowBlocks;
        int row0 = (gy - g * rowBlocks) * 64;
        int col0 = c.groupIdx * 64;
        int biasOff = a.get(8);
        // 1: the bias gradient as output column N (mode 2 with a bias). An argument, not derived here: TornadoVM 5.2
        // compiled (mode == 2 && biasOff >= 0), tested again after the K loop, as (mode == 2 || biasOff < 0) negated.
        int onesColumn = a.get(27);
        int xN = a.get(28);
        int gN = a.get(29);
        // A element (row0 + r, k) sits at aBase + r * aStride + hi * aHiStride + lo, with k = hi * aRadix + lo (mode 0:
        // k itself, the radix never reached; mode 1: oc and the tap; mode 2: the batch and the output pixel).
        int aStride = 0;
        int aBase = 0;
        int aRadix = kk + 16;
        int aHiStride = 0;
        if (mode == 0) {
            aStride = cg * khw;
            aBase = wOff + (g * og + row0) * aStride;
        } else if (mode == 1) {
            aStride = khw;
            aBase = wOff + row0 * khw + g * og * cg * khw;
            aRadix = khw;
            aHiStride = cg * khw;
        } else {
            aStride = ohw;
            aBase = gOff + (g * og + row0) * ohw;
            aRadix = ohw;
            aHiStride = gN;
        }
        // This work-item's B column, decoded once: a base address and two coordinate offsets (mode 0: the input row and
        // column of tap (0, 0); mode 1: the padded position the taps count back from; mode 2: the tap's offsets).
        int kq = tid / 64;
        int bCol = col0 + tid - kq * 64;
        int bBase = 0;
        int bY = 0;
        int bX = 0;
        int vRadix = kh; // B's k as (u, v, z) in radices (-, vRadix, zRadix): (ic, i, j), (oc, i, j) or (b, y, x)
        int zRadix = kw;
        if (mode == 0) {
            int bb = bCol / ohw;
            int p = bCol - bb * ohw;
            int y = p / ow;
            int x = p - y * ow;
            bBase = xOff + bb * xN + g * cg * hw;
            bY = y * sh - ph;
            bX = x * sw - pw;
        } else if (mode == 1) {
            int bb = bCol / hw;
            int p = bCol - bb * hw;
            int y = p / w;
            int x = p - y * w;
            bBase = gOff + bb * gN + g * og * ohw;
            bY = y + ph;
            bX = x + pw;
        } else {
            int ic = bCol / khw;
            int rem = bCol - ic * khw;
            int i = rem / kw;
            int j = rem - i * kw;
            bBase = xOff + (g * cg + ic) * hw;
            bY = i * dh - ph;
            bX = j * dw - pw;
            vRadix = oh;
            zRadix = ow;
        }
        // The K loop runs without divisions (scalar on a CPU device, they outweighed the multiply-adds): this
        // work-item's A k advances by 16 per step and its B k (kq + 4 per load) by 4, so both decodes advance by
        // mixed-radix addition of the step, decomposed once here; each digit carries at most 1.
        int hi = lx / aRadix;
        int lo = lx - hi * aRadix;
        int hiStep = 16 / aRadix;
        int loStep = 16 - hiStep * aRadix;
        int vz = vRadix * zRadix;
        int u = kq / vz;
        int v = (kq - u * vz) / zRadix;
        int z = kq - u * vz - v * zRadix;
        int uStep = 4 / vz;
        int vStep = (4 - uStep * vz) / zRadix;
        int zStep = 4 - uStep * vz - vStep * zRadix;
        float c00 = 0.0f;
        float c01 = 0.0f;
        float c02 = 0.0f;
        float c03 = 0.0f;
        float c10 = 0.0f;
        float c11 = 0.0f;
        float c12 = 0.0f;
        float c13 = 0.0f;
        float c20 = 0.0f;
        float c21 = 0.0f;
        float c22 = 0.0f;
        float c23 = 0.0f;
        float c30 = 0.0f;
        float c31 = 0.0f;
        float c32 = 0.0f;
        float c33 = 0.0f;
        for (int t = 0; t < kk; t += 16) {
            // The barrier that keeps this step's panel stores off panels still being read comes first, not after the
            // multiply-adds: TornadoVM schedules those late, past a trailing barrier, so all 128 panel values read would
            // live across it (PoCL keeps such values in per-work-item memory); forward conv on PoCL went 650 -> 350 ms.
            c.localBarrier();
            int ka = t + lx;
            int aK = hi * aHiStride + lo;
            for (int p = 0; p < 4; p++) {
                int r = p * 16 + ly;
                float va = 0.0f;
                if (row0 + r < m && ka < kk) va = f.get(aBase + r * aStride + aK);
                tileA[p * 256 + tid] = va;
                int kb = t + p * 4 + kq;
                float vb = 0.0f;
                if (kb < kk && bCol < nn) {
                    if (mode == 0) {
                        int iy = bY + v * dh;
                        int ix = bX + z * dw;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) vb = f.get(bBase + u * hw + iy * w + ix);
                    } else if (mode == 1) {
                        int ty = bY - v * dh;
                        int tx = bX - z * dw;
                        if (ty >= 0 && tx >= 0) {
                            int y = ty / sh;
                            int x = tx / sw;
                            if (y * sh == ty && x * sw == tx && y < oh && x < ow) vb = f.get(bBase + u * ohw + y * ow + x);
                        }
                    } else {
                        int iy = v * sh + bY;
                        int ix = z * sw + bX;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) vb = f.get(bBase + u * xN + iy * w + ix);
                    }
                } else if (kb < kk && bCol == nn && onesColumn == 1) {
                    vb = 1.0f;
                }
                tileB[p * 256 + tid] = vb;
                z += zStep;
                v += vStep;
                u += uStep;
                if (z >= zRadix) {
                    z -= zRadix;
                    v++;
                }
                if (v >= vRadix) {
                    v -= vRadix;
                    u++;
                }
            }
            lo += loStep;
            hi += hiStep;
            if (lo >= aRadix) {
                lo -= aRadix;
                hi++;
            }
            c.localBarrier();
            for (int q = 0; q < 16; q++) {
                float a0 = tileA[(ly + 0) * 16 + q];
                float a1 = tileA[(ly + 16) * 16 + q];
                float a2 = tileA[(ly + 32) * 16 + q];
                float a3 = tileA[(ly + 48) * 16 + q];
                float b0 = tileB[q * 64 + lx + 0];
                float b1 = tileB[q * 64 + lx + 16];
                float b2 = tileB[q * 64 + lx + 32];
                float b3 = tileB[q * 64 + lx + 48];
                c00 += a0 * b0;
                c01 += a0 * b1;
                c02 += a0 * b2;
                c03 += a0 * b3;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c12 += a1 * b2;
                c13 += a1 * b3;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c22 += a2 * b2;
                c23 += a2 * b3;
                c30 += a3 * b0;
                c31 += a3 * b1;
                c32 += a3 * b2;
                c33 += a3 * b3;
            }
        }
        // Output (row, col) sits at a[9] + (rowOff + row) * rowStride + col + (col / span) * skip: in modes 0 and 1 the
        // column's batch index skips the other channels' planes; in mode 2 the result is a plain M x N matrix per group.
        int rowStride = ohw;
        int rowOff = g * og;
        int span = ohw;
        int skip = (o - 1) * ohw;
        if (mode == 1) {
            rowStride = hw;
            rowOff = g * cg;
            span = hw;
            skip = (ch - 1) * hw;
        } else if (mode == 2) {
            rowStride = nn;
            span = nn;
            skip = 0;
        }
        int outBase = a.get(9);
        int q0 = col0 + lx + 0;
        int q1 = col0 + lx + 16;
        int q2 = col0 + lx + 32;
        int q3 = col0 + lx + 48;
        int o0 = outBase + q0 + (q0 / span) * skip;
        int o1 = outBase + q1 + (q1 / span) * skip;
        int o2 = outBase + q2 + (q2 / span) * skip;
        int o3 = outBase + q3 + (q3 / span) * skip;
        int r0 = row0 + ly + 0;
        int r1 = row0 + ly + 16;
        int r2 = row0 + ly + 32;
        int r3 = row0 + ly + 48;
        // Row r of output column q at o_q + (rowOff + r) * mul_q; the column of ones (q == N) goes to the bias gradient.
        int cols = nn;
        if (onesColumn == 1) cols = nn + 1;
        int ones = -1;
        if (onesColumn == 1) ones = nn;
        o0 = onesColumnOr(q0, ones, o0, biasOff);
        o1 = onesColumnOr(q1, ones, o1, biasOff);
        o2 = onesColumnOr(q2, ones, o2, biasOff);
        o3 = onesColumnOr(q3, ones, o3, biasOff);
        int mul0 = onesColumnOr(q0, ones, rowStride, 1);
        int mul1 = onesColumnOr(q1, ones, rowStride, 1);
        int mul2 = onesColumnOr(q2, ones, rowStride, 1);
        int mul3 = onesColumnOr(q3, ones, rowStride, 1);
        if (mode == 0 && biasOff >= 0) {
            float v0 = 0.0f;
            float v1 = 0.0f;
            float v2 = 0.0f;
            float v3 = 0.0f;
            if (r0 < m) v0 = f.get(biasOff + rowOff + r0);
            if (r1 < m) v1 = f.get(biasOff + rowOff + r1);
            if (r2 < m) v2 = f.get(biasOff + rowOff + r2);
            if (r3 < m) v3 = f.get(biasOff + rowOff + r3);
            c00 += v0;
            c01 += v0;
            c02 += v0;
            c03 += v0;
            c10 += v1;
            c11 += v1;
            c12 += v1;
            c13 += v1;
            c20 += v2;
            c21 += v2;
            c22 += v2;
            c23 += v2;
            c30 += v3;
            c31 += v3;
            c32 += v3;
            c33 += v3;
        }
        int addendOff = a.get(30); // -1 in mode 2
        if (addendOff >= 0) {
            int sC = a.get(32);
            int width = ow; // the result's row length: the output's (mode 0) or the input's (mode 1)
            if (mode == 1) width = w;
            int e0 = addendColumn(q0, span, width, a.get(31), a.get(33), a.get(34));
            int e1 = addendColumn(q1, span, width, a.get(31), a.get(33), a.get(34));
            int e2 = addendColumn(q2, span, width, a.get(31), a.get(33), a.get(34));
            int e3 = addendColumn(q3, span, width, a.get(31), a.get(33), a.get(34));
            c00 += addendAt(f, addendOff, r0 < m && q0 < nn, e0 + (rowOff + r0) * sC);
            c01 += addendAt(f, addendOff, r0 < m && q1 < nn, e1 + (rowOff + r0) * sC);
            c02 += addendAt(f, addendOff, r0 < m && q2 < nn, e2 + (rowOff + r0) * sC);
            c03 += addendAt(f, addendOff, r0 < m && q3 < nn, e3 + (rowOff + r0) * sC);
            c10 += addendAt(f, addendOff, r1 < m && q0 < nn, e0 + (rowOff + r1) * sC);
            c11 += addendAt(f, addendOff, r1 < m && q1 < nn, e1 + (rowOff + r1) * sC);
            c12 += addendAt(f, addendOff, r1 < m && q2 < nn, e2 + (rowOff + r1) * sC);
            c13 += addendAt(f, addendOff, r1 < m && q3 < nn, e3 + (rowOff + r1) * sC);
            c20 += addendAt(f, addendOff, r2 < m && q0 < nn, e0 + (rowOff + r2) * sC);
            c21 += addendAt(f, addendOff, r2 < m && q1 < nn, e1 + (rowOff + r2) * sC);
            c22 += addendAt(f, addendOff, r2 < m && q2 < nn, e2 + (rowOff + r2) * sC);
            c23 += addendAt(f, addendOff, r2 < m && q3 < nn, e3 + (rowOff + r2) * sC);
            c30 += addendAt(f, addendOff, r3 < m && q0 < nn, e0 + (rowOff + r3) * sC);
            c31 += addendAt(f, addendOff, r3 < m && q1 < nn, e1 + (rowOff + r3) * sC);
            c32 += addendAt(f, addendOff, r3 < m && q2 < nn, e2 + (rowOff + r3) * sC);
            c33 += addendAt(f, addendOff, r3 < m && q3 < nn, e3 + (rowOff + r3) * sC);
        }
        if (r0 < m && q0 < cols) f.set(o0 + (rowOff + r0) * mul0, c00);
        if (r0 < m && q1 < cols) f.set(o1 + (rowOff + r0) * mul1, c01);
        if (r0 < m && q2 < cols) f.set(o2 + (rowOff + r0) * mul2, c02);
        if (r0 < m && q3 < cols) f.set(o3 + (rowOff + r0) * mul3, c03);
        if (r1 < m && q0 < cols) f.set(o0 + (rowOff + r1) * mul0, c10);
        if (r1 < m && q1 < cols) f.set(o1 + (rowOff + r1) * mul1, c11);
        if (r1 < m && q2 < cols) f.set(o2 + (rowOff + r1) * mul2, c12);
        if (r1 < m && q3 < cols) f.set(o3 + (rowOff + r1) * mul3, c13);
        if (r2 < m && q0 < cols) f.set(o0 + (rowOff + r2) * mul0, c20);
        if (r2 < m && q1 < cols) f.set(o1 + (rowOff + r2) * mul1, c21);
        if (r2 < m && q2 < cols) f.set(o2 + (rowOff + r2) * mul2, c22);
        if (r2 < m && q3 < cols) f.set(o3 + (rowOff + r2) * mul3, c23);
        if (r3 < m && q0 < cols) f.set(o0 + (rowOff + r3) * mul0, c30);
        if (r3 < m && q1 < cols) f.set(o1 + (rowOff + r3) * mul1, c31);
        if (r3 < m && q2 < cols) f.set(o2 + (rowOff + r3) * mul2, c32);
        if (r3 < m && q3 < cols) f.set(o3 + (rowOff + r3) * mul3, c33);
    }

    // ------------------------------------------------------------------------------------------------ pooling, resizing

    /**
     * Pooling of contiguous [N, C, H, W] over a[0] outputs: a[1] 0 average (padded zeros count), 1 max (with flat H x W
     * indices into the int arena at a[6]); a[2] H, a[3] W, a[4] outH, a[5] outW, a[7] kH, a[8] kW, a[9] strideH,
     * a[10] strideW, a[11] padH, a[12] padW, a[13] x, a[14] out.
     */
    public static void pool(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int o = c.globalIdx;
        if (o < a.get(0)) {
            int h = a.get(2);
            int w = a.get(3);
            int oh = a.get(4);
            int ow = a.get(5);
            int plane = o / (oh * ow);
            int p = o - plane * oh * ow;
            int y = p / ow;
            int x = p - y * ow;
            int kh = a.get(7);
            int kw = a.get(8);
            int base = a.get(13) + plane * h * w;
            double sum = 0.0; // summed and divided in double, then rounded once, as the CPU backends do
            float best = Float.NEGATIVE_INFINITY;
            int at = -1;
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    int iy = y * a.get(9) - a.get(11) + i;
                    int ix = x * a.get(10) - a.get(12) + j;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                        float v = f.get(base + iy * w + ix);
                        sum += v;
                        boolean better = v > best;
                        if (at < 0) better = true;
                        if (v != v && best == best) better = true;
                        if (better) {
                            best = v;
                            at = iy * w + ix;
                        }
                    }
                }
            }
            if (a.get(1) == 0) f.set(a.get(14) + o, (float) (sum / (kh * kw)));
            else {
                f.set(a.get(14) + o, best);
                n.set(a.get(6) + o, at);
            }
        }
    }

    /**
     * (Not named "upsample": that is an OpenCL C built-in, and a kernel of that name made PoCL crash at launch.)
     * Resizes contiguous [N, C, H, W] to [N, C, outH, outW] over a[0] outputs: a[1] 0 nearest (PyTorch's float
     * scale), 1 bilinear, 2 bilinear with align_corners; a[2] H, a[3] W, a[4] outH, a[5] outW, a[6] x, a[7] out;
     * s[0], s[1] the row and column scales (in / out; (in - 1) / (out - 1), or 0, with align_corners).
     */
    public static void resize(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int o = c.globalIdx;
        if (o < a.get(0)) {
            int h = a.get(2);
            int w = a.get(3);
            int oh = a.get(4);
            int ow = a.get(5);
            int plane = o / (oh * ow);
            int p = o - plane * oh * ow;
            int y = p / ow;
            int x = p - y * ow;
            int base = a.get(6) + plane * h * w;
            int mode = a.get(1);
            float v;
            // The scales come from the host (s[0] rows, s[1] columns), correctly rounded: OpenCL's float division may be
            // off by ulps, which moved nearest-neighbour sources at exact multiples.
            float scaleY = s.get(0);
            float scaleX = s.get(1);
            if (mode == 0) {
                int sy = y;
                int sx = x;
                // truncation is floor here (non-negative)
                if (h != oh) sy = TornadoMath.min((int) (y * scaleY), h - 1);
                if (w != ow) sx = TornadoMath.min((int) (x * scaleX), w - 1);
                v = f.get(base + sy * w + sx);
            } else {
                // float source coordinates (the reference computes them in double; the weights differ in the last bits)
                float fy;
                float fx;
                if (mode == 2) {
                    fy = y * scaleY;
                    fx = x * scaleX;
                } else {
                    fy = (y + 0.5f) * scaleY - 0.5f;
                    fx = (x + 0.5f) * scaleX - 0.5f;
                    if (fy < 0) fy = 0.0f;
                    if (fx < 0) fx = 0.0f;
                }
                int y0 = (int) fy;
                int x0 = (int) fx;
                int y1 = TornadoMath.min(y0 + 1, h - 1);
                int x1 = TornadoMath.min(x0 + 1, w - 1);
                float ly = fy - y0;
                float lx = fx - x0;
                v = (1.0f - ly) * ((1.0f - lx) * f.get(base + y0 * w + x0) + lx * f.get(base + y0 * w + x1))
                        + ly * ((1.0f - lx) * f.get(base + y1 * w + x0) + lx * f.get(base + y1 * w + x1));
            }
            f.set(a.get(7) + o, v);
        }
    }

    // ------------------------------------------------------------------------------------------------ indexing

    /**
     * gather (a[1] == 0: the index has the output's shape) or index_select (a[1] == 1: a 1-D index along the dim) into a
     * contiguous output of a[0] elements. a[2] rank r, a[3] dim, a[4] x offset, a[5] index offset (int arena, contiguous),
     * a[6] out offset, a[7] x is in the int arena (1) or the float arena (0), then the output shape (r) and x's strides (r).
     */
    public static void gather(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            int dim = a.get(3);
            int rem = i;
            int off = a.get(4);
            for (int d = r - 1; d >= 0; d--) {
                int size = a.get(8 + d);
                int q = rem / size;
                int coord = rem - q * size;
                rem = q;
                if (d == dim) {
                    if (a.get(1) == 0) coord = n.get(a.get(5) + i);
                    else coord = n.get(a.get(5) + coord);
                }
                off += coord * a.get(8 + r + d);
            }
            if (a.get(7) == 0) f.set(a.get(6) + i, f.get(off));
            else n.set(a.get(6) + i, n.get(off));
        }
    }

    /**
     * scatter_add into a contiguous output of a[0] elements, one work-item per output element: out[c] = sum over j
     * along the dim of src[c with c[dim] = j] where index[c with c[dim] = j] == c[dim]. No atomics (OpenCL has no float
     * atomic add) and a fixed summation order, so results are deterministic; the cost is the output size times the
     * dim's length in src. a[2] rank r, a[3] dim, a[4] src, a[5] index (int arena; src and index contiguous, same
     * shape), a[6] out, then the output shape (r), src's shape (r) and src's contiguous strides (r).
     */
    public static void scatterAdd(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int o = c.globalIdx;
        if (o < a.get(0)) {
            int r = a.get(2);
            int dim = a.get(3);
            int rem = o;
            int base = 0;
            int target = 0;
            boolean inside = true;
            for (int d = r - 1; d >= 0; d--) {
                int size = a.get(8 + d);
                int q = rem / size;
                int coord = rem - q * size;
                rem = q;
                if (d == dim) target = coord;
                else {
                    if (coord >= a.get(8 + r + d)) inside = false;
                    base += coord * a.get(8 + 2 * r + d);
                }
            }
            float acc = 0.0f;
            if (inside) {
                int len = a.get(8 + r + dim);
                int step = a.get(8 + 2 * r + dim);
                for (int j = 0; j < len; j++) {
                    int at = base + j * step;
                    if (n.get(a.get(5) + at) == target) acc += f.get(a.get(4) + at);
                }
            }
            f.set(a.get(6) + o, acc);
        }
    }

    // ------------------------------------------------------------------------------------------------ random

    /**
     * {@code z >>> k} written as an arithmetic shift and a mask: TornadoVM's OpenCL code generator emits {@code >>>} on
     * a long as a signed shift (the draws of negative states came out bit-flipped on PoCL).
     */
    static long unsignedShift(long z, int k) {
        return (z >> k) & ~(-1L << (64 - k));
    }

    static long mix64(long z0) {
        long z = (z0 ^ unsignedShift(z0, 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ unsignedShift(z, 27)) * 0x94D049BB133111EBL;
        return z ^ unsignedShift(z, 31);
    }

    /** Uniform in [0, 1) from draw {@code counter} of stream {@code seed}: the same bits as {@code Rng.uniform}. */
    static double uniform(long seed, long counter) {
        long bits = mix64(mix64(seed) + counter * 0x9E3779B97F4A7C15L);
        return unsignedShift(bits, 11) * 0x1.0p-53;
    }

    /**
     * Fills a[0] contiguous floats at a[1] with draws {@code offset + i} of stream {@code seed} (a[3..4] and a[5..6] as
     * high and low int halves): a[2] 0 uniform on [s0, s1), 1 normal with mean s0 and std s1, by the formulas of
     * {@code dev.distillery.tensor.Rng}, so the device draws what the CPU draws (up to the last bits of log/cos).
     */
    public static void random(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            long seed = ((long) a.get(3) << 32) | (a.get(4) & 0xFFFFFFFFL);
            long counter = (((long) a.get(5) << 32) | (a.get(6) & 0xFFFFFFFFL)) + i;
            double v;
            if (a.get(2) == 0) {
                v = s.get(0) + (s.get(1) - (double) s.get(0)) * uniform(seed, counter);
            } else {
                long st = seed ^ 0x5DEECE66DL;
                double u1 = 1.0 - uniform(st, 2 * counter);
                double u2 = uniform(st, 2 * counter + 1);
                double z = TornadoMath.sqrt(-2.0 * TornadoMath.log(u1)) * TornadoMath.cos(2.0 * Math.PI * u2);
                v = s.get(0) + s.get(1) * z;
            }
            f.set(a.get(1) + i, (float) v);
        }
    }
}
