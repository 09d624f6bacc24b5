package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.ValuesIndices;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2-D pooling and resizing over [N, C, H, W] with any input strides, parallel over (N*C planes x output rows).
 * Pooling windows are visited in the reference's order (average sums in double), nearest resizing copies, and F64
 * bilinear uses the reference's formula, so all of these are bit-identical to {@link ReferenceBackend}. F32 bilinear
 * is computed separably in float (vertical blend of two rows, vectorised, then horizontal), a few ulps from the
 * reference's double arithmetic.
 */
final class Pooling {
    private Pooling() {}

    private static final VectorSpecies<Float> F = VectorInfo.F;
    private static final int L = F.length();

    private static final int GRAIN = 1 << 14;

    private static int grain(int workPerItem) {
        return Math.max(1, GRAIN / Math.max(1, workPerItem));
    }

    static Tensor avgPool2d(Tensor x, Pool2dParams p) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), oh = p.outH(h), ow = p.outW(w);
        Tensor out = Elementwise.allocUninitialized(x.dtype(), new int[]{n, c, oh, ow});
        if (out.numel() == 0) return out;
        int[] st = x.strides();
        int sn = st[0], sc = st[1], sh = st[2], sw = st[3], off = x.offset();
        int kh = p.kernelH(), kw = p.kernelW(), strH = p.strideH(), strW = p.strideW(), padH = p.padH(), padW = p.padW();
        double area = kh * kw;
        boolean f32 = x.dtype() == DType.F32;
        float[] xf = f32 ? StridedIter.f32(x) : null, of = f32 ? StridedIter.f32(out) : null;
        double[] xd = f32 ? null : StridedIter.f64(x), od = f32 ? null : StridedIter.f64(out);
        Parallel.forRange(n * c * oh, grain(ow * kh * kw), (a, b) -> {
            for (int row = a; row < b; row++) {
                int plane = row / oh, y = row % oh;
                int base = off + (plane / c) * sn + (plane % c) * sc;
                int y0 = y * strH - padH;
                int ilo = Math.max(0, -y0), ihi = Math.min(kh, h - y0);
                int o = row * ow;
                for (int xx = 0; xx < ow; xx++) {
                    int x0 = xx * strW - padW;
                    int jlo = Math.max(0, -x0), jhi = Math.min(kw, w - x0);
                    double s = 0;
                    for (int i = ilo; i < ihi; i++) {
                        int q = base + (y0 + i) * sh + x0 * sw;
                        if (f32) for (int j = jlo; j < jhi; j++) s += xf[q + j * sw];
                        else for (int j = jlo; j < jhi; j++) s += xd[q + j * sw];
                    }
                    if (f32) of[o + xx] = (float) (s / area);
                    else od[o + xx] = s / area;
                }
            }
        });
        return out;
    }

    static ValuesIndices maxPool2d(Tensor x, Pool2dParams p) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), oh = p.outH(h), ow = p.outW(w);
        Tensor out = Elementwise.allocUninitialized(x.dtype(), new int[]{n, c, oh, ow});
        Tensor idx = Elementwise.alloc(DType.I64, new int[]{n, c, oh, ow});
        if (out.numel() == 0) return new ValuesIndices(out, idx);
        int[] st = x.strides();
        int sn = st[0], sc = st[1], sh = st[2], sw = st[3], off = x.offset();
        int kh = p.kernelH(), kw = p.kernelW(), strH = p.strideH(), strW = p.strideW(), padH = p.padH(), padW = p.padW();
        boolean f32 = x.dtype() == DType.F32;
        float[] xf = f32 ? StridedIter.f32(x) : null, of = f32 ? StridedIter.f32(out) : null;
        double[] xd = f32 ? null : StridedIter.f64(x), od = f32 ? null : StridedIter.f64(out);
        long[] ix = ((Storage.LongStorage) idx.storage()).data();
        if (f32) {
            boolean pairs = kh == 2 && kw == 2 && strH == 2 && strW == 2 && padH == 0 && padW == 0 && sw == 1;
            Parallel.forRange(n * c * oh, grain(ow * kh * kw), (a, b) -> {
                int[] code = pairs ? new int[L] : null;
                for (int row = a; row < b; row++) {
                    int plane = row / oh, y = row % oh;
                    int base = off + (plane / c) * sn + (plane % c) * sc;
                    int y0 = y * strH - padH;
                    int ilo = Math.max(0, -y0), ihi = Math.min(kh, h - y0);
                    int o = row * ow;
                    int start = pairs ? maxPool2x2Row(xf, base + y0 * sh, sh, w, y0, of, ix, o, ow, code) : 0;
                    for (int xx = start; xx < ow; xx++) {
                        int x0 = xx * strW - padW;
                        int jlo = Math.max(0, -x0), jhi = Math.min(kw, w - x0);
                        float best = Float.NEGATIVE_INFINITY;
                        int at = -1;
                        for (int i = ilo; i < ihi; i++) {
                            int q = base + (y0 + i) * sh + x0 * sw;
                            for (int j = jlo; j < jhi; j++) {
                                float v = xf[q + j * sw];
                                // The reference's rule in float: first maximum, and the first NaN wins.
                                if (at < 0 || v > best || v != v && best == best) {
                                    best = v;
                                    at = (y0 + i) * w + x0 + j;
                                }
                            }
                        }
                        of[o + xx] = best;
                        ix[o + xx] = at;
                    }
                }
            });
            return new ValuesIndices(out, idx);
        }
        Parallel.forRange(n * c * oh, grain(ow * kh * kw), (a, b) -> {
            for (int row = a; row < b; row++) {
                int plane = row / oh, y = row % oh;
                int base = off + (plane / c) * sn + (plane % c) * sc;
                int y0 = y * strH - padH;
                int ilo = Math.max(0, -y0), ihi = Math.min(kh, h - y0);
                int o = row * ow;
                for (int xx = 0; xx < ow; xx++) {
                    int x0 = xx * strW - padW;
                    int jlo = Math.max(0, -x0), jhi = Math.min(kw, w - x0);
                    double best = Double.NEGATIVE_INFINITY;
                    int at = -1;
                    for (int i = ilo; i < ihi; i++) {
                        int q = base + (y0 + i) * sh + x0 * sw;
                        for (int j = jlo; j < jhi; j++) {
                            double v = xd[q + j * sw];
                            if (at < 0 || v > best || Double.isNaN(v) && !Double.isNaN(best)) {
                                best = v;
                                at = (y0 + i) * w + x0 + j;
                            }
                        }
                    }
                    od[o + xx] = best;
                    ix[o + xx] = at;
                }
            }
        });
        return new ValuesIndices(out, idx);
    }

    /**
     * One bilinear output row in float, separably: the two source rows blended vertically into {@code tmp}
     * (vectorised), then each output mixes two entries of tmp.
     */
    private static void bilinearRowF(float[] x, int r0, int r1, int sw, int w, float ly, float[] tmp, float[] out, int o, int outW,
                                     int[] x0s, int[] x1s, float[] wx0, float[] wx1) {
        float wy0 = 1 - ly;
        int i = 0;
        if (sw == 1) {
            FloatVector a = FloatVector.broadcast(F, wy0), b = FloatVector.broadcast(F, ly);
            for (int ub = F.loopBound(w); i < ub; i += L)
                FloatVector.fromArray(F, x, r0 + i).mul(a).add(FloatVector.fromArray(F, x, r1 + i).mul(b)).intoArray(tmp, i);
        }
        for (; i < w; i++) tmp[i] = x[r0 + i * sw] * wy0 + x[r1 + i * sw] * ly;
        for (int j = 0; j < outW; j++) out[o + j] = tmp[x0s[j]] * wx0[j] + tmp[x1s[j]] * wx1[j];
    }

    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(F, i -> 2 * i), ODD = VectorShuffle.fromOp(F, i -> 2 * i + 1);
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    /**
     * 2x2 / stride 2 max pooling of one output row from unit-stride input rows r0 and r0 + sh, L outputs at a time
     * (even and odd columns split with two-vector rearranges). Candidates are taken in the reference's order
     * (top-left, top-right, bottom-left, bottom-right), replacing the best on a strictly larger value or on the
     * first NaN. Returns the number of outputs done; the caller finishes the row.
     */
    private static int maxPool2x2Row(float[] x, int r0, int sh, int w, int y0, float[] out, long[] idx, int o, int ow, int[] code) {
        int xx = 0;
        for (; 2 * (xx + L) <= w && xx + L <= ow; xx += L) {
            int q = r0 + 2 * xx;
            FloatVector t0 = FloatVector.fromArray(F, x, q), t1 = FloatVector.fromArray(F, x, q + L);
            FloatVector u0 = FloatVector.fromArray(F, x, q + sh), u1 = FloatVector.fromArray(F, x, q + sh + L);
            FloatVector best = t0.rearrange(EVEN, t1);
            IntVector which = IntVector.zero(I);
            FloatVector v = t0.rearrange(ODD, t1);
            VectorMask<Float> m = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN).andNot(best.test(VectorOperators.IS_NAN)));
            best = best.blend(v, m);
            which = which.blend(1, m.cast(I));
            v = u0.rearrange(EVEN, u1);
            m = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN).andNot(best.test(VectorOperators.IS_NAN)));
            best = best.blend(v, m);
            which = which.blend(2, m.cast(I));
            v = u0.rearrange(ODD, u1);
            m = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN).andNot(best.test(VectorOperators.IS_NAN)));
            best = best.blend(v, m);
            which = which.blend(3, m.cast(I));
            best.intoArray(out, o + xx);
            which.intoArray(code, 0);
            for (int k = 0; k < L; k++) idx[o + xx + k] = (long) (y0 + (code[k] >> 1)) * w + 2 * (xx + k) + (code[k] & 1);
        }
        return xx;
    }

    static Tensor upsample2d(Tensor x, int outH, int outW, boolean bilinear, boolean alignCorners) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        Tensor out = Elementwise.allocUninitialized(x.dtype(), new int[]{n, c, outH, outW});
        if (out.numel() == 0) return out;
        int[] st = x.strides();
        int sn = st[0], sc = st[1], sh = st[2], sw = st[3], off = x.offset();
        boolean f32 = x.dtype() == DType.F32;
        float[] xf = f32 ? StridedIter.f32(x) : null, of = f32 ? StridedIter.f32(out) : null;
        double[] xd = f32 ? null : StridedIter.f64(x), od = f32 ? null : StridedIter.f64(out);
        if (!bilinear) {
            int[] sy = new int[outH], sx = new int[outW];
            for (int i = 0; i < outH; i++) sy[i] = ReferenceBackend.nearestSource(i, h, outH);
            for (int j = 0; j < outW; j++) sx[j] = ReferenceBackend.nearestSource(j, w, outW) * sw;
            // An integer width factor f (f divides the vector length) on unit-stride F32 rows: each source vector's
            // first L/f lanes are repeated f times each with one rearrange.
            int f = outW / w;
            boolean dup = f32 && sw == 1 && f > 1 && f <= L && L % f == 0 && outW == f * w;
            for (int j = 0; dup && j < outW; j++) dup = sx[j] == j / f;
            VectorShuffle<Float> rep = dup ? VectorShuffle.fromOp(F, i -> i / f) : null;
            // Parallel over planes so a row repeated from the previous output row can be copied.
            Parallel.forRange(n * c, grain(outH * outW), (a, b) -> {
                for (int plane = a; plane < b; plane++) {
                    int base = off + (plane / c) * sn + (plane % c) * sc;
                    int ob = plane * outH * outW;
                    for (int y = 0; y < outH; y++) {
                        int o = ob + y * outW;
                        if (y > 0 && sy[y] == sy[y - 1]) {
                            if (f32) System.arraycopy(of, o - outW, of, o, outW);
                            else System.arraycopy(od, o - outW, od, o, outW);
                            continue;
                        }
                        int q = base + sy[y] * sh;
                        if (rep != null) {
                            int j = 0;
                            for (; j + L <= outW && j / f + L <= w; j += L)
                                FloatVector.fromArray(F, xf, q + j / f).rearrange(rep).intoArray(of, o + j);
                            for (; j < outW; j++) of[o + j] = xf[q + sx[j]];
                        } else if (f32) for (int j = 0; j < outW; j++) of[o + j] = xf[q + sx[j]];
                        else for (int j = 0; j < outW; j++) od[o + j] = xd[q + sx[j]];
                    }
                }
            });
            return out;
        }
        int[] y0s = new int[outH], y1s = new int[outH], x0s = new int[outW], x1s = new int[outW];
        double[] lys = new double[outH], lxs = new double[outW];
        for (int i = 0; i < outH; i++) {
            double s = ReferenceBackend.bilinearSource(i, h, outH, alignCorners);
            y0s[i] = (int) s;
            y1s[i] = Math.min(y0s[i] + 1, h - 1);
            lys[i] = s - y0s[i];
        }
        for (int j = 0; j < outW; j++) {
            double s = ReferenceBackend.bilinearSource(j, w, outW, alignCorners);
            x0s[j] = (int) s;
            x1s[j] = Math.min(x0s[j] + 1, w - 1);
            lxs[j] = s - x0s[j];
        }
        if (f32) {
            float[] wx1 = new float[outW], wx0 = new float[outW];
            for (int j = 0; j < outW; j++) {
                wx1[j] = (float) lxs[j];
                wx0[j] = (float) (1 - lxs[j]);
            }
            Parallel.forRange(n * c * outH, grain(outW * 4), (a, b) -> {
                float[] tmp = new float[w];
                for (int row = a; row < b; row++) {
                    int plane = row / outH, y = row % outH;
                    int base = off + (plane / c) * sn + (plane % c) * sc;
                    bilinearRowF(xf, base + y0s[y] * sh, base + y1s[y] * sh, sw, w, (float) lys[y], tmp, of, row * outW, outW, x0s, x1s, wx0, wx1);
                }
            });
            return out;
        }
        Parallel.forRange(n * c * outH, grain(outW * 8), (a, b) -> {
            for (int row = a; row < b; row++) {
                int plane = row / outH, y = row % outH;
                int base = off + (plane / c) * sn + (plane % c) * sc;
                int r0 = base + y0s[y] * sh, r1 = base + y1s[y] * sh;
                double ly = lys[y];
                int o = row * outW;
                for (int j = 0; j < outW; j++) {
                    double lx = lxs[j];
                    int c0 = x0s[j] * sw, c1 = x1s[j] * sw;
                    double v00 = xd[r0 + c0], v01 = xd[r0 + c1], v10 = xd[r1 + c0], v11 = xd[r1 + c1];
                    od[o + j] = (1 - ly) * ((1 - lx) * v00 + lx * v01) + ly * ((1 - lx) * v10 + lx * v11);
                }
            }
        });
        return out;
    }
}
