package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.NormGradients;
import dev.distillery.tensor.backend.NormResult;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax / log-softmax, layer norm and group norm, and the norms' backward passes.
 *
 * <p>A non-contiguous input is first copied into the output buffer and normalised in place. F32 statistics are
 * vector sums finished in double (mean, then squared deviations from the float mean, corrected exactly for the
 * mean's rounding), so mean and rstd match the reference's double computation to float precision. F64 follows the
 * reference's formulas in the same order and is bit-identical to it.
 */
final class Norms {
    private Norms() {}

    private static final VectorSpecies<Float> F = VectorInfo.F;
    private static final int L = F.length();
    private static final int GRAIN = 1 << 14;

    /** x itself when contiguous, else x copied into {@code out} (which the caller then overwrites in place). */
    private static Tensor source(Tensor x, Tensor out) {
        if (x.isContiguous()) return x;
        Copy.copyInto(x, out);
        return out;
    }

    // ------------------------------------------------------------------------------------------------ softmax

    /**
     * Softmax backward; rows along the last dim of contiguous F32 tensors in one fused pass per row (a dot product,
     * then the update), everything else by the reference.
     */
    static Tensor softmaxBackward(Tensor y, Tensor g, int dim, boolean log) {
        int n = y.numel();
        if (y.dtype() != DType.F32 || dim != y.dim() - 1 || n == 0)
            return dev.distillery.tensor.backend.ReferenceBackend.INSTANCE.softmaxBackward(y, g, dim, log);
        Tensor yc = y.contiguous(), gc = g.contiguous();
        Tensor out = Elementwise.allocUninitialized(DType.F32, y.shape());
        float[] ys = StridedIter.f32(yc), gs = StridedIter.f32(gc), os = StridedIter.f32(out);
        int len = y.size(dim), rows = n / len, yo = yc.offset(), go = gc.offset();
        Parallel.forRange(rows, Math.max(1, GRAIN / len), log
                ? (a, b) -> logSoftmaxBackwardRows(ys, yo, gs, go, os, len, a, b)
                : (a, b) -> softmaxBackwardRows(ys, yo, gs, go, os, len, a, b));
        return out;
    }

    private static void softmaxBackwardRows(float[] y, int yo, float[] g, int go, float[] o, int len, int r0, int r1) {
        float[] tmp = new float[L];
        for (int r = r0; r < r1; r++) {
            int yb = yo + r * len, gb = go + r * len, ob = r * len, i = 0;
            FloatVector acc = FloatVector.zero(F);
            for (int ub = F.loopBound(len); i < ub; i += L)
                acc = FloatVector.fromArray(F, g, gb + i).fma(FloatVector.fromArray(F, y, yb + i), acc);
            double s = VMath.sumLanes(acc, tmp);
            for (; i < len; i++) s += g[gb + i] * y[yb + i];
            float fs = (float) s;
            i = 0;
            for (int ub = F.loopBound(len); i < ub; i += L)
                FloatVector.fromArray(F, y, yb + i).mul(FloatVector.fromArray(F, g, gb + i).sub(fs)).intoArray(o, ob + i);
            for (; i < len; i++) o[ob + i] = y[yb + i] * (g[gb + i] - fs);
        }
    }

    private static void logSoftmaxBackwardRows(float[] y, int yo, float[] g, int go, float[] o, int len, int r0, int r1) {
        float[] tmp = new float[L];
        for (int r = r0; r < r1; r++) {
            int yb = yo + r * len, gb = go + r * len, ob = r * len, i = 0;
            FloatVector acc = FloatVector.zero(F);
            for (int ub = F.loopBound(len); i < ub; i += L) acc = acc.add(FloatVector.fromArray(F, g, gb + i));
            double s = VMath.sumLanes(acc, tmp);
            for (; i < len; i++) s += g[gb + i];
            float fs = (float) s;
            i = 0;
            for (int ub = F.loopBound(len); i < ub; i += L)
                FloatVector.fromArray(F, g, gb + i).sub(VMath.exp(FloatVector.fromArray(F, y, yb + i)).mul(fs)).intoArray(o, ob + i);
            for (; i < len; i++) o[ob + i] = g[gb + i] - (float) Math.exp(y[yb + i]) * fs;
        }
    }

    static Tensor softmax(Tensor x, int dim, boolean log) {
        Tensor out = Elementwise.allocUninitialized(x.dtype(), x.shape());
        int n = x.numel();
        if (n == 0) return out;
        Tensor src = source(x, out);
        int[] shape = x.shape();
        int len = shape[dim], inner = 1;
        for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
        int outer = n / (len * inner), so = src.offset(), in = inner;
        if (x.dtype() == DType.F32) {
            float[] xs = StridedIter.f32(src), ys = StridedIter.f32(out);
            // The log / exp variants are separate row-range methods, so each C2 compilation holds one exp.
            if (inner == 1) {
                Parallel.forRange(outer, Math.max(1, GRAIN / len), log
                        ? (a, b) -> logSoftmaxRows(xs, so, ys, len, a, b)
                        : (a, b) -> softmaxRows(xs, so, ys, len, a, b));
            } else {
                int blocks = (inner + L - 1) / L;
                Parallel.forRange(outer * blocks, Math.max(1, GRAIN / (len * L)), log
                        ? (a, b) -> logSoftmaxColumns(xs, so, ys, len, in, blocks, a, b)
                        : (a, b) -> softmaxColumns(xs, so, ys, len, in, blocks, a, b));
            }
        } else {
            double[] xs = StridedIter.f64(src), ys = StridedIter.f64(out);
            Parallel.forRange(outer * inner, Math.max(1, GRAIN / len), (a, b) -> {
                for (int line = a; line < b; line++) {
                    int o = line / in, i = line % in, start = o * len * in + i;
                    softmaxLineD(xs, so + start, ys, start, len, in, log);
                }
            });
        }
        return out;
    }

    private static void logSoftmaxRows(float[] x, int so, float[] y, int n, int r0, int r1) {
        float[] tmp = new float[L];
        for (int r = r0; r < r1; r++) {
            int xo = so + r * n, yo = r * n;
            float m = Reductions.max(x, xo, n);
            double ls = Math.log(Reductions.expdev(x, xo, n, m, tmp));
            FloatVector mv = FloatVector.broadcast(F, m), lv = FloatVector.broadcast(F, (float) ls);
            int i = 0;
            for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, xo + i).sub(mv).sub(lv).intoArray(y, yo + i);
            for (; i < n; i++) y[yo + i] = (float) ((double) x[xo + i] - m - ls);
        }
    }

    private static void softmaxRows(float[] x, int so, float[] y, int n, int r0, int r1) {
        float[] tmp = new float[L];
        for (int r = r0; r < r1; r++) {
            int xo = so + r * n, yo = r * n;
            float m = Reductions.max(x, xo, n);
            FloatVector mv = FloatVector.broadcast(F, m), acc = FloatVector.zero(F);
            int i = 0, ub = F.loopBound(n);
            for (; i < ub; i += L) {
                FloatVector e = VMath.exp(FloatVector.fromArray(F, x, xo + i).sub(mv));
                e.intoArray(y, yo + i);
                acc = acc.add(e);
            }
            double s = VMath.sumLanes(acc, tmp);
            for (int j = i; j < n; j++) {
                float e = (float) Math.exp((double) x[xo + j] - m);
                y[yo + j] = e;
                s += e;
            }
            float inv = (float) (1 / s);
            for (i = 0; i < ub; i += L) FloatVector.fromArray(F, y, yo + i).mul(inv).intoArray(y, yo + i);
            for (; i < n; i++) y[yo + i] *= inv;
        }
    }

    /** Column max for {@code mask} adjacent columns of a strided softmax: element r of column c at base + r*stride + c. */
    private static FloatVector columnMax(float[] x, int xo, int len, int stride, VectorMask<Float> mask) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < len; r++) m = m.max(FloatVector.fromArray(F, x, xo + r * stride, mask));
        return m;
    }

    /** Log-softmax along a strided dim; task t covers up to L adjacent columns of one outer index. */
    private static void logSoftmaxColumns(float[] x, int so, float[] y, int len, int stride, int blocks, int t0, int t1) {
        for (int t = t0; t < t1; t++) {
            int o = t / blocks, c = (t % blocks) * L, yo = o * len * stride + c, xo = so + yo;
            VectorMask<Float> mask = F.indexInRange(c, stride);
            FloatVector m = columnMax(x, xo, len, stride, mask);
            FloatVector s = FloatVector.zero(F);
            for (int r = 0; r < len; r++) s = s.add(VMath.exp(FloatVector.fromArray(F, x, xo + r * stride, mask).sub(m)));
            float[] ls = s.toArray();
            for (int k = 0; k < ls.length; k++) ls[k] = (float) Math.log(ls[k]);
            FloatVector lv = FloatVector.fromArray(F, ls, 0);
            for (int r = 0; r < len; r++)
                FloatVector.fromArray(F, x, xo + r * stride, mask).sub(m).sub(lv).intoArray(y, yo + r * stride, mask);
        }
    }

    private static void softmaxColumns(float[] x, int so, float[] y, int len, int stride, int blocks, int t0, int t1) {
        for (int t = t0; t < t1; t++) {
            int o = t / blocks, c = (t % blocks) * L, yo = o * len * stride + c, xo = so + yo;
            VectorMask<Float> mask = F.indexInRange(c, stride);
            FloatVector m = columnMax(x, xo, len, stride, mask);
            FloatVector s = FloatVector.zero(F);
            for (int r = 0; r < len; r++) {
                FloatVector e = VMath.exp(FloatVector.fromArray(F, x, xo + r * stride, mask).sub(m));
                e.intoArray(y, yo + r * stride, mask);
                s = s.add(e);
            }
            FloatVector inv = VMath.ONE.div(s);
            for (int r = 0; r < len; r++)
                FloatVector.fromArray(F, y, yo + r * stride, mask).mul(inv).intoArray(y, yo + r * stride, mask);
        }
    }

    /** The reference's formula for one line. */
    private static void softmaxLineD(double[] x, int xo, double[] y, int yo, int len, int stride, boolean log) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) m = Math.max(m, x[xo + i * stride]);
        double s = 0;
        for (int i = 0; i < len; i++) s += Math.exp(x[xo + i * stride] - m);
        double ls = Math.log(s);
        for (int i = 0; i < len; i++) {
            double v = x[xo + i * stride] - m;
            y[yo + i * stride] = log ? v - ls : Math.exp(v) / s;
        }
    }

    // ------------------------------------------------------------------------------------------------ statistics

    /**
     * Mean and biased variance of a contiguous float run, in double, into {@code st[0..1]}. A first pass gives an
     * approximate mean c; the second sums d = x - c and d^2 (small numbers, so float lanes lose little even when
     * |mean| >> std): mean = c + sum d / n, var = sum d^2 / n - (sum d / n)^2.
     */
    private static void stats(float[] x, int off, int n, double[] st, float[] tmp) {
        float c = (float) (Reductions.sum(x, off, n, tmp) / n);
        Reductions.devSums(x, off, n, c, st, tmp);
        double dm = st[0] / n;
        st[0] = c + dm;
        st[1] = Math.max(0, st[1] / n - dm * dm);
    }

    // ------------------------------------------------------------------------------------------------ layer norm

    static NormResult layerNorm(Tensor x, Tensor weight, Tensor bias, int normSize, double eps) {
        int n = x.numel();
        int rows = n / Math.max(1, normSize);
        Tensor out = Elementwise.allocUninitialized(x.dtype(), x.shape());
        Tensor mean = Elementwise.allocUninitialized(x.dtype(), new int[]{rows}), rstd = Elementwise.allocUninitialized(x.dtype(), new int[]{rows});
        if (n == 0) return new NormResult(out, mean, rstd);
        Tensor src = source(x, out);
        Tensor w = weight == null ? null : Copy.contiguous(weight), b = bias == null ? null : Copy.contiguous(bias);
        int so = src.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
        int grain = Math.max(1, GRAIN / normSize);
        if (x.dtype() == DType.F32) {
            float[] xs = StridedIter.f32(src), ys = StridedIter.f32(out), ms = StridedIter.f32(mean), rs = StridedIter.f32(rstd);
            float[] ws = w == null ? null : StridedIter.f32(w), bs = b == null ? null : StridedIter.f32(b);
            Parallel.forRange(rows, grain, (a, c) -> {
                double[] st = new double[2];
                float[] tmp = new float[L];
                for (int r = a; r < c; r++) {
                    int xo = so + r * normSize;
                    stats(xs, xo, normSize, st, tmp);
                    double rsd = 1 / Math.sqrt(st[1] + eps);
                    float mf = (float) st[0];
                    ms[r] = mf;
                    rs[r] = (float) rsd;
                    normalizeRow(xs, xo, ys, r * normSize, normSize, mf, (float) (st[0] - mf), (float) rsd, ws, wo, bs, bo);
                }
            });
        } else {
            double[] xs = StridedIter.f64(src), ys = StridedIter.f64(out), ms = StridedIter.f64(mean), rs = StridedIter.f64(rstd);
            double[] ws = w == null ? null : StridedIter.f64(w), bs = b == null ? null : StridedIter.f64(b);
            Parallel.forRange(rows, grain, (a, c) -> {
                for (int r = a; r < c; r++) {
                    int xo = so + r * normSize, yo = r * normSize;
                    double m = 0, v = 0;
                    for (int i = 0; i < normSize; i++) m += xs[xo + i];
                    m /= normSize;
                    for (int i = 0; i < normSize; i++) v += (xs[xo + i] - m) * (xs[xo + i] - m);
                    double rsd = 1 / Math.sqrt(v / normSize + eps);
                    for (int i = 0; i < normSize; i++) {
                        double y = (xs[xo + i] - m) * rsd;
                        if (ws != null) y *= ws[wo + i];
                        if (bs != null) y += bs[bo + i];
                        ys[yo + i] = y;
                    }
                    ms[r] = m;
                    rs[r] = rsd;
                }
            });
        }
        return new NormResult(out, mean, rstd);
    }

    /**
     * y = (x - m) * rs * w + b over a run (w, b optional, indexed from wo/bo), with the mean as m + mlo (its float
     * rounding and the remainder): x - m is exact when x is near the mean, so inputs with a large mean keep their
     * precision.
     */
    private static void normalizeRow(float[] x, int xo, float[] y, int yo, int n, float m, float mlo, float rs, float[] w, int wo, float[] b, int bo) {
        int i = 0, ub = F.loopBound(n);
        FloatVector mv = FloatVector.broadcast(F, m), rv = FloatVector.broadcast(F, rs);
        if (mlo != 0) { // fold the remainder into a second subtraction only when it matters
            for (; i < ub; i += L) {
                FloatVector d = FloatVector.fromArray(F, x, xo + i).sub(mv).sub(mlo).mul(rv);
                if (w != null) d = d.mul(FloatVector.fromArray(F, w, wo + i));
                if (b != null) d = d.add(FloatVector.fromArray(F, b, bo + i));
                d.intoArray(y, yo + i);
            }
        }
        if (w != null && b != null) {
            for (; i < ub; i += L)
                FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv).fma(FloatVector.fromArray(F, w, wo + i), FloatVector.fromArray(F, b, bo + i)).intoArray(y, yo + i);
        } else if (w != null) {
            for (; i < ub; i += L)
                FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv).mul(FloatVector.fromArray(F, w, wo + i)).intoArray(y, yo + i);
        } else if (b != null) {
            for (; i < ub; i += L)
                FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv).add(FloatVector.fromArray(F, b, bo + i)).intoArray(y, yo + i);
        } else {
            for (; i < ub; i += L) FloatVector.fromArray(F, x, xo + i).sub(mv).mul(rv).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            float v = (x[xo + i] - m - mlo) * rs;
            if (w != null) v *= w[wo + i];
            if (b != null) v += b[bo + i];
            y[yo + i] = v;
        }
    }

    // ------------------------------------------------------------------------------------------------ group norm

    static NormResult groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps, boolean silu) {
        int nb = x.size(0), c = x.size(1), n = x.numel();
        int spatial = n / Math.max(1, nb * c), cpg = c / groups, len = cpg * spatial;
        Tensor out = Elementwise.allocUninitialized(x.dtype(), x.shape());
        Tensor mean = Elementwise.allocUninitialized(x.dtype(), new int[]{nb, groups}), rstd = Elementwise.allocUninitialized(x.dtype(), new int[]{nb, groups});
        if (n == 0) {
            // Empty groups: the reference's mean 0/0 and rstd 1/sqrt(NaN) are NaN.
            for (int i = 0; i < nb * groups; i++) {
                mean.storage().setDouble(i, Double.NaN);
                rstd.storage().setDouble(i, Double.NaN);
            }
            return new NormResult(out, mean, rstd);
        }
        Tensor src = source(x, out);
        Tensor w = weight == null ? null : Copy.contiguous(weight), b = bias == null ? null : Copy.contiguous(bias);
        int so = src.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
        int grain = Math.max(1, GRAIN / len);
        if (x.dtype() == DType.F32) {
            float[] xs = StridedIter.f32(src), ys = StridedIter.f32(out), ms = StridedIter.f32(mean), rs = StridedIter.f32(rstd);
            float[] ws = w == null ? null : StridedIter.f32(w), bs = b == null ? null : StridedIter.f32(b);
            Parallel.forRange(nb * groups, grain, (a, e) -> {
                double[] st = new double[2];
                float[] tmp = new float[L];
                for (int t = a; t < e; t++) {
                    int g = t % groups, base = (t / groups * c + g * cpg) * spatial;
                    stats(xs, so + base, len, st, tmp);
                    double rsd = 1 / Math.sqrt(st[1] + eps);
                    ms[t] = (float) st[0];
                    rs[t] = (float) rsd;
                    float mf = (float) st[0];
                    double mlo = st[0] - mf; // y = (x - mf) * scale + (b - mlo * scale)
                    for (int k = 0; k < cpg; k++) {
                        int ch = g * cpg + k;
                        float scale = (float) (ws == null ? rsd : rsd * ws[wo + ch]);
                        float shift = (float) ((bs == null ? 0 : bs[bo + ch]) - mlo * scale);
                        affine(xs, so + base + k * spatial, ys, base + k * spatial, spatial, mf, scale, shift);
                    }
                    if (silu) Elementwise.siluInPlace(ys, base, len);
                }
            });
        } else {
            double[] xs = StridedIter.f64(src), ys = StridedIter.f64(out), ms = StridedIter.f64(mean), rs = StridedIter.f64(rstd);
            double[] ws = w == null ? null : StridedIter.f64(w), bs = b == null ? null : StridedIter.f64(b);
            Parallel.forRange(nb * groups, grain, (a, e) -> {
                for (int t = a; t < e; t++) {
                    int g = t % groups, base = (t / groups * c + g * cpg) * spatial, xo = so + base;
                    double m = 0, v = 0;
                    for (int i = 0; i < len; i++) m += xs[xo + i];
                    m /= len;
                    for (int i = 0; i < len; i++) v += (xs[xo + i] - m) * (xs[xo + i] - m);
                    double rsd = 1 / Math.sqrt(v / len + eps);
                    for (int i = 0; i < len; i++) {
                        int ch = g * cpg + i / spatial;
                        double y = (xs[xo + i] - m) * rsd;
                        if (ws != null) y *= ws[wo + ch];
                        if (bs != null) y += bs[bo + ch];
                        ys[base + i] = silu ? ReferenceBackend.unary(UnaryOp.SILU, y, 0, 0) : y;
                    }
                    ms[t] = m;
                    rs[t] = rsd;
                }
            });
        }
        return new NormResult(out, mean, rstd);
    }

    /** y = (x - m) * scale + shift over a run. */
    private static void affine(float[] x, int xo, float[] y, int yo, int n, float m, float scale, float shift) {
        int i = 0, ub = F.loopBound(n);
        FloatVector mv = FloatVector.broadcast(F, m), sv = FloatVector.broadcast(F, scale), hv = FloatVector.broadcast(F, shift);
        for (; i < ub; i += L) FloatVector.fromArray(F, x, xo + i).sub(mv).fma(sv, hv).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] = Math.fma(x[xo + i] - m, scale, shift);
    }

    // ------------------------------------------------------------------------------------------------ norm backward

    /** See {@link dev.distillery.tensor.backend.Backend#layerNormBackward}; F32 here, F64 by the reference. */
    static NormGradients layerNormBackward(Tensor g, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize, boolean affineGrads) {
        if (x.dtype() != DType.F32 || x.numel() == 0)
            return ReferenceBackend.INSTANCE.layerNormBackward(g, x, mean, rstd, weight, normSize, affineGrads);
        return normBackward(g, x, mean, rstd, weight, x.numel() / normSize, normSize, 1, 1, normSize, affineGrads);
    }

    /** See {@link dev.distillery.tensor.backend.Backend#groupNormBackward}; F32 here, F64 by the reference. */
    static NormGradients groupNormBackward(Tensor g, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups, boolean silu,
                                           boolean affineGrads) {
        if (x.dtype() != DType.F32 || x.numel() == 0)
            return ReferenceBackend.INSTANCE.groupNormBackward(g, x, mean, rstd, weight, bias, groups, silu, affineGrads);
        int n = x.size(0), c = x.size(1), spatial = x.numel() / (n * c);
        Tensor gy = silu ? siluGradientAtNorm(g, x, mean, rstd, weight, bias, groups) : g;
        return normBackward(gy, x, mean, rstd, weight, n * groups, c / groups * spatial, spatial, groups, c, affineGrads);
    }

    /**
     * g silu'(y) at the group norm's output y = (x - mean) rstd weight + bias, recomputed per channel run: the
     * gradient that reaches the norm through a fused activation (F32, contiguous result).
     */
    private static Tensor siluGradientAtNorm(Tensor g, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups) {
        int n = x.size(0), c = x.size(1), spatial = x.numel() / (n * c), cpg = c / groups;
        Tensor xc = Copy.contiguous(x), gc = Copy.contiguous(g), mc = Copy.contiguous(mean), rc = Copy.contiguous(rstd);
        Tensor wc = weight == null ? null : Copy.contiguous(weight), bc = bias == null ? null : Copy.contiguous(bias);
        float[] xs = StridedIter.f32(xc), gs = StridedIter.f32(gc), ms = StridedIter.f32(mc), rs = StridedIter.f32(rc);
        float[] ws = wc == null ? null : StridedIter.f32(wc), bs = bc == null ? null : StridedIter.f32(bc);
        int xo = xc.offset(), go = gc.offset(), mo = mc.offset(), ro = rc.offset(), wo = wc == null ? 0 : wc.offset(), bo = bc == null ? 0 : bc.offset();
        Tensor out = Elementwise.allocUninitialized(DType.F32, x.shape());
        float[] os = StridedIter.f32(out);
        Parallel.forRange(n * c, Math.max(1, GRAIN / spatial), (p0, p1) -> {
            for (int p = p0; p < p1; p++) { // p = sample x C + channel: one run of spatial elements
                int ch = p % c, row = p / c * groups + ch / cpg;
                float scale = rs[ro + row] * (ws == null ? 1 : ws[wo + ch]), shift = bs == null ? 0 : bs[bo + ch], m = ms[mo + row];
                for (int i = p * spatial, end = i + spatial; i < end; i++) {
                    float y = (xs[xo + i] - m) * scale + shift;
                    os[i] = gs[go + i] * (float) ReferenceBackend.unaryDerivative(UnaryOp.SILU, y, 0, 0);
                }
            }
        });
        return out;
    }

    /**
     * Both norms over x as [rows, len], each row made of runs of {@code run} elements that share a weight: a layer
     * norm row is one run per element (run = 1, the weight index is the position in the row), a group norm row is its
     * group's channels (run = spatial size). Row r's first weight is (r mod rowsPerSample) x runs per row
     * (rowsPerSample: the groups; 1 for layer norm). Sums in double, in a fixed order, so the result does not depend
     * on the thread count.
     */
    private static NormGradients normBackward(Tensor g, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int rows, int len, int run,
                                              int rowsPerSample, int params, boolean affineGrads) {
        Tensor xc = Copy.contiguous(x), gc = Copy.contiguous(g), mc = Copy.contiguous(mean), rc = Copy.contiguous(rstd);
        Tensor wc = weight == null ? null : Copy.contiguous(weight);
        float[] xs = StridedIter.f32(xc), gs = StridedIter.f32(gc), ms = StridedIter.f32(mc), rs = StridedIter.f32(rc);
        float[] ws = wc == null ? null : StridedIter.f32(wc);
        int xo = xc.offset(), go = gc.offset(), mo = mc.offset(), ro = rc.offset(), wo = wc == null ? 0 : wc.offset();
        int runsPerRow = len / run;
        Tensor dx = Elementwise.allocUninitialized(DType.F32, x.shape());
        float[] dxs = StridedIter.f32(dx);
        Parallel.forRange(rows, Math.max(1, GRAIN / len), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                float m = ms[mo + r], rsd = rs[ro + r];
                int rowBase = r * len, firstParam = r % rowsPerSample * runsPerRow;
                double sumGw = 0, sumGwXhat = 0;
                for (int k = 0, i = rowBase; k < runsPerRow; k++) {
                    float wv = ws == null ? 1 : ws[wo + firstParam + k];
                    for (int end = i + run; i < end; i++) {
                        float gw = gs[go + i] * wv;
                        sumGw += gw;
                        sumGwXhat += gw * ((xs[xo + i] - m) * rsd);
                    }
                }
                float meanGw = (float) (sumGw / len), meanGwXhat = (float) (sumGwXhat / len);
                for (int k = 0, i = rowBase; k < runsPerRow; k++) {
                    float wv = ws == null ? 1 : ws[wo + firstParam + k];
                    for (int end = i + run; i < end; i++)
                        dxs[i] = rsd * (gs[go + i] * wv - meanGw - (xs[xo + i] - m) * rsd * meanGwXhat);
                }
            }
        });
        if (!affineGrads) return new NormGradients(dx, null, null);
        float[] dw = new float[params], db = new float[params];
        if (rowsPerSample == 1 && run == 1) {
            // Layer norm (or its equal, group norm with one group and one element per channel): column sums over the
            // rows, a block of columns per task, read row by row.
            int block = 64;
            Parallel.forRange((params + block - 1) / block, 1, (b0, b1) -> {
                double[] accW = new double[block], accB = new double[block];
                for (int b = b0; b < b1; b++) {
                    int p0 = b * block, p1 = Math.min(params, p0 + block);
                    java.util.Arrays.fill(accW, 0);
                    java.util.Arrays.fill(accB, 0);
                    for (int r = 0; r < rows; r++) {
                        float m = ms[mo + r], rsd = rs[ro + r];
                        for (int p = p0; p < p1; p++) {
                            float gv = gs[go + r * len + p];
                            accW[p - p0] += gv * ((xs[xo + r * len + p] - m) * rsd);
                            accB[p - p0] += gv;
                        }
                    }
                    for (int p = p0; p < p1; p++) {
                        dw[p] = (float) accW[p - p0];
                        db[p] = (float) accB[p - p0];
                    }
                }
            });
        } else {
            // Group norm: per channel, its run in every sample.
            int samples = rows / rowsPerSample;
            Parallel.forRange(params, Math.max(1, GRAIN / Math.max(1, samples * run)), (c0, c1) -> {
                for (int ch = c0; ch < c1; ch++) {
                    double accW = 0, accB = 0;
                    for (int s = 0; s < samples; s++) {
                        int r = s * rowsPerSample + ch / runsPerRow, base = (s * params + ch) * run;
                        float m = ms[mo + r], rsd = rs[ro + r];
                        for (int j = 0; j < run; j++) {
                            float gv = gs[go + base + j];
                            accW += gv * ((xs[xo + base + j] - m) * rsd);
                            accB += gv;
                        }
                    }
                    dw[ch] = (float) accW;
                    db[ch] = (float) accB;
                }
            });
        }
        return new NormGradients(dx, Tensor.of(dw, params), Tensor.of(db, params));
    }
}
