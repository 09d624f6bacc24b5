package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;

/**
 * Row-major iteration over several operands that share one shape but not one layout. Size-1 dims are dropped and
 * neighbouring dims merged wherever every operand allows it (TensorIterator-style coalescing), so a contiguous
 * tensor becomes one run, [N, C, H, W] + [1, C, 1, 1] becomes [N, C, H*W] with strides (0, 1, 0) for the bias, and a
 * transpose keeps its two dims. Kernels then work on runs along the innermost coalesced dim, where each operand
 * has one fixed stride (0, 1 or anything).
 */
final class StridedIter {
    final int rank;
    final int[] sizes;
    /** strides[k][d] of operand k. */
    final int[][] strides;
    final int[] offsets;
    final int numel;

    private StridedIter(int[] sizes, int[][] strides, int[] offsets, int numel) {
        this.rank = sizes.length;
        this.sizes = sizes;
        this.strides = strides;
        this.offsets = offsets;
        this.numel = numel;
    }

    /** Iterates {@code ops} (same shape) in row-major order of their logical index. */
    static StridedIter of(Tensor... ops) {
        int[][] st = new int[ops.length][];
        int[] off = new int[ops.length];
        for (int k = 0; k < ops.length; k++) {
            st[k] = ops[k].strides();
            off[k] = ops[k].offset();
        }
        return of(ops[0].shape(), st, off);
    }

    static StridedIter of(int[] shape, int[][] strides, int[] offsets) {
        int nops = strides.length;
        long n = 1;
        for (int s : shape) n *= s;
        int r = shape.length;
        int[] sz = new int[Math.max(1, r)];
        int[][] st = new int[nops][Math.max(1, r)];
        int m = 0; // number of coalesced dims, built innermost first into position (len-1-m)
        for (int d = r - 1; d >= 0; d--) {
            if (shape[d] == 1) continue;
            if (m > 0) {
                int inner = sz.length - m; // position of the current outermost coalesced dim
                boolean merge = true;
                for (int k = 0; k < nops && merge; k++) merge = (long) strides[k][d] == (long) st[k][inner] * sz[inner];
                if (merge) {
                    sz[inner] *= shape[d];
                    continue;
                }
            }
            m++;
            int pos = sz.length - m;
            sz[pos] = shape[d];
            for (int k = 0; k < nops; k++) st[k][pos] = strides[k][d];
        }
        if (m == 0) { // scalar or all size-1 dims
            return new StridedIter(new int[]{1}, new int[nops][1], offsets.clone(), (int) n);
        }
        int[] sizes = java.util.Arrays.copyOfRange(sz, sz.length - m, sz.length);
        int[][] strides2 = new int[nops][];
        for (int k = 0; k < nops; k++) strides2[k] = java.util.Arrays.copyOfRange(st[k], sz.length - m, sz.length);
        return new StridedIter(sizes, strides2, offsets.clone(), (int) n);
    }

    int innerSize() {
        return sizes[rank - 1];
    }

    int innerStride(int op) {
        return strides[op][rank - 1];
    }

    /** A run body: {@code offs[k]} is operand k's storage index of the run's first element. */
    @FunctionalInterface
    interface Run {
        void run(int[] offs, int len);
    }

    /** Calls {@code body} for the runs covering logical positions {@code [start, end)}. */
    void forEachRun(int start, int end, Run body) {
        if (start >= end) return;
        int nops = offsets.length, last = rank - 1, inner = sizes[last];
        int[] coord = new int[rank];
        int[] offs = offsets.clone();
        int rem = start;
        for (int d = last; d >= 0; d--) {
            coord[d] = rem % sizes[d];
            rem /= sizes[d];
            for (int k = 0; k < nops; k++) offs[k] += coord[d] * strides[k][d];
        }
        int pos = start;
        int[] runOffs = new int[nops];
        while (true) {
            int len = Math.min(inner - coord[last], end - pos);
            System.arraycopy(offs, 0, runOffs, 0, nops);
            body.run(runOffs, len);
            pos += len;
            if (pos >= end) return;
            // Next row: back to the row start, then carry into the outer dims.
            for (int k = 0; k < nops; k++) offs[k] -= coord[last] * strides[k][last];
            coord[last] = 0;
            for (int d = last - 1; d >= 0; d--) {
                coord[d]++;
                for (int k = 0; k < nops; k++) offs[k] += strides[k][d];
                if (coord[d] < sizes[d]) break;
                for (int k = 0; k < nops; k++) offs[k] -= sizes[d] * strides[k][d];
                coord[d] = 0;
            }
        }
    }

    /** Runs over the whole iteration space in parallel chunks of at least {@code grain} elements. */
    void parallelRuns(int grain, Run body) {
        Parallel.forRange(numel, grain, (s, e) -> forEachRun(s, e, body));
    }

    /** The heap array behind a CPU storage, or null for a storage this backend does not know. */
    static Object array(Storage s) {
        return switch (s) {
            case Storage.FloatStorage f -> f.data();
            case Storage.DoubleStorage d -> d.data();
            case Storage.LongStorage l -> l.data();
            case Storage.BoolStorage b -> b.data();
            case Storage.HalfStorage h -> h.data();
            default -> null;
        };
    }

    static float[] f32(Tensor t) {
        return ((Storage.FloatStorage) t.storage()).data();
    }

    static double[] f64(Tensor t) {
        return ((Storage.DoubleStorage) t.storage()).data();
    }
}
