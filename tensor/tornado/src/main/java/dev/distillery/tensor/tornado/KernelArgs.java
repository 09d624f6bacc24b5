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
        int r = shape.length;
        if (3 + r + operands.length * (r + 1) > INTS)
            throw new IllegalArgumentException("tornado kernels take tensors of rank up to " + MAX_RANK + ", got rank " + r);
        int n = 1;
        for (int d : shape) n *= d;
        a.set(0, n);
        a.set(1, op);
        a.set(2, r);
        for (int d = 0; d < r; d++) a.set(3 + d, shape[d]);
        for (int k = 0; k < operands.length; k++) {
            int b = 3 + r + k * (r + 1);
            Tensor t = operands[k];
            a.set(b, base(t));
            int[] st = t.strides();
            for (int d = 0; d < r; d++) a.set(b + 1 + d, st[d]);
        }
    }
}
