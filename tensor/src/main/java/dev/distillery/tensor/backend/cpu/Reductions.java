package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.ReduceOp;
import dev.distillery.tensor.backend.ReferenceBackend;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions over any set of dims.
 *
 * <p>The input's dims are coalesced into kept and reduced groups. F32 then takes one of two vector kernels:
 * <ul>
 *   <li>ROW: the innermost reduced dim is unit-stride (sum over the last dims, or over N and H*W of [N, C, H*W]):
 *   each output reduces contiguous runs.</li>
 *   <li>COL: the innermost kept dim is unit-stride (column sums such as bias gradients [B, D] -> [D]): blocks of
 *   adjacent outputs are accumulated together, one vector lane per output, row by row.</li>
 * </ul>
 * Everything else (and all of F64) streams through the elements in the reference's order in double, which makes
 * F64 results bit-identical to {@link ReferenceBackend}.
 *
 * <p>Determinism: the reduced index space of each output is cut into fixed segments (a function of the shape
 * only), each segment is reduced by one task in a fixed order, and segment partials are combined in order. So the
 * result never depends on the thread count, while a single huge output (a full sum) still uses every thread.
 * F32 sums accumulate in float vectors within a segment (at most {@link #ROW_SEG} elements, or
 * {@link #COL_SEG} rows) and in double across segments.
 */
final class Reductions {
    private Reductions() {}

    private static final VectorSpecies<Float> F = VectorInfo.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final int GRAIN = 1 << 15;
    /** Reduced elements per ROW segment. */
    static final int ROW_SEG = 1 << 14;
    /** Reduced rows per COL segment. */
    static final int COL_SEG = 512;
    /** Columns per COL block (four vectors in registers). */
    private static final int COL_BLOCK = 4 * L;

    // Pass modes.
    private static final int SUM = 0, SQDEV = 1, EXPDEV = 2, MAX = 3, MIN = 4;

    /** Coalesced kept and reduced dims. */
    private static final class Plan {
        int[] kSize, kStride, rSize, rStride;
        int outputs, redN, offset;

        int keptOffset(int o) {
            int off = offset;
            for (int d = kSize.length - 1; d >= 0; d--) {
                off += (o % kSize[d]) * kStride[d];
                o /= kSize[d];
            }
            return off;
        }

        int redOffset(int r, int rank) {
            int off = 0;
            for (int d = rank - 1; d >= 0; d--) {
                off += (r % rSize[d]) * rStride[d];
                r /= rSize[d];
            }
            return off;
        }
    }

    private static Plan plan(Tensor x, int[] dims) {
        int[] shape = x.shape(), st = x.strides();
        boolean[] red = new boolean[shape.length];
        for (int d : dims) red[d] = true;
        int[] ks = new int[shape.length], kst = new int[shape.length], rs = new int[shape.length], rst = new int[shape.length];
        int nk = 0, nr = 0;
        // Walk outer to inner; merge a dim into the previous one of its group when they are adjacent (no other
        // non-trivial dim in between) and the strides allow it.
        int prevGroup = -1; // 0 kept, 1 reduced
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) continue;
            int g = red[d] ? 1 : 0;
            if (g == 1) {
                if (prevGroup == 1 && rst[nr - 1] == st[d] * shape[d]) {
                    rs[nr - 1] *= shape[d];
                    rst[nr - 1] = st[d];
                } else {
                    rs[nr] = shape[d];
                    rst[nr++] = st[d];
                }
            } else {
                if (prevGroup == 0 && kst[nk - 1] == st[d] * shape[d]) {
                    ks[nk - 1] *= shape[d];
                    kst[nk - 1] = st[d];
                } else {
                    ks[nk] = shape[d];
                    kst[nk++] = st[d];
                }
            }
            prevGroup = g;
        }
        Plan p = new Plan();
        p.kSize = java.util.Arrays.copyOf(ks, nk);
        p.kStride = java.util.Arrays.copyOf(kst, nk);
        p.rSize = java.util.Arrays.copyOf(rs, nr);
        p.rStride = java.util.Arrays.copyOf(rst, nr);
        int outputs = 1, redN = 1;
        for (int s : p.kSize) outputs *= s;
        for (int s : p.rSize) redN *= s;
        p.outputs = outputs;
        p.redN = redN;
        p.offset = x.offset();
        return p;
    }

    static Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, double correction) {
        boolean arg = op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN;
        int[] outShape = ReferenceBackend.reducedShape(x.shape(), dims, keepDim);
        Tensor out = Elementwise.alloc(arg ? DType.I64 : x.dtype(), outShape);
        int outputs = out.numel();
        if (outputs == 0) return out;
        int redN = 1;
        for (int d : dims) redN *= x.size(d);
        if (redN == 0) { // only SUM and MEAN get here (the front end rejects the rest)
            if (op == ReduceOp.MEAN) for (int i = 0; i < outputs; i++) out.storage().setDouble(i, Double.NaN);
            return out;
        }
        Plan p = plan(x, dims);
        if (x.dtype() == DType.F32) {
            float[] xa = StridedIter.f32(x);
            int nr = p.rSize.length, nk = p.kSize.length;
            boolean rowOk = nr > 0 && p.rStride[nr - 1] == 1;
            boolean colOk = nk > 0 && p.kStride[nk - 1] == 1 && nr > 0;
            if (rowOk && (p.rSize[nr - 1] >= 4 * L || !colOk)) {
                if (arg) argRow(op == ReduceOp.ARGMAX, p, xa, ((Storage.LongStorage) out.storage()).data());
                else rowReduce(op, p, xa, StridedIter.f32(out), correction);
                return out;
            }
            if (colOk) {
                if (arg) argCol(op == ReduceOp.ARGMAX, p, xa, ((Storage.LongStorage) out.storage()).data());
                else colReduce(op, p, xa, StridedIter.f32(out), correction);
                return out;
            }
            general(op, p, xa, null, out, correction);
        } else {
            general(op, p, null, StridedIter.f64(x), out, correction);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ general

    /** Streams each output's elements in the reference's order, in double (one task per output range). */
    private static void general(ReduceOp op, Plan p, float[] xf, double[] xd, Tensor out, double correction) {
        Storage os = out.storage();
        int redN = p.redN;
        Parallel.forRange(p.outputs, Math.max(1, GRAIN / redN), (a, b) -> {
            int[] coord = new int[p.rSize.length];
            for (int o = a; o < b; o++) {
                int base = p.keptOffset(o);
                double v = switch (op) {
                    case SUM -> stream(p, xf, xd, base, coord, SUM, 0);
                    case MEAN -> stream(p, xf, xd, base, coord, SUM, 0) / redN;
                    case VAR -> {
                        double m = stream(p, xf, xd, base, coord, SUM, 0) / redN;
                        yield stream(p, xf, xd, base, coord, SQDEV, m) / Math.max(0, redN - correction);
                    }
                    case LOGSUMEXP -> {
                        double m = stream(p, xf, xd, base, coord, MAX, 0);
                        if (Double.isInfinite(m)) yield m;
                        yield m + Math.log(stream(p, xf, xd, base, coord, EXPDEV, m));
                    }
                    case MAX, MIN, ARGMAX, ARGMIN -> extreme(p, xf, xd, base, coord, op);
                };
                os.setDouble(o, v);
            }
        });
    }

    private static double stream(Plan p, float[] xf, double[] xd, int base, int[] coord, int mode, double c) {
        int nr = p.rSize.length;
        java.util.Arrays.fill(coord, 0);
        int inner = nr == 0 ? 1 : p.rSize[nr - 1], is = nr == 0 ? 0 : p.rStride[nr - 1];
        double acc = mode == MAX ? Double.NEGATIVE_INFINITY : 0;
        int off = base;
        while (true) {
            for (int i = 0; i < inner; i++) {
                int idx = off + i * is;
                double v = xf != null ? xf[idx] : xd[idx];
                switch (mode) {
                    case SUM -> acc += v;
                    case SQDEV -> acc += (v - c) * (v - c);
                    case EXPDEV -> acc += Math.exp(v - c);
                    default -> acc = Math.max(acc, v);
                }
            }
            int d = nr - 2;
            for (; d >= 0; d--) {
                coord[d]++;
                off += p.rStride[d];
                if (coord[d] < p.rSize[d]) break;
                off -= coord[d] * p.rStride[d];
                coord[d] = 0;
            }
            if (d < 0) return acc;
        }
    }

    /** MAX/MIN value or ARGMAX/ARGMIN index, with the reference's rule (first NaN wins, else first extreme). */
    private static double extreme(Plan p, float[] xf, double[] xd, int base, int[] coord, ReduceOp op) {
        boolean max = op == ReduceOp.MAX || op == ReduceOp.ARGMAX;
        int nr = p.rSize.length;
        java.util.Arrays.fill(coord, 0);
        int inner = nr == 0 ? 1 : p.rSize[nr - 1], is = nr == 0 ? 0 : p.rStride[nr - 1];
        double best = 0;
        int at = -1, r = 0, off = base;
        outer:
        while (true) {
            for (int i = 0; i < inner; i++, r++) {
                int idx = off + i * is;
                double v = xf != null ? xf[idx] : xd[idx];
                if (at < 0 || Double.isNaN(v) || (max ? v > best : v < best)) {
                    best = v;
                    at = r;
                    if (Double.isNaN(v)) break outer;
                }
            }
            int d = nr - 2;
            for (; d >= 0; d--) {
                coord[d]++;
                off += p.rStride[d];
                if (coord[d] < p.rSize[d]) break;
                off -= coord[d] * p.rStride[d];
                coord[d] = 0;
            }
            if (d < 0) break;
        }
        return op == ReduceOp.MAX || op == ReduceOp.MIN ? best : at;
    }

    // ------------------------------------------------------------------------------------------------ ROW

    /** Called once per output with its combined total. */
    @FunctionalInterface
    private interface Fin {
        void accept(int o, double total);
    }

    private static void rowReduce(ReduceOp op, Plan p, float[] x, float[] out, double correction) {
        int n = p.redN;
        switch (op) {
            case SUM -> rowPass(p, x, SUM, null, (o, t) -> out[o] = (float) t);
            case MEAN -> rowPass(p, x, SUM, null, (o, t) -> out[o] = (float) (t / n));
            case MAX -> rowPass(p, x, MAX, null, (o, t) -> out[o] = (float) t);
            case MIN -> rowPass(p, x, MIN, null, (o, t) -> out[o] = (float) t);
            case VAR -> {
                double[] corr = new double[1];
                rowPass(p, x, SUM, null, (o, t) -> out[o] = (float) (t / n));
                // Deviations are taken from the float mean mf; sum (x-mf)^2 = sum (x-m)^2 + n (m-mf)^2, and the
                // second term is negligible (it is below float resolution of the variance unless |mean|/std > 1e5).
                rowPass(p, x, SQDEV, out, (o, t) -> out[o] = (float) (t / Math.max(0, n - correction)));
            }
            case LOGSUMEXP -> {
                rowPass(p, x, MAX, null, (o, t) -> out[o] = (float) t);
                rowPass(p, x, EXPDEV, out, (o, t) -> {
                    double m = out[o];
                    if (!Double.isInfinite(m)) out[o] = (float) (m + Math.log(t));
                });
            }
            default -> throw new AssertionError(op);
        }
    }

    /**
     * One pass over every output's reduced elements: totals of x (SUM), (x - c)^2 or exp(x - c) with c =
     * centers[o] (SQDEV, EXPDEV), or the max/min (NaN-propagating), handed to {@code fin}.
     */
    private static void rowPass(Plan p, float[] x, int mode, float[] centers, Fin fin) {
        int outputs = p.outputs, redN = p.redN;
        int segs = (redN + ROW_SEG - 1) / ROW_SEG;
        int tasks = outputs * segs;
        double[] partial = segs > 1 ? new double[tasks] : null;
        int grain = Math.max(1, GRAIN / Math.min(redN, ROW_SEG));
        PieceKernel k = pieceKernel(mode);
        Parallel.forRange(tasks, grain, (a, b) -> {
            float[] tmp = new float[L];
            for (int t = a; t < b; t++) {
                int o = t / segs, sg = t % segs;
                float c = centers == null ? 0 : centers[o];
                if (mode == EXPDEV && Float.isInfinite(c)) {
                    if (partial != null) partial[t] = 0;
                    else fin.accept(o, 0);
                    continue;
                }
                double v = rowSegment(p, x, p.keptOffset(o), sg * ROW_SEG, Math.min(redN, (sg + 1) * ROW_SEG), mode, k, c, tmp);
                if (partial != null) partial[t] = v;
                else fin.accept(o, v);
            }
        });
        if (partial != null) {
            Parallel.forRange(outputs, Math.max(1, 4096 / segs), (a, b) -> {
                for (int o = a; o < b; o++) fin.accept(o, combine(partial, o * segs, segs, mode));
            });
        }
    }

    private static double combine(double[] partial, int from, int n, int mode) {
        double acc = partial[from];
        for (int i = 1; i < n; i++) {
            double v = partial[from + i];
            acc = switch (mode) {
                case MAX -> Math.max(acc, v);
                case MIN -> Math.min(acc, v);
                default -> acc + v;
            };
        }
        return acc;
    }

    /**
     * Reduces one contiguous piece. Reached through an interface so that each kernel is compiled on its own (see
     * {@link Elementwise.VecKernel}).
     */
    @FunctionalInterface
    private interface PieceKernel {
        double run(float[] x, int off, int n, float c, float[] tmp);
    }

    private static PieceKernel pieceKernel(int mode) {
        return switch (mode) {
            case SUM -> (x, off, n, c, tmp) -> sum(x, off, n, tmp);
            case SQDEV -> Reductions::sqdev;
            case EXPDEV -> Reductions::expdev;
            case MAX -> (x, off, n, c, tmp) -> max(x, off, n);
            default -> (x, off, n, c, tmp) -> min(x, off, n);
        };
    }

    /** Reduces reduced-index range [r0, r1) of the output at {@code base}, as contiguous pieces of the inner dim. */
    private static double rowSegment(Plan p, float[] x, int base, int r0, int r1, int mode, PieceKernel k, float c, float[] tmp) {
        int nr = p.rSize.length, len = p.rSize[nr - 1];
        double acc = mode == MAX ? Double.NEGATIVE_INFINITY : mode == MIN ? Double.POSITIVE_INFINITY : 0;
        int r = r0;
        while (r < r1) {
            int ro = r / len, col = r - ro * len;
            int n = Math.min(len - col, r1 - r);
            int off = base + p.redOffset(ro, nr - 1) + col;
            double v = k.run(x, off, n, c, tmp);
            acc = mode == MAX ? Math.max(acc, v) : mode == MIN ? Math.min(acc, v) : acc + v;
            r += n;
        }
        return acc;
    }

    static double sum(float[] x, int off, int n, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int ub = n - 4 * L; i <= ub; i += 4 * L) {
            a0 = a0.add(FloatVector.fromArray(F, x, off + i));
            a1 = a1.add(FloatVector.fromArray(F, x, off + i + L));
            a2 = a2.add(FloatVector.fromArray(F, x, off + i + 2 * L));
            a3 = a3.add(FloatVector.fromArray(F, x, off + i + 3 * L));
        }
        for (int ub = n - L; i <= ub; i += L) a0 = a0.add(FloatVector.fromArray(F, x, off + i));
        double s = VMath.sumLanes(a0.add(a1).add(a2.add(a3)), tmp);
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    static double sqdev(float[] x, int off, int n, float c, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, cv = FloatVector.broadcast(F, c);
        int i = 0;
        for (int ub = n - 2 * L; i <= ub; i += 2 * L) {
            FloatVector d0 = FloatVector.fromArray(F, x, off + i).sub(cv);
            FloatVector d1 = FloatVector.fromArray(F, x, off + i + L).sub(cv);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        for (int ub = n - L; i <= ub; i += L) {
            FloatVector d0 = FloatVector.fromArray(F, x, off + i).sub(cv);
            a0 = d0.fma(d0, a0);
        }
        double s = VMath.sumLanes(a0.add(a1), tmp);
        for (; i < n; i++) {
            double d = x[off + i] - c;
            s += d * d;
        }
        return s;
    }

    /** Sum of (x - c) and of (x - c)^2 over a run, into st[0] and st[1]. */
    static void devSums(float[] x, int off, int n, float c, double[] st, float[] tmp) {
        FloatVector s1 = FloatVector.zero(F), s2 = s1, cv = FloatVector.broadcast(F, c);
        int i = 0;
        for (int ub = n - L; i <= ub; i += L) {
            FloatVector d = FloatVector.fromArray(F, x, off + i).sub(cv);
            s1 = s1.add(d);
            s2 = d.fma(d, s2);
        }
        double a = VMath.sumLanes(s1, tmp), b = VMath.sumLanes(s2, tmp);
        for (; i < n; i++) {
            double d = x[off + i] - c;
            a += d;
            b += d * d;
        }
        st[0] = a;
        st[1] = b;
    }

    static double expdev(float[] x, int off, int n, float c, float[] tmp) {
        // One exp per iteration: two inlined copies of exp can exceed C2's inlining budget.
        FloatVector a0 = FloatVector.zero(F), cv = FloatVector.broadcast(F, c);
        int i = 0;
        for (int ub = n - L; i <= ub; i += L) a0 = a0.add(VMath.exp(FloatVector.fromArray(F, x, off + i).sub(cv)));
        double s = VMath.sumLanes(a0, tmp);
        for (; i < n; i++) s += Math.exp((double) x[off + i] - c);
        return s;
    }

    /** Max with NaN propagation (lanewise max follows Math.max). */
    static float max(float[] x, int off, int n) {
        FloatVector a = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int ub = n - L; i <= ub; i += L) a = a.max(FloatVector.fromArray(F, x, off + i));
        float s = a.test(VectorOperators.IS_NAN).anyTrue() ? Float.NaN : a.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) s = Math.max(s, x[off + i]);
        return s;
    }

    static float min(float[] x, int off, int n) {
        FloatVector a = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        int i = 0;
        for (int ub = n - L; i <= ub; i += L) a = a.min(FloatVector.fromArray(F, x, off + i));
        float s = a.test(VectorOperators.IS_NAN).anyTrue() ? Float.NaN : a.reduceLanes(VectorOperators.MIN);
        for (; i < n; i++) s = Math.min(s, x[off + i]);
        return s;
    }

    /** ARGMAX/ARGMIN over one unit-stride dim: segment extremes, then the first index holding it. */
    private static void argRow(boolean isMax, Plan p, float[] x, long[] out) {
        int outputs = p.outputs, len = p.redN;
        int segs = (len + ROW_SEG - 1) / ROW_SEG, tasks = outputs * segs;
        float[] segVal = segs > 1 ? new float[tasks] : null;
        int[] segAt = segs > 1 ? new int[tasks] : null;
        Parallel.forRange(tasks, Math.max(1, GRAIN / Math.min(len, ROW_SEG)), (a, b) -> {
            for (int t = a; t < b; t++) {
                int o = t / segs, sg = t % segs;
                int off = p.keptOffset(o), r0 = sg * ROW_SEG, n = Math.min(len, r0 + ROW_SEG) - r0;
                float best = isMax ? max(x, off + r0, n) : min(x, off + r0, n);
                int at = firstIndex(x, off + r0, n, best);
                if (segs == 1) {
                    out[o] = at;
                } else {
                    segVal[t] = best;
                    segAt[t] = r0 + at;
                }
            }
        });
        if (segs == 1) return;
        Parallel.forRange(outputs, Math.max(1, 4096 / segs), (a, b) -> {
            for (int o = a; o < b; o++) {
                float best = segVal[o * segs];
                int at = segAt[o * segs];
                for (int s = 1; s < segs && !Float.isNaN(best); s++) {
                    float v = segVal[o * segs + s];
                    if (Float.isNaN(v) || (isMax ? v > best : v < best)) {
                        best = v;
                        at = segAt[o * segs + s];
                    }
                }
                out[o] = at;
            }
        });
    }

    /** First index i in [0, n) with x[off + i] == v (or NaN when v is NaN). */
    private static int firstIndex(float[] x, int off, int n, float v) {
        boolean nan = Float.isNaN(v);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, off + i);
            VectorMask<Float> m = nan ? xv.test(VectorOperators.IS_NAN) : xv.compare(VectorOperators.EQ, v);
            if (m.anyTrue()) return i + m.firstTrue();
        }
        for (; i < n; i++) if (nan ? Float.isNaN(x[off + i]) : x[off + i] == v) return i;
        return 0; // unreachable: v came from this range
    }

    // ------------------------------------------------------------------------------------------------ COL

    private static void colReduce(ReduceOp op, Plan p, float[] x, float[] out, double correction) {
        int n = p.redN;
        switch (op) {
            case SUM -> colPass(p, x, SUM, null, (o, t) -> out[o] = (float) t);
            case MEAN -> colPass(p, x, SUM, null, (o, t) -> out[o] = (float) (t / n));
            case MAX -> colPass(p, x, MAX, null, (o, t) -> out[o] = (float) t);
            case MIN -> colPass(p, x, MIN, null, (o, t) -> out[o] = (float) t);
            case VAR -> {
                colPass(p, x, SUM, null, (o, t) -> out[o] = (float) (t / n));
                colPass(p, x, SQDEV, out, (o, t) -> out[o] = (float) (t / Math.max(0, n - correction)));
            }
            case LOGSUMEXP -> {
                colPass(p, x, MAX, null, (o, t) -> out[o] = (float) t);
                colPass(p, x, EXPDEV, out, (o, t) -> {
                    double m = out[o];
                    if (!Double.isInfinite(m)) out[o] = (float) (m + Math.log(t));
                });
            }
            default -> throw new AssertionError(op);
        }
    }

    /**
     * Column pass: outputs are [outer kept] x [K columns]; task = (outer, column block, row segment). Within a
     * task the rows of the segment are visited in order and each column accumulates in a vector lane.
     */
    private static void colPass(Plan p, float[] x, int mode, float[] centers, Fin fin) {
        int nk = p.kSize.length, nr = p.rSize.length;
        int K = p.kSize[nk - 1], outer = p.outputs / K, rows = p.redN;
        int blocks = (K + COL_BLOCK - 1) / COL_BLOCK;
        int segs = (rows + COL_SEG - 1) / COL_SEG;
        int tasks = outer * blocks * segs;
        double[] partialD = segs > 1 ? new double[p.outputs * segs] : null;
        Plan outerPlan = new Plan();
        outerPlan.kSize = java.util.Arrays.copyOf(p.kSize, nk - 1);
        outerPlan.kStride = java.util.Arrays.copyOf(p.kStride, nk - 1);
        outerPlan.offset = p.offset;
        ColKernel k = colKernel(mode);
        Parallel.forRange(tasks, 1, (a, b) -> {
            int[] roff = new int[Math.min(rows, COL_SEG)];
            double[] acc = new double[COL_BLOCK];
            for (int t = a; t < b; t++) {
                int sg = t % segs, blk = (t / segs) % blocks, oo = t / (segs * blocks);
                int base = outerPlan.keptOffset(oo);
                int r0 = sg * COL_SEG, nrows = Math.min(rows, r0 + COL_SEG) - r0;
                for (int r = 0; r < nrows; r++) roff[r] = p.redOffset(r0 + r, nr);
                int c0 = blk * COL_BLOCK, width = Math.min(COL_BLOCK, K - c0);
                int outBase = oo * K + c0;
                k.run(x, base + c0, roff, nrows, width, centers, outBase, acc);
                for (int c = 0; c < width; c++) {
                    if (partialD != null) partialD[(outBase + c) * segs + sg] = acc[c];
                    else fin.accept(outBase + c, acc[c]);
                }
            }
        });
        if (partialD != null) {
            Parallel.forRange(p.outputs, Math.max(1, 4096 / segs), (a, b) -> {
                for (int o = a; o < b; o++) fin.accept(o, combine(partialD, o * segs, segs, mode));
            });
        }
    }

    /** Accumulates rows {@code x[base + roff[r] + c]}, c < width (<= COL_BLOCK), into acc[c]; one kernel per mode. */
    @FunctionalInterface
    private interface ColKernel {
        void run(float[] x, int base, int[] roff, int nrows, int width, float[] centers, int outBase, double[] acc);
    }

    private static ColKernel colKernel(int mode) {
        return switch (mode) {
            case SUM -> Reductions::colSum;
            case SQDEV -> Reductions::colSqdev;
            case EXPDEV -> Reductions::colExpdev;
            case MAX -> Reductions::colMax;
            default -> Reductions::colMin;
        };
    }

    private static void colSum(float[] x, int base, int[] roff, int nrows, int width, float[] centers, int outBase, double[] acc) {
        if (width < COL_BLOCK) {
            colNarrow(x, base, roff, nrows, width, SUM, centers, outBase, acc);
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < nrows; r++) {
            int q = base + roff[r];
            a0 = a0.add(FloatVector.fromArray(F, x, q));
            a1 = a1.add(FloatVector.fromArray(F, x, q + L));
            a2 = a2.add(FloatVector.fromArray(F, x, q + 2 * L));
            a3 = a3.add(FloatVector.fromArray(F, x, q + 3 * L));
        }
        store4(a0, a1, a2, a3, acc);
    }

    private static void colMax(float[] x, int base, int[] roff, int nrows, int width, float[] centers, int outBase, double[] acc) {
        if (width < COL_BLOCK) {
            colNarrow(x, base, roff, nrows, width, MAX, centers, outBase, acc);
            return;
        }
        FloatVector a0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < nrows; r++) {
            int q = base + roff[r];
            a0 = a0.max(FloatVector.fromArray(F, x, q));
            a1 = a1.max(FloatVector.fromArray(F, x, q + L));
            a2 = a2.max(FloatVector.fromArray(F, x, q + 2 * L));
            a3 = a3.max(FloatVector.fromArray(F, x, q + 3 * L));
        }
        store4(a0, a1, a2, a3, acc);
    }

    private static void colMin(float[] x, int base, int[] roff, int nrows, int width, float[] centers, int outBase, double[] acc) {
        if (width < COL_BLOCK) {
            colNarrow(x, base, roff, nrows, width, MIN, centers, outBase, acc);
            return;
        }
        FloatVector a0 = FloatVector.broadcast(F, Float.POSITIVE_INFINITY), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < nrows; r++) {
            int q = base + roff[r];
            a0 = a0.min(FloatVector.fromArray(F, x, q));
            a1 = a1.min(FloatVector.fromArray(F, x, q + L));
            a2 = a2.min(FloatVector.fromArray(F, x, q + 2 * L));
            a3 = a3.min(FloatVector.fromArray(F, x, q + 3 * L));
        }
        store4(a0, a1, a2, a3, acc);
    }

    private static void colSqdev(float[] x, int base, int[] roff, int nrows, int width, float[] centers, int outBase, double[] acc) {
        if (width < COL_BLOCK) {
            colNarrow(x, base, roff, nrows, width, SQDEV, centers, outBase, acc);
            return;
        }
        FloatVector c0 = FloatVector.fromArray(F, centers, outBase), c1 = FloatVector.fromArray(F, centers, outBase + L);
        FloatVector c2 = FloatVector.fromArray(F, centers, outBase + 2 * L), c3 = FloatVector.fromArray(F, centers, outBase + 3 * L);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < nrows; r++) {
            int q = base + roff[r];
            FloatVector d0 = FloatVector.fromArray(F, x, q).sub(c0), d1 = FloatVector.fromArray(F, x, q + L).sub(c1);
            FloatVector d2 = FloatVector.fromArray(F, x, q + 2 * L).sub(c2), d3 = FloatVector.fromArray(F, x, q + 3 * L).sub(c3);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        store4(a0, a1, a2, a3, acc);
    }

    /** Sum of exp(x - center) one vector of columns at a time; lanes whose center is infinite are skipped. */
    private static void colExpdev(float[] x, int base, int[] roff, int nrows, int width, float[] centers, int outBase, double[] acc) {
        for (int c = 0; c < width; c += L) {
            VectorMask<Float> m = F.indexInRange(c, width);
            FloatVector cv = FloatVector.fromArray(F, centers, outBase + c, m);
            VectorMask<Float> live = m.andNot(cv.test(VectorOperators.IS_INFINITE));
            FloatVector a = FloatVector.zero(F);
            for (int r = 0; r < nrows; r++)
                a = a.add(VMath.exp(FloatVector.fromArray(F, x, base + roff[r] + c, m).sub(cv)), live);
            for (int k = 0; k < Math.min(L, width - c); k++) acc[c + k] = a.lane(k);
        }
    }

    /** Blocks narrower than COL_BLOCK: one vector at a time, masked at the end. */
    private static void colNarrow(float[] x, int base, int[] roff, int nrows, int width, int mode, float[] centers, int outBase, double[] acc) {
        for (int c = 0; c < width; c += L) {
            VectorMask<Float> m = F.indexInRange(c, width);
            FloatVector a = FloatVector.broadcast(F, mode == MAX ? Float.NEGATIVE_INFINITY : mode == MIN ? Float.POSITIVE_INFINITY : 0f);
            if (mode == SQDEV) {
                FloatVector cv = FloatVector.fromArray(F, centers, outBase + c, m);
                for (int r = 0; r < nrows; r++) {
                    FloatVector d = FloatVector.fromArray(F, x, base + roff[r] + c, m).sub(cv);
                    a = d.fma(d, a);
                }
            } else if (mode == MAX) {
                for (int r = 0; r < nrows; r++) a = a.max(FloatVector.fromArray(F, x, base + roff[r] + c, m));
            } else if (mode == MIN) {
                for (int r = 0; r < nrows; r++) a = a.min(FloatVector.fromArray(F, x, base + roff[r] + c, m));
            } else {
                for (int r = 0; r < nrows; r++) a = a.add(FloatVector.fromArray(F, x, base + roff[r] + c, m));
            }
            for (int k = 0; k < Math.min(L, width - c); k++) acc[c + k] = a.lane(k);
        }
    }

    private static void store4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, double[] acc) {
        store(a0, acc, 0);
        store(a1, acc, L);
        store(a2, acc, 2 * L);
        store(a3, acc, 3 * L);
    }

    private static void store(FloatVector v, double[] acc, int at) {
        for (int k = 0; k < L; k++) acc[at + k] = v.lane(k);
    }

    /** ARGMAX/ARGMIN over a strided dim with unit-stride kept columns: per-lane best value and row. */
    private static void argCol(boolean isMax, Plan p, float[] x, long[] out) {
        int nk = p.kSize.length;
        int K = p.kSize[nk - 1], outer = p.outputs / K, rows = p.redN, rstride = p.rStride[0];
        int blocks = (K + L - 1) / L;
        Plan outerPlan = new Plan();
        outerPlan.kSize = java.util.Arrays.copyOf(p.kSize, nk - 1);
        outerPlan.kStride = java.util.Arrays.copyOf(p.kStride, nk - 1);
        outerPlan.offset = p.offset;
        Parallel.forRange(outer * blocks, Math.max(1, GRAIN / (rows * L)), (a, b) -> {
            int[] idx = new int[L];
            for (int t = a; t < b; t++) {
                int blk = t % blocks, oo = t / blocks;
                int c0 = blk * L, base = outerPlan.keptOffset(oo) + c0;
                VectorMask<Float> m = F.indexInRange(c0, K);
                FloatVector best = FloatVector.fromArray(F, x, base, m);
                IntVector at = IntVector.zero(I);
                for (int r = 1; r < rows; r++) {
                    FloatVector v = FloatVector.fromArray(F, x, base + r * rstride, m);
                    VectorMask<Float> better = (isMax ? v.compare(VectorOperators.GT, best) : v.compare(VectorOperators.LT, best))
                            .or(v.test(VectorOperators.IS_NAN).andNot(best.test(VectorOperators.IS_NAN)));
                    best = best.blend(v, better);
                    at = at.blend(IntVector.broadcast(I, r), better.cast(I));
                }
                at.intoArray(idx, 0);
                for (int k = 0; k < Math.min(L, K - c0); k++) out[oo * K + c0 + k] = idx[k];
            }
        });
    }
}
