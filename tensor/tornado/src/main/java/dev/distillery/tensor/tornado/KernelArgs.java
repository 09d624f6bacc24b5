package dev.distillery.tensor.tornado;

import dev.distillery.tensor.Tensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Writes the argument buffers of one launch in the layouts {@link TornadoKernels} documents. Tensors are addressed by
 * arena offset ({@link TornadoStorage#offset()} plus the view's offset) and element strides.
 */
final class KernelArgs {
    /** Size of the integer argument buffer: enough for rank 8 with 4 operands, or a reduction of rank 8. */
    static final int INTS = 128;
    /** Size of the float argument buffer. */
    static final int FLOATS = 16;
    /** The highest rank the kernels index (elementwise layouts: 3 + r + 4 (r + 1) ints). */
    static final int MAX_RANK = 16;

    private final IntArray a;
    private final FloatArray s;

    KernelArgs(IntArray a, FloatArray s) {
        this.a = a;
        this.s = s;
    }

    /** Arena index of a tensor's first element. */
    static int base(Tensor t) {
        return ((TornadoStorage) t.storage()).offset() + t.offset();
    }

    void set(int i, int v) { a.set(i, v); }

    void scalar(int i, double v) { s.set(i, (float) v); }

    /**
     * The elementwise layout: count, op code, the shared shape and each operand's offset and strides (operands share
     * {@code shape}; stride-0 dims are broadcasts).
     */
    void elementwise(int op, int[] shape, Tensor... operands) {
        int[][] strides = new int[operands.length][];
        for (int k = 0; k < operands.length; k++) strides[k] = operands[k].strides();
        int[] merged = coalesce(shape, strides);
        int r = merged.length;
        if (3 + r + operands.length * (r + 1) > INTS)
            throw new IllegalArgumentException("tornado kernels take tensors of rank up to " + MAX_RANK + ", got rank " + shape.length);
        int n = 1;
        for (int d : shape) n *= d;
        a.set(0, n);
        a.set(1, op);
        a.set(2, r);
        for (int d = 0; d < r; d++) a.set(3 + d, merged[d]);
        for (int k = 0; k < operands.length; k++) {
            int b = 3 + r + k * (r + 1);
            a.set(b, base(operands[k]));
            for (int d = 0; d < r; d++) a.set(b + 1 + d, strides[k][d]);
        }
    }

    /**
     * Merges the dims of a shared shape that every operand walks as one (dim d and d + 1 when each operand's stride of
     * d is its stride of d + 1 times size d + 1) and drops size-1 dims, rewriting {@code strides} in place to the merged
     * dims' strides; returns the merged shape. A contiguous tensor (and a broadcast scalar) becomes one dim, so the
     * kernels' per-element index decoding ({@code TornadoKernels.walk}: a division per dim) runs once instead of once
     * per dim. Empty shapes are left alone.
     */
    static int[] coalesce(int[] shape, int[][] strides) {
        int r = shape.length;
        for (int d : shape) if (d == 0) return shape;
        int[] outShape = new int[r];
        int[][] outStrides = new int[strides.length][r];
        int m = 0; // merged dims, built from the innermost outwards into the tail of the arrays
        for (int d = r - 1; d >= 0; d--) {
            if (shape[d] == 1) continue;
            boolean joins = m > 0;
            for (int k = 0; k < strides.length && joins; k++)
                joins = strides[k][d] == outStrides[k][r - m] * outShape[r - m];
            if (joins) {
                outShape[r - m] *= shape[d];
            } else {
                m++;
                outShape[r - m] = shape[d];
                for (int k = 0; k < strides.length; k++) outStrides[k][r - m] = strides[k][d];
            }
        }
        for (int k = 0; k < strides.length; k++) strides[k] = java.util.Arrays.copyOfRange(outStrides[k], r - m, r);
        return java.util.Arrays.copyOfRange(outShape, r - m, r);
    }
}
