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
        int off = a.get(base);
        int rem = i;
        for (int d = r - 1; d >= 0; d--) {
            int size = a.get(3 + d);
            int q = rem / size;
            off += (rem - q * size) * a.get(base + 1 + d);
            rem = q;
        }
        return off;
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

    /** erf(x) in float: 1 - erfc from the Chebyshev fit of Numerical Recipes (fractional error below 1.2e-7). */
    static float erf(float x) {
        float z = TornadoMath.abs(x);
        float t = 1.0f / (1.0f + 0.5f * z);
        float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
                + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        float erfc = t * TornadoMath.exp(-z * z + poly);
        float r = 1.0f - erfc;
        if (x < 0) r = -r;
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
        else if (op == 9) r = 0.5f * x * (1.0f + TornadoMath.tanh(0.7978845608028654f * (x + 0.044715f * x * x * x))); // GELU_TANH
        else if (op == 10) r = 0.5f * x * (1.0f + erf(x * 0.7071067811865476f)); // GELU_ERF
        else if (op == 11) { if (!(x > 0) && x == x) r = 0.0f; }             // RELU (NaN stays NaN)
        else if (op == 12) r = x * x;                                         // SQUARE
        else if (op == 13) r = TornadoMath.sin(x);                            // SIN
        else if (op == 14) r = TornadoMath.cos(x);                            // COS
        else if (op == 15) r = 1.0f / x;                                      // RECIPROCAL
        else if (op == 16) { if (x > 0) r = 1.0f; else if (x < 0) r = -1.0f; } // SIGN (0, -0 and NaN stay)
        else if (op == 17) r = x + p0;                                        // ADD_SCALAR
        else if (op == 18) r = x * p0;                                        // MUL_SCALAR
        else if (op == 19) r = TornadoMath.pow(x, p0);                        // POW_SCALAR
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
            float k = 0.7978845608028654f;
            float c = 0.044715f;
            float t = TornadoMath.tanh(k * (x + c * x * x * x));
            r = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * k * (1.0f + 3.0f * c * x * x);
        } else if (op == 10) r = 0.5f * (1.0f + erf(x * 0.7071067811865476f)) + x * TornadoMath.exp(-0.5f * x * x) * 0.3989422804014327f;
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
        else if (op == 4) r = TornadoMath.pow(x, y);
        else if (op == 5) { if (x != x || y != y) r = x + y; else r = TornadoMath.max(x, y); }
        else if (op == 6) { if (x != x || y != y) r = x + y; else r = TornadoMath.min(x, y); }
        return r;
    }

    /** {@code a op b} for a {@code CompareOp} ordinal, as 0/1. */
    static int compareOp(int op, float x, float y) {
        int r = 0;
        if (op == 0) { if (x == y) r = 1; }
        else if (op == 1) { if (x != y) r = 1; }
        else if (op == 2) { if (x < y) r = 1; }
        else if (op == 3) { if (x <= y) r = 1; }
        else if (op == 4) { if (x > y) r = 1; }
        else if (op == 5) { if (x >= y) r = 1; }
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

    /** out (2) = gradOut (1) * op'(x (0)). */
    public static void unaryBackward(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int r = a.get(2);
            float d = unaryDerivative(a.get(1), f.get(at(a, r, 0, i)), s.get(0), s.get(1));
            f.set(at(a, r, 2, i), f.get(at(a, r, 1, i)) * d);
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
                else acc += TornadoMath.exp(x - aux);
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
     * Batched matmul C[b] = A[b] B[b] with TILE x TILE tiles in local memory. a[0] M, a[1] N, a[2] K, a[3] row tiles
     * per batch (ceil(M / TILE)), A at a[4] with strides batch a[5], row a[6], col a[7]; B at a[8] with strides a[9],
     * a[10], a[11]; C (contiguous [B, M, N]) at a[12]. Grid: x over ceil(N / TILE) TILE columns, y over batches x row
     * tiles, both in groups of TILE.
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
        int aBase = a.get(4) + batch * a.get(5) + row * a.get(6);
        int aCol = a.get(7);
        int bBase = a.get(8) + batch * a.get(9) + col * a.get(11);
        int bRow = a.get(10);
        float acc = 0.0f;
        for (int t = 0; t < kk; t += 16) {
            int ka = t + lx;
            float va = 0.0f;
            if (row < m && ka < kk) va = f.get(aBase + ka * aCol);
            tileA[ly * 16 + lx] = va;
            int kb = t + ly;
            float vb = 0.0f;
            if (kb < kk && col < nn) vb = f.get(bBase + kb * bRow);
            tileB[ly * 16 + lx] = vb;
            c.localBarrier();
            for (int q = 0; q < 16; q++) acc += tileA[ly * 16 + q] * tileB[q * 16 + lx];
            c.localBarrier();
        }
        if (row < m && col < nn) f.set(a.get(12) + (batch * m + row) * nn + col, acc);
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
     * the weight index is the channel. s[0] is eps. Variance is the biased two-pass variance.
     */
    public static void norm(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int w = c.globalIdx;
        if (w < a.get(0)) {
            int len = a.get(2);
            int x = a.get(3) + w * len;
            int y = a.get(4) + w * len;
            float sum = 0.0f;
            for (int j = 0; j < len; j++) sum += f.get(x + j);
            float mean = sum / len;
            float sq = 0.0f;
            for (int j = 0; j < len; j++) {
                float d = f.get(x + j) - mean;
                sq += d * d;
            }
            float rstd = 1.0f / TornadoMath.sqrt(sq / len + s.get(0));
            f.set(a.get(5) + w, mean);
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
                float v = (f.get(x + j) - mean) * rstd;
                int p = j;
                if (a.get(1) == 1) p = group * perGroup + j / spatial;
                if (wt >= 0) v = v * f.get(wt + p);
                if (bs >= 0) v = v + f.get(bs + p);
                f.set(y + j, v);
            }
        }
    }

    /**
     * One Adam/AdamW step over a[0] contiguous elements: param a[1], grad a[2], m a[3], v a[4]; s = {lr, beta1,
     * beta2, eps, weightDecay, lr / (1 - beta1^t), sqrt(1 - beta2^t)}; a[5] == 1 for decoupled weight decay (AdamW).
     */
    public static void adam(KernelContext c, FloatArray f, IntArray n, IntArray a, FloatArray s) {
        int i = c.globalIdx;
        if (i < a.get(0)) {
            int pi = a.get(1) + i;
            int mi = a.get(3) + i;
            int vi = a.get(4) + i;
            float p = f.get(pi);
            float g = f.get(a.get(2) + i);
            float b1 = s.get(1);
            float b2 = s.get(2);
            if (a.get(5) == 1) p = p * (1.0f - s.get(0) * s.get(4));
            else g = g + s.get(4) * p;
            float m = b1 * f.get(mi) + (1.0f - b1) * g;
            float v = b2 * f.get(vi) + (1.0f - b2) * g * g;
            f.set(mi, m);
            f.set(vi, v);
            f.set(pi, p - s.get(5) * m / (TornadoMath.sqrt(v) / s.get(6) + s.get(3)));
        }
    }
}
