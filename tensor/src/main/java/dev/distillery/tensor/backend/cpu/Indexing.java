package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.ReferenceBackend;

import java.util.List;

/** concat, indexSelect, gather and pad: index arithmetic around {@link Copy}'s runs. */
final class Indexing {
    private Indexing() {}

    private static final int GRAIN = 1 << 15;

    static Tensor concat(List<Tensor> parts, int dim) {
        int[] shape = parts.get(0).shape();
        shape[dim] = 0;
        for (Tensor t : parts) shape[dim] += t.size(dim);
        Tensor out = Elementwise.allocUninitialized(parts.get(0).dtype(), shape);
        int at = 0;
        for (Tensor t : parts) {
            int len = t.size(dim);
            if (len > 0) Copy.copyInto(t, out.narrow(dim, at, len));
            at += len;
        }
        return out;
    }

    static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        long[] idx = index.toLongArray();
        int[] shape = x.shape();
        int n = shape[dim];
        shape[dim] = idx.length;
        Tensor out = Elementwise.allocUninitialized(x.dtype(), shape);
        int total = out.numel();
        if (total == 0) return out;
        if (!x.isContiguous() || x.dtype() == DType.BOOL) {
            for (int i = 0; i < idx.length; i++) Copy.copyInto(x.select(dim, (int) idx[i]), out.select(dim, i));
            return out;
        }
        int inner = 1;
        for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
        int k = idx.length, in = inner, xo = x.offset();
        Object src = StridedIter.array(x.storage()), dst = StridedIter.array(out.storage());
        // Rows of `inner` elements: out row (o, i) = x row (o, idx[i]).
        Parallel.forRange(total / inner, Math.max(1, GRAIN / inner), (a, b) -> {
            for (int row = a; row < b; row++) {
                int o = row / k, i = row % k;
                System.arraycopy(src, xo + (int) ((long) o * n + idx[i]) * in, dst, row * in, in);
            }
        });
        return out;
    }

    static Tensor gather(Tensor x, int dim, Tensor index) {
        int[] shape = index.shape();
        DType dt = x.dtype();
        if (dt != DType.F32 && dt != DType.F64 || !(index.storage() instanceof Storage.LongStorage ls))
            return ReferenceBackend.INSTANCE.gather(x, dim, index);
        Tensor out = Elementwise.allocUninitialized(dt, shape);
        if (out.numel() == 0) return out;
        long[] ia = ls.data();
        // Operand 2 walks x with index's shape and dim's stride zeroed: it gives the base of each gathered element.
        int[] xs = x.strides();
        int sd = xs[dim];
        xs[dim] = 0;
        StridedIter it = StridedIter.of(shape, new int[][]{out.strides(), index.strides(), xs},
                new int[]{0, index.offset(), x.offset()});
        int os = it.innerStride(0), is = it.innerStride(1), bs = it.innerStride(2);
        if (dt == DType.F32) {
            float[] xa = StridedIter.f32(x), oa = StridedIter.f32(out);
            it.parallelRuns(GRAIN, (offs, len) -> {
                for (int i = 0; i < len; i++) oa[offs[0] + i * os] = xa[offs[2] + i * bs + (int) ia[offs[1] + i * is] * sd];
            });
        } else {
            double[] xa = StridedIter.f64(x), oa = StridedIter.f64(out);
            it.parallelRuns(GRAIN, (offs, len) -> {
                for (int i = 0; i < len; i++) oa[offs[0] + i * os] = xa[offs[2] + i * bs + (int) ia[offs[1] + i * is] * sd];
            });
        }
        return out;
    }

    static Tensor pad(Tensor x, int[] pads, PadMode mode, double value) {
        int[] shape = x.shape(), outShape = new int[shape.length];
        for (int d = 0; d < shape.length; d++) outShape[d] = shape[d] + pads[2 * d] + pads[2 * d + 1];
        DType dt = x.dtype();
        if (dt != DType.F32 && dt != DType.F64 || shape.length == 0) return ReferenceBackend.INSTANCE.pad(x, pads, mode, value);
        Tensor out = Elementwise.alloc(dt, outShape);
        int total = out.numel();
        if (total == 0) return out;
        if (mode == PadMode.CONSTANT || x.numel() == 0) {
            if (value != 0) {
                if (dt == DType.F32) {
                    float[] o = StridedIter.f32(out);
                    float v = (float) value;
                    Parallel.forRange(total, GRAIN * 4, (a, b) -> java.util.Arrays.fill(o, a, b, v));
                } else {
                    double[] o = StridedIter.f64(out);
                    Parallel.forRange(total, GRAIN * 4, (a, b) -> java.util.Arrays.fill(o, a, b, value));
                }
            }
            if (x.numel() == 0) return out;
            Tensor interior = out;
            for (int d = 0; d < shape.length; d++) interior = interior.narrow(d, pads[2 * d], shape[d]);
            Copy.copyInto(x, interior);
            return out;
        }
        // REFLECT / REPLICATE: per-dim maps from output coordinate to source storage offset.
        int rank = shape.length;
        int[] xst = x.strides();
        int[][] map = new int[rank][];
        for (int d = 0; d < rank; d++) {
            map[d] = new int[outShape[d]];
            for (int c = 0; c < outShape[d]; c++) {
                int s = c - pads[2 * d];
                if (s < 0 || s >= shape[d]) s = mode == PadMode.REFLECT ? (s < 0 ? -s : 2 * (shape[d] - 1) - s) : (s < 0 ? 0 : shape[d] - 1);
                map[d][c] = s * xst[d];
            }
        }
        int last = outShape[rank - 1], rows = total / last, xo = x.offset();
        int[] lastMap = map[rank - 1];
        boolean f32 = dt == DType.F32;
        float[] xf = f32 ? StridedIter.f32(x) : null, of = f32 ? StridedIter.f32(out) : null;
        double[] xd = f32 ? null : StridedIter.f64(x), od = f32 ? null : StridedIter.f64(out);
        Parallel.forRange(rows, Math.max(1, GRAIN / last), (a, b) -> {
            for (int r = a; r < b; r++) {
                int base = xo, rem = r;
                for (int d = rank - 2; d >= 0; d--) {
                    base += map[d][rem % outShape[d]];
                    rem /= outShape[d];
                }
                int o = r * last;
                if (f32) for (int j = 0; j < last; j++) of[o + j] = xf[base + lastMap[j]];
                else for (int j = 0; j < last; j++) od[o + j] = xd[base + lastMap[j]];
            }
        });
        return out;
    }
}
