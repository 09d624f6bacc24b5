package dev.distillery.tensor.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * 2-D convolution (NCHW) on top of {@link Gemm}, as implicit GEMM: the im2col matrix is never materialised.
 *
 * <ul>
 *   <li>forward, per image and group: {@code y (O/g x OH*OW) = w (O/g x C/g*KH*KW) @ im2col(x)}, the weights
 *       packed once per call and shared by all tasks. With width stride 1 the image is zero-padded once per
 *       task; when output rows are whole vectors the micro-kernel then reads im2col in place (each k is a fixed
 *       offset into the padded image), otherwise the GEMM's B packing copies contiguous runs of it. Other
 *       strides gather with bounds checks.</li>
 *   <li>input gradient, stride 1: the forward convolution of {@code gy} with the flipped, transposed weights
 *       ("full" padding). Otherwise {@code cols = w^T @ gy} for a block of channels and pixels into a
 *       per-thread buffer, then a scatter-add (col2im) into {@code gx}.</li>
 *   <li>weight gradient: one GEMM per group with the batch folded into K,
 *       {@code gw = gy (O/g x N*OH*OW) @ im2col(x)^T}, reading a zero-padded NHWC copy of {@code x} so that
 *       rows of im2col^T are contiguous channel runs.</li>
 * </ul>
 * 1x1 convolutions with stride 1 and no padding are plain GEMMs. Every output element is computed by one
 * task in a fixed order, so results do not depend on the thread count.
 */
public final class Conv2dKernels {
    private Conv2dKernels() {}

    /**
     * Geometry of a 2-D convolution: input {@code [n, c, h, w]}, weight {@code [o, c/groups, kh, kw]}, stride
     * {@code sh, sw}, zero padding {@code ph, pw}, dilation {@code dh, dw}.
     */
    public record ConvGeom(int n, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int ph, int pw,
                           int dh, int dw, int groups) {
        /** Validates sizes; {@code n} may be 0 (an empty batch), everything else must be positive. */
        public ConvGeom {
            if (n < 0) throw new IllegalArgumentException("conv2d: batch size must be >= 0, got " + n);
            if (c < 1 || h < 1 || w < 1)
                throw new IllegalArgumentException("conv2d: input channels/height/width must be >= 1, got c=" + c + " h=" + h + " w=" + w);
            if (o < 1) throw new IllegalArgumentException("conv2d: output channels must be >= 1, got " + o);
            if (kh < 1 || kw < 1) throw new IllegalArgumentException("conv2d: kernel size must be >= 1, got " + kh + "x" + kw);
            if (sh < 1 || sw < 1) throw new IllegalArgumentException("conv2d: stride must be >= 1, got " + sh + "x" + sw);
            if (ph < 0 || pw < 0) throw new IllegalArgumentException("conv2d: padding must be >= 0, got " + ph + "x" + pw);
            if (dh < 1 || dw < 1) throw new IllegalArgumentException("conv2d: dilation must be >= 1, got " + dh + "x" + dw);
            if (groups < 1) throw new IllegalArgumentException("conv2d: groups must be >= 1, got " + groups);
            if (c % groups != 0)
                throw new IllegalArgumentException("conv2d: input channels " + c + " not divisible by groups " + groups);
            if (o % groups != 0)
                throw new IllegalArgumentException("conv2d: output channels " + o + " not divisible by groups " + groups);
            if (out(h, kh, sh, ph, dh) < 1 || out(w, kw, sw, pw, dw) < 1)
                throw new IllegalArgumentException("conv2d: kernel " + kh + "x" + kw + " (dilation " + dh + "x" + dw
                        + ") larger than padded input " + (h + 2 * ph) + "x" + (w + 2 * pw));
        }

        private static int out(int in, int k, int s, int p, int d) {
            return Math.floorDiv(in + 2 * p - d * (k - 1) - 1, s) + 1;
        }

        /** Output height (PyTorch's formula). */
        public int outH() {
            return out(h, kh, sh, ph, dh);
        }

        /** Output width (PyTorch's formula). */
        public int outW() {
            return out(w, kw, sw, pw, dw);
        }

        /** True when the convolution is a plain matrix multiply per image (1x1 kernel, stride 1, no padding). */
        boolean pointwise() {
            return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
        }

        long inputSize() {
            return (long) n * c * h * w;
        }

        long outputSize() {
            return (long) n * o * outH() * outW();
        }

        long weightSize() {
            return (long) o * (c / groups) * kh * kw;
        }
    }

    private static void checkLen(String what, int len, int off, long size) {
        if (off < 0 || off + size > len)
            throw new IllegalArgumentException("conv2d: " + what + " needs " + size + " elements from offset " + off
                    + ", array has " + len);
    }

    /** True when im2col reads contiguous runs, so inputs are zero-padded once and runs copied with no checks. */
    private static boolean padFast(ConvGeom g) {
        return g.sw() == 1 && !g.pointwise();
    }

    /** Floats of the per-thread column buffer of the input gradient (1 MiB: stays in L2). */
    private static final int COLS_BUDGET = 1 << 18;

    /** Largest pixel block (a multiple of {@code nr}) whose columns for all {@code rows} fit the budget. */
    private static int pixelChunk(int rows, int ohw, int nr) {
        int p = COLS_BUDGET / Math.max(1, rows) / nr * nr;
        return Math.max(nr, Math.min(ohw, p));
    }


    // ===================================================================================================
    // float
    // ===================================================================================================

    /**
     * Forward convolution: {@code y[n, o, oh, ow] = bias[o] + sum w[o, ci, ki, kj] * x[n, g*C/g + ci, ih, iw]}.
     * {@code x} is {@code [n, c, h, w]} at {@code xOff}, {@code w} is {@code [o, c/groups, kh, kw]} at {@code wOff},
     * {@code bias} is {@code [o]} at {@code biasOff} or null; {@code y} ({@code [n, o, outH, outW]} at {@code yOff})
     * is overwritten. All contiguous.
     */
    public static void forward(ConvGeom g, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                               float[] y, int yOff) {
        checkLen("x", x.length, xOff, g.inputSize());
        checkLen("w", w.length, wOff, g.weightSize());
        checkLen("y", y.length, yOff, g.outputSize());
        if (bias != null) checkLen("bias", bias.length, biasOff, g.o());
        final int og = g.o() / g.groups(), ckk = g.c() / g.groups() * g.kh() * g.kw();
        sconvGemm(g, x, xOff, (grp, i0, rows, k0, kc, dst, d0) ->
                Gemm.spackA(w, wOff + grp * og * ckk, ckk, 1, i0, rows, k0, kc, dst, d0), bias, biasOff, y, yOff);
    }

    /**
     * {@code y = conv(x)} for geometry {@code g}, the weights of group {@code grp} given as the og x ckk matrix
     * packed by {@code wp} (called with {@code batch = grp}). Weights are pre-packed once and shared.
     */
    private static void sconvGemm(ConvGeom g, float[] x, int xOff, Gemm.SPack wp, float[] bias, int biasOff, float[] y, int yOff) {
        final int G = g.groups(), cg = g.c() / G, og = g.o() / G, ckk = cg * g.kh() * g.kw();
        final int hw = g.h() * g.w(), ohw = g.outH() * g.outW(), chw = g.c() * hw;
        final int wStride = Gemm.sprepackSize(og, ckk);
        final float[] wPre = Gemm.SCRATCH_S.take(G * wStride);
        try {
            for (int grp = 0; grp < G; grp++) Gemm.sprepackA(wp, grp, og, ckk, wPre, grp * wStride);
            // Stride 1 with output rows a whole number of vectors: the kernel reads im2col straight from the
            // padded image (k -> offset of (ci, ki, kj), pixel group -> offset of its first pixel).
            final boolean indirect = padFast(g) && Gemm.FS != null && g.outW() % Gemm.FVL == 0;
            final int wpad = g.w() + 2 * g.pw(), plane = (g.h() + 2 * g.ph()) * wpad;
            final int[] koff = indirect ? new int[ckk] : null, colOff = indirect ? new int[ohw / Gemm.FVL] : null;
            if (indirect) {
                for (int k = 0, kk = g.kh() * g.kw(); k < ckk; k++) {
                    int ci = k / kk, t = k - ci * kk, ki = t / g.kw(), kj = t - ki * g.kw();
                    koff[k] = ci * plane + ki * g.dh() * wpad + kj * g.dw();
                }
                for (int q = 0; q < colOff.length; q++) {
                    int pix = q * Gemm.FVL, oh = pix / g.outW();
                    colOff[q] = oh * g.sh() * wpad + pix - oh * g.outW();
                }
            }
            // Item bi = image * G + group.
            Gemm.parallelBlocks(g.n() * G, og, ohw, (long) og * ohw * ckk, Gemm.SMR, Gemm.SNR, (bi, m0, m1, n0, n1) -> {
                int grp = bi % G, xo = xOff + (bi / G) * chw + grp * cg * hw, yo = yOff + bi * og * ohw;
                if (bias != null) {
                    // Start from the bias and accumulate: no separate pass over y.
                    int bo = biasOff + grp * og;
                    for (int i = m0; i < m1; i++) Arrays.fill(y, yo + i * ohw + n0, yo + i * ohw + n1, bias[bo + i]);
                }
                if (indirect) {
                    float[] xp = spadBuffer(cg * plane);
                    spad(g, x, xo, cg, xp, 0);
                    Gemm.sgemmBlockIndirect(m0, m1, n0, n1, ckk, wPre, grp * wStride, xp, koff, colOff, 0, y, yo, ohw, bias != null);
                    return;
                }
                Gemm.SPack pb;
                if (g.pointwise()) {
                    pb = (b, j0, cols, k0, kc, dst, d0) -> Gemm.spackB(x, xo, hw, 1, j0, cols, k0, kc, dst, d0);
                } else if (padFast(g)) {
                    float[] xp = spadBuffer(cg * (g.h() + 2 * g.ph()) * (g.w() + 2 * g.pw()));
                    spad(g, x, xo, cg, xp, 0);
                    pb = (b, j0, cols, k0, kc, dst, d0) -> spackIm2colPadded(g, xp, 0, j0, cols, k0, kc, dst, d0);
                } else {
                    pb = (b, j0, cols, k0, kc, dst, d0) -> spackIm2col(g, x, xo, j0, cols, k0, kc, dst, d0);
                }
                Gemm.sgemmBlock(bi, m0, m1, n0, n1, ckk, null, wPre, grp * wStride, pb, y, yo, ohw, bias != null);
            });
        } finally {
            Gemm.SCRATCH_S.give(wPre);
        }
    }

    /**
     * Input gradient: {@code gx = conv2d^T(gy, w)}, i.e. the adjoint of {@link #forward} in {@code x}. This is also
     * conv_transpose2d's forward (with {@code g} describing the transposed convolution's output as the input).
     * {@code gy} is {@code [n, o, outH, outW]}; {@code gx} ({@code [n, c, h, w]}) is overwritten.
     */
    public static void backwardInput(ConvGeom g, float[] gy, int gyOff, float[] w, int wOff, float[] gx, int gxOff) {
        checkLen("gy", gy.length, gyOff, g.outputSize());
        checkLen("w", w.length, wOff, g.weightSize());
        checkLen("gx", gx.length, gxOff, g.inputSize());
        final int G = g.groups(), cg = g.c() / G, og = g.o() / G, kk = g.kh() * g.kw(), ckk = cg * kk;
        final int hw = g.h() * g.w(), ohw = g.outH() * g.outW();
        int fullPh = g.dh() * (g.kh() - 1) - g.ph(), fullPw = g.dw() * (g.kw() - 1) - g.pw();
        if (g.sh() == 1 && g.sw() == 1 && fullPh >= 0 && fullPw >= 0 && !g.pointwise()) {
            // Stride 1: gx is the convolution of gy (padded by the kernel extent minus the padding) with the
            // kernel flipped in space and with in/out channels swapped: no col2im scatter.
            ConvGeom t = new ConvGeom(g.n(), g.o(), g.outH(), g.outW(), g.c(), g.kh(), g.kw(), 1, 1, fullPh, fullPw,
                    g.dh(), g.dw(), G);
            sconvGemm(t, gy, gyOff, (grp, i0, rows, k0, kc, dst, d0) ->
                    spackFlipped(w, wOff + grp * og * ckk, cg, kk, i0, rows, k0, kc, dst, d0), null, 0, gx, gxOff);
            return;
        }
        // A = w^T of the group: element (ci*kk + t, o) = w[o, ci, t], pre-packed once; B = gy of the item.
        final int wStride = Gemm.sprepackSize(ckk, og);
        final float[] wPre = Gemm.SCRATCH_S.take(G * wStride);
        try {
            for (int grp = 0; grp < G; grp++) {
                int wo = wOff + grp * og * ckk;
                Gemm.sprepackA((b, i0, rows, k0, kc, dst, d0) -> Gemm.spackA(w, wo, 1, ckk, i0, rows, k0, kc, dst, d0),
                        grp, ckk, og, wPre, grp * wStride);
            }
            Gemm.SPack pb = (bi, j0, cols, k0, kc, dst, d0) ->
                    Gemm.spackB(gy, gyOff + bi * og * ohw, ohw, 1, j0, cols, k0, kc, dst, d0);
            if (g.pointwise()) {
                Gemm.parallelBlocks(g.n() * G, cg, hw, (long) cg * hw * og, Gemm.SMR, Gemm.SNR, (bi, m0, m1, n0, n1) ->
                        Gemm.sgemmBlock(bi, m0, m1, n0, n1, og, null, wPre, (bi % G) * wStride, pb, gx, gxOff + bi * cg * hw, hw, false));
                return;
            }
            // Column blocks: pixels [p0, p1) of channels [c0, c1), sized by shape only (never by thread count).
            // Channel blocks start at multiples of MR rows so the pre-packed strips line up.
            final int pix = pixelChunk(cg * kk, ohw, Gemm.SNR);
            final int chans = Math.max(1, Math.min(cg, COLS_BUDGET / (kk * pix)));
            final int cUnit = Gemm.SMR / gcd(Gemm.SMR, kk);
            final int chansAligned = Math.max(cUnit, chans / cUnit * cUnit);
            Gemm.parallelBlocks(g.n() * G, cg, 1, (long) cg * kk * ohw * og, cUnit, 1, (bi, cA, cB, unused0, unused1) -> {
                int plane0 = gxOff + bi * cg * hw;
                Arrays.fill(gx, plane0 + cA * hw, plane0 + cB * hw, 0);
                float[] cols = scolsBuffer(Math.min(chansAligned, cB - cA) * kk * pix);
                for (int c0 = cA; c0 < cB; c0 += chansAligned) {
                    int c1 = Math.min(cB, c0 + chansAligned);
                    for (int p0 = 0; p0 < ohw; p0 += pix) {
                        int p1 = Math.min(ohw, p0 + pix);
                        // cols[(row - c0*kk) * pix + (j - p0)] holds element (row, j) of w^T @ gy.
                        Gemm.sgemmBlock(bi, c0 * kk, c1 * kk, p0, p1, og, null, wPre, (bi % G) * wStride, pb,
                                cols, -(c0 * kk * pix + p0), pix, false);
                        scol2im(g, cols, pix, c0, c1, p0, p1, gx, plane0);
                    }
                }
            });
        } finally {
            Gemm.SCRATCH_S.give(wPre);
        }
    }

    /**
     * Packs one MR-row strip of the flipped, transposed weights of one group: element (ci, o*kk + t) is
     * {@code w[wo + (o*cg + ci)*kk + kk-1-t]}.
     */
    private static void spackFlipped(float[] w, int wo, int cg, int kk, int i0, int rows, int k0, int kc, float[] dst, int d0) {
        final int mr = Gemm.SMR;
        for (int p = 0; p < kc; p++) {
            int k = k0 + p, o = k / kk, t = k - o * kk, src = wo + (o * cg + i0) * kk + kk - 1 - t, d = d0 + p * mr;
            for (int r = 0; r < rows; r++) dst[d + r] = w[src + r * kk];
            for (int r = rows; r < mr; r++) dst[d + r] = 0;
        }
    }

    /**
     * Weight (and bias) gradient: {@code gw[o, ci, ki, kj] = sum_{n, oh, ow} gy[n, o, oh, ow] * x[n, .., ih, iw]}.
     * {@code gw} ({@code [o, c/groups, kh, kw]}) is overwritten; so is {@code gBias} ({@code [o]}, the sum of
     * {@code gy} over batch and pixels) unless null.
     */
    public static void backwardWeight(ConvGeom g, float[] gy, int gyOff, float[] x, int xOff, float[] gw, int gwOff,
                                      float[] gBias, int gBiasOff) {
        checkLen("gy", gy.length, gyOff, g.outputSize());
        checkLen("x", x.length, xOff, g.inputSize());
        checkLen("gw", gw.length, gwOff, g.weightSize());
        if (gBias != null) checkLen("gBias", gBias.length, gBiasOff, g.o());
        final int G = g.groups(), cg = g.c() / G, og = g.o() / G, ckk = cg * g.kh() * g.kw(), O = g.o();
        final int ohw = g.outH() * g.outW(), N = g.n();
        final int hp = g.h() + 2 * g.ph(), wp = g.w() + 2 * g.pw();
        if (N == 0) {
            for (int i = 0; i < O; i++) Arrays.fill(gw, gwOff + i * ckk, gwOff + (i + 1) * ckk, 0);
        } else {
            // The input is transposed once to zero-padded NHWC (shared by all tasks) and gw is computed with its
            // columns in (ki, kj, ci) order: then a row of im2col^T (one pixel, consecutive columns) is a few
            // contiguous channel runs, read in place by the kernel when channel groups are whole vectors, else
            // packed with plain copies; never a gather. Columns go back to (ci, ki, kj) order at the end.
            final int C = g.c(), kk = g.kh() * g.kw();
            if ((long) N * hp * wp * C > Integer.MAX_VALUE - 64)
                throw new IllegalArgumentException("conv2d weight gradient: padded input of " + N + "x" + C + "x" + hp + "x" + wp
                        + " elements exceeds one array; split the batch");
            final float[] xt = Gemm.SCRATCH_S.take(N * hp * wp * C);
            final float[] gwT = Gemm.SCRATCH_S.take(O * ckk);
            final int aStride = Gemm.sprepackSize(og, N * ohw);
            final float[] aPre = Gemm.SCRATCH_S.take(G * aStride);
            try {
                Parallel.forRange(N * hp, Math.max(1, 4096 / Math.max(1, wp * C)), (r0, r1) -> stoPaddedNhwc(g, x, xOff, xt, r0, r1));
                // A = gy of the group, K = (image, pixel): images are consecutive K ranges. Packed once, shared.
                final int K = N * ohw, strips = (og + Gemm.SMR - 1) / Gemm.SMR;
                Parallel.forRange(G * strips, 1, (t0, t1) -> {
                    for (int t = t0; t < t1; t++) {
                        int gi = t / strips, r = (t - gi * strips) * Gemm.SMR, rows = Math.min(Gemm.SMR, og - r);
                        for (int img = 0; img < N; img++)
                            Gemm.spackA(gy, gyOff + (img * O + gi * og) * ohw, ohw, 1, r, rows, 0, ohw, aPre,
                                    gi * aStride + r * K + img * ohw * Gemm.SMR);
                    }
                });
                if (Gemm.FS != null && cg % Gemm.FVL == 0) {
                    // Every VL consecutive columns are contiguous channels: the kernel reads xt in place
                    // (k -> the pixel's corner, column group -> offset of (ki, kj, ci) from it).
                    int[] koff = new int[K], colOff = new int[ckk / Gemm.FVL];
                    for (int k = 0; k < K; k++) {
                        int img = k / ohw, pix = k - img * ohw, oh = pix / g.outW(), ow = pix - oh * g.outW();
                        koff[k] = ((img * hp + oh * g.sh()) * wp + ow * g.sw()) * C;
                    }
                    for (int q = 0; q < colOff.length; q++) {
                        int j = q * Gemm.FVL, t = j / cg, ki = t / g.kw(), kj = t - ki * g.kw();
                        colOff[q] = (ki * g.dh() * wp + kj * g.dw()) * C + j - t * cg;
                    }
                    Gemm.parallelBlocks(G, og, ckk, (long) og * ckk * K, Gemm.SMR, Gemm.SNR, (gi, m0, m1, n0, n1) ->
                            Gemm.sgemmBlockIndirect(m0, m1, n0, n1, K, aPre, gi * aStride, xt, koff, colOff, gi * cg,
                                    gwT, gi * og * ckk, ckk, false));
                } else {
                    Gemm.SPack pb = (gi, j0, cols, k0, kc, dst, d0) -> spackIm2colTNhwc(g, xt, gi, j0, cols, k0, kc, dst, d0);
                    Gemm.parallelBlocks(G, og, ckk, (long) og * ckk * K, Gemm.SMR, Gemm.SNR, (gi, m0, m1, n0, n1) ->
                            Gemm.sgemmBlock(gi, m0, m1, n0, n1, K, null, aPre, gi * aStride, pb, gwT, gi * og * ckk, ckk, false));
                }
                Parallel.forRange(O, Math.max(1, 8192 / ckk), (o0, o1) -> {
                    for (int o = o0; o < o1; o++) {
                        int src = o * ckk, dst = gwOff + o * ckk;
                        for (int t = 0; t < kk; t++)
                            for (int ci = 0; ci < cg; ci++) gw[dst + ci * kk + t] = gwT[src + t * cg + ci];
                    }
                });
            } finally {
                Gemm.SCRATCH_S.give(aPre);
                Gemm.SCRATCH_S.give(gwT);
                Gemm.SCRATCH_S.give(xt);
            }
        }
        if (gBias != null) {
            Parallel.forRange(O, Math.max(1, (1 << 16) / Math.max(1, N * ohw)), (o0, o1) -> {
                for (int o = o0; o < o1; o++) {
                    float s = 0;
                    for (int img = 0; img < N; img++) s += ssum(gy, gyOff + (img * O + o) * ohw, ohw);
                    gBias[gBiasOff + o] = s;
                }
            });
        }
    }

    /** Sum of {@code a[off, off+len)}, in an order fixed by {@code len} alone. */
    private static float ssum(float[] a, int off, int len) {
        int i = 0;
        float s = 0;
        if (Gemm.FS != null && len >= Gemm.FVL) {
            FloatVector acc = FloatVector.zero(Gemm.FS);
            for (int e = Gemm.FS.loopBound(len); i < e; i += Gemm.FVL) acc = acc.add(FloatVector.fromArray(Gemm.FS, a, off + i));
            s = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        }
        for (; i < len; i++) s += a[off + i];
        return s;
    }

    private static final ThreadLocal<float[][]> SLOCAL = ThreadLocal.withInitial(() -> new float[2][0]);

    /** This thread's column buffer, grown to at least {@code size} (reused; tasks never fork while using it). */
    private static float[] scolsBuffer(int size) {
        float[][] holder = SLOCAL.get();
        if (holder[0].length < size) holder[0] = new float[size];
        return holder[0];
    }

    /** This thread's padded-image buffer, grown to at least {@code size}. */
    private static float[] spadBuffer(int size) {
        float[][] holder = SLOCAL.get();
        if (holder[1].length < size) holder[1] = new float[size];
        return holder[1];
    }

    /** Copies {@code planes} input planes at {@code xo} into {@code xp[xpo..]} with ph/pw zero borders. */
    private static void spad(ConvGeom g, float[] x, int xo, int planes, float[] xp, int xpo) {
        final int H = g.h(), W = g.w(), ph = g.ph(), pw = g.pw(), wp = W + 2 * pw, hp = H + 2 * ph;
        for (int c = 0; c < planes; c++) {
            int src = xo + c * H * W, dst = xpo + c * hp * wp;
            Arrays.fill(xp, dst, dst + ph * wp, 0);
            for (int h = 0; h < H; h++) {
                int row = dst + (ph + h) * wp;
                for (int q = 0; q < pw; q++) {
                    xp[row + q] = 0;
                    xp[row + pw + W + q] = 0;
                }
                System.arraycopy(x, src + h * W, xp, row + pw, W);
            }
            Arrays.fill(xp, dst + (ph + H) * wp, dst + hp * wp, 0);
        }
    }

    /**
     * Forward B packer on a zero-padded input ({@code sw == 1}): rows k = (ci, ki, kj) in {@code [k0, k0+kc)},
     * columns = output pixels {@code [j0, j0+cols)}, NR-wide strips (see {@link Gemm.SPack}). Each packed row is
     * a set of contiguous runs of the padded plane (one per output row and strip), so the panel is filled one k
     * at a time: consecutive runs read consecutive rows of the plane.
     */
    static void spackIm2colPadded(ConvGeom g, float[] xp, int xpo, int j0, int cols, int k0, int kc, float[] dst, int d0) {
        final int nr = Gemm.SNR, kh = g.kh(), kw = g.kw(), kk = kh * kw, OW = g.outW();
        final int wp = g.w() + 2 * g.pw(), plane = (g.h() + 2 * g.ph()) * wp, rowStep = g.dh() * wp, colStep = g.dw();
        // Runs: (offset in padded plane, offset of row 0 in the panel, length), split at output rows and strips.
        int[] runs = new int[3 * (cols / Math.min(OW, nr) + 2 + cols / nr)];
        int nRuns = 0;
        for (int j = 0; j < cols; ) {
            int pix = j0 + j, oh = pix / OW, ow = pix - oh * OW, s = j / nr, inStrip = j - s * nr;
            int len = Math.min(Math.min(cols - j, OW - ow), nr - inStrip);
            runs[3 * nRuns] = oh * g.sh() * wp + ow;
            runs[3 * nRuns + 1] = d0 + s * Gemm.bStride(kc, nr) + inStrip;
            runs[3 * nRuns + 2] = len;
            nRuns++;
            j += len;
        }
        int tail = cols % nr, tailOff = d0 + (cols / nr) * Gemm.bStride(kc, nr) + tail;
        int ci = k0 / kk, t = k0 - ci * kk, ki = t / kw, kj = t - ki * kw;
        for (int p = 0; p < kc; p++) {
            int src = xpo + ci * plane + ki * rowStep + kj * colStep, d = p * nr;
            for (int r = 0; r < 3 * nRuns; r += 3) scopy(xp, src + runs[r], dst, runs[r + 1] + d, runs[r + 2]);
            if (tail != 0) Arrays.fill(dst, tailOff + d, tailOff + d + nr - tail, 0);
            if (++kj == kw) {
                kj = 0;
                if (++ki == kh) {
                    ki = 0;
                    ci++;
                }
            }
        }
    }

    /** Short copy with vector moves (masked tail); runs here are at most NR long. */
    private static void scopy(float[] src, int s, float[] dst, int d, int len) {
        if (Gemm.FS == null) {
            System.arraycopy(src, s, dst, d, len);
            return;
        }
        int t = 0;
        for (; t + Gemm.FVL <= len; t += Gemm.FVL) FloatVector.fromArray(Gemm.FS, src, s + t).intoArray(dst, d + t);
        if (t < len) {
            VectorMask<Float> m = Gemm.FS.indexInRange(t, len);
            FloatVector.fromArray(Gemm.FS, src, s + t, m).intoArray(dst, d + t, m);
        }
    }

    /**
     * Rows {@code [r0, r1)} of the zero-padded NHWC copy of x: row r = image * hp + padded row, laid out as
     * {@code xt[(r * wp + padded col) * C + channel]}.
     */
    private static void stoPaddedNhwc(ConvGeom g, float[] x, int xOff, float[] xt, int r0, int r1) {
        final int C = g.c(), H = g.h(), W = g.w(), ph = g.ph(), pw = g.pw(), hp = H + 2 * ph, wp = W + 2 * pw, hw = H * W;
        int[] idx = null;
        if (Gemm.FS != null) {
            idx = new int[Gemm.FVL];
            for (int v = 0; v < Gemm.FVL; v++) idx[v] = v * hw;
        }
        for (int r = r0; r < r1; r++) {
            int img = r / hp, h = r - img * hp - ph, row = r * wp * C;
            if (h < 0 || h >= H) {
                Arrays.fill(xt, row, row + wp * C, 0);
                continue;
            }
            Arrays.fill(xt, row, row + pw * C, 0);
            Arrays.fill(xt, row + (pw + W) * C, row + wp * C, 0);
            int src = xOff + img * C * hw + h * W;
            for (int w = 0; w < W; w++) {
                int d = row + (pw + w) * C, c = 0;
                if (idx != null) {
                    // Gather one pixel's channels (stride h*w) into a contiguous run.
                    for (; c + Gemm.FVL <= C; c += Gemm.FVL) FloatVector.fromArray(Gemm.FS, x, src + w + c * hw, idx, 0).intoArray(xt, d + c);
                }
                for (; c < C; c++) xt[d + c] = x[src + w + c * hw];
            }
        }
    }

    /**
     * Weight-gradient B packer on the padded NHWC input: rows k = (image, output pixel) in {@code [k0, k0+kc)},
     * columns j = (ki*kw + kj)*cg + ci in {@code [j0, j0+cols)} of group {@code gi}, NR-wide strips. A packed row
     * is a few contiguous channel runs, one per (ki, kj) and strip.
     */
    static void spackIm2colTNhwc(ConvGeom g, float[] xt, int gi, int j0, int cols, int k0, int kc, float[] dst, int d0) {
        final int nr = Gemm.SNR, C = g.c(), cg = C / g.groups(), kw = g.kw(), OW = g.outW(), ohw = g.outH() * OW;
        final int wp = g.w() + 2 * g.pw(), hp = g.h() + 2 * g.ph();
        // Runs: (offset from the pixel's corner in xt, offset of row 0 in the panel, length).
        int[] runs = new int[3 * (cols / Math.min(cg, nr) + 2 + cols / nr)];
        int nRuns = 0;
        for (int j = 0; j < cols; ) {
            int jj = j0 + j, t = jj / cg, ci = jj - t * cg, ki = t / kw, kj = t - ki * kw, s = j / nr, inStrip = j - s * nr;
            int len = Math.min(Math.min(cols - j, cg - ci), nr - inStrip);
            runs[3 * nRuns] = (ki * g.dh() * wp + kj * g.dw()) * C + gi * cg + ci;
            runs[3 * nRuns + 1] = d0 + s * Gemm.bStride(kc, nr) + inStrip;
            runs[3 * nRuns + 2] = len;
            nRuns++;
            j += len;
        }
        int tail = cols % nr, tailOff = d0 + (cols / nr) * Gemm.bStride(kc, nr) + tail;
        int img = k0 / ohw, pix = k0 - img * ohw, oh = pix / OW, ow = pix - oh * OW;
        for (int p = 0; p < kc; p++) {
            int corner = ((img * hp + oh * g.sh()) * wp + ow * g.sw()) * C, d = p * nr;
            for (int r = 0; r < 3 * nRuns; r += 3) scopy(xt, corner + runs[r], dst, runs[r + 1] + d, runs[r + 2]);
            if (tail != 0) Arrays.fill(dst, tailOff + d, tailOff + d + nr - tail, 0);
            if (++ow == OW) {
                ow = 0;
                if (++oh == g.outH()) {
                    oh = 0;
                    img++;
                }
            }
        }
    }

    /**
     * Forward B packer for any stride: rows k = (ci, ki, kj) in {@code [k0, k0+kc)}, columns = output pixels
     * {@code [j0, j0+cols)}, NR-wide strips. {@code xo} is the offset of channel 0 of the image/group.
     */
    static void spackIm2col(ConvGeom g, float[] x, int xo, int j0, int cols, int k0, int kc, float[] dst, int d0) {
        final int nr = Gemm.SNR, kw = g.kw(), kk = g.kh() * kw, hw = g.h() * g.w();
        for (int s = 0; s * nr < cols; s++) {
            int js = j0 + s * nr, cs = Math.min(nr, cols - s * nr), base = d0 + s * Gemm.bStride(kc, nr);
            int ci = k0 / kk, t = k0 - ci * kk, ki = t / kw, kj = t - ki * kw;
            for (int p = 0; p < kc; p++) {
                int d = base + p * nr;
                sgatherRow(g, x, xo + ci * hw, ki, kj, js, cs, dst, d);
                if (cs < nr) Arrays.fill(dst, d + cs, d + nr, 0);
                if (++kj == kw) {
                    kj = 0;
                    if (++ki == g.kh()) {
                        ki = 0;
                        ci++;
                    }
                }
            }
        }
    }

    /**
     * Writes im2col row (ki, kj) of one input plane for output pixels {@code [pix, pix+len)} contiguously to
     * {@code dst[d..]}: {@code x[ih, iw]} with {@code ih = oh*sh - ph + ki*dh}, {@code iw = ow*sw - pw + kj*dw},
     * zero outside the input.
     */
    private static void sgatherRow(ConvGeom g, float[] x, int plane, int ki, int kj, int pix, int len, float[] dst, int d) {
        final int OW = g.outW(), W = g.w(), sw = g.sw();
        int oh = pix / OW, ow = pix - oh * OW;
        while (len > 0) {
            int run = Math.min(len, OW - ow);
            int ih = oh * g.sh() - g.ph() + ki * g.dh();
            if (ih < 0 || ih >= g.h()) {
                Arrays.fill(dst, d, d + run, 0);
            } else {
                int iw0 = ow * sw - g.pw() + kj * g.dw(), row = plane + ih * W + iw0;
                int lo = validLo(iw0, sw, run), hi = validHi(iw0, sw, W, run);
                Arrays.fill(dst, d, d + lo, 0);
                for (int t = lo; t < hi; t++) dst[d + t] = x[row + t * sw];
                Arrays.fill(dst, d + Math.max(lo, hi), d + run, 0);
            }
            d += run;
            len -= run;
            ow = 0;
            oh++;
        }
    }

    /**
     * Scatter-adds column block {@code cols} (rows (ci - c0)*kk + ki*kw + kj for ci in {@code [c0, c1)}, columns =
     * output pixels {@code [p0, p1)}, row stride {@code ldc}) into the input-gradient planes at {@code plane0}.
     */
    private static void scol2im(ConvGeom g, float[] cols, int ldc, int c0, int c1, int p0, int p1, float[] gx, int plane0) {
        final int kh = g.kh(), kw = g.kw(), kk = kh * kw, hw = g.h() * g.w(), OW = g.outW(), W = g.w(), sw = g.sw();
        for (int ci = c0; ci < c1; ci++) {
            int plane = plane0 + ci * hw;
            for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++) {
                    int src = ((ci - c0) * kk + ki * kw + kj) * ldc;
                    int oh = p0 / OW, ow = p0 - oh * OW, left = p1 - p0;
                    while (left > 0) {
                        int run = Math.min(left, OW - ow);
                        int ih = oh * g.sh() - g.ph() + ki * g.dh();
                        if (ih >= 0 && ih < g.h()) {
                            int iw0 = ow * sw - g.pw() + kj * g.dw(), row = plane + ih * W + iw0;
                            int lo = validLo(iw0, sw, run), hi = validHi(iw0, sw, W, run);
                            if (sw == 1) for (int q = lo; q < hi; q++) gx[row + q] += cols[src + q];
                            else for (int q = lo; q < hi; q++) gx[row + q * sw] += cols[src + q];
                        }
                        src += run;
                        left -= run;
                        ow = 0;
                        oh++;
                    }
                }
            }
        }
    }


    // ===================================================================================================
    // double
    // ===================================================================================================

    /**
     * Forward convolution: {@code y[n, o, oh, ow] = bias[o] + sum w[o, ci, ki, kj] * x[n, g*C/g + ci, ih, iw]}.
     * {@code x} is {@code [n, c, h, w]} at {@code xOff}, {@code w} is {@code [o, c/groups, kh, kw]} at {@code wOff},
     * {@code bias} is {@code [o]} at {@code biasOff} or null; {@code y} ({@code [n, o, outH, outW]} at {@code yOff})
     * is overwritten. All contiguous.
     */
    public static void forward(ConvGeom g, double[] x, int xOff, double[] w, int wOff, double[] bias, int biasOff,
                               double[] y, int yOff) {
        checkLen("x", x.length, xOff, g.inputSize());
        checkLen("w", w.length, wOff, g.weightSize());
        checkLen("y", y.length, yOff, g.outputSize());
        if (bias != null) checkLen("bias", bias.length, biasOff, g.o());
        final int og = g.o() / g.groups(), ckk = g.c() / g.groups() * g.kh() * g.kw();
        dconvGemm(g, x, xOff, (grp, i0, rows, k0, kc, dst, d0) ->
                Gemm.dpackA(w, wOff + grp * og * ckk, ckk, 1, i0, rows, k0, kc, dst, d0), bias, biasOff, y, yOff);
    }

    /**
     * {@code y = conv(x)} for geometry {@code g}, the weights of group {@code grp} given as the og x ckk matrix
     * packed by {@code wp} (called with {@code batch = grp}). Weights are pre-packed once and shared.
     */
    private static void dconvGemm(ConvGeom g, double[] x, int xOff, Gemm.DPack wp, double[] bias, int biasOff, double[] y, int yOff) {
        final int G = g.groups(), cg = g.c() / G, og = g.o() / G, ckk = cg * g.kh() * g.kw();
        final int hw = g.h() * g.w(), ohw = g.outH() * g.outW(), chw = g.c() * hw;
        final int wStride = Gemm.dprepackSize(og, ckk);
        final double[] wPre = Gemm.SCRATCH_D.take(G * wStride);
        try {
            for (int grp = 0; grp < G; grp++) Gemm.dprepackA(wp, grp, og, ckk, wPre, grp * wStride);
            // Stride 1 with output rows a whole number of vectors: the kernel reads im2col straight from the
            // padded image (k -> offset of (ci, ki, kj), pixel group -> offset of its first pixel).
            final boolean indirect = padFast(g) && Gemm.DS != null && g.outW() % Gemm.DVL == 0;
            final int wpad = g.w() + 2 * g.pw(), plane = (g.h() + 2 * g.ph()) * wpad;
            final int[] koff = indirect ? new int[ckk] : null, colOff = indirect ? new int[ohw / Gemm.DVL] : null;
            if (indirect) {
                for (int k = 0, kk = g.kh() * g.kw(); k < ckk; k++) {
                    int ci = k / kk, t = k - ci * kk, ki = t / g.kw(), kj = t - ki * g.kw();
                    koff[k] = ci * plane + ki * g.dh() * wpad + kj * g.dw();
                }
                for (int q = 0; q < colOff.length; q++) {
                    int pix = q * Gemm.DVL, oh = pix / g.outW();
                    colOff[q] = oh * g.sh() * wpad + pix - oh * g.outW();
                }
            }
            // Item bi = image * G + group.
            Gemm.parallelBlocks(g.n() * G, og, ohw, (long) og * ohw * ckk, Gemm.DMR, Gemm.DNR, (bi, m0, m1, n0, n1) -> {
                int grp = bi % G, xo = xOff + (bi / G) * chw + grp * cg * hw, yo = yOff + bi * og * ohw;
                if (bias != null) {
                    // Start from the bias and accumulate: no separate pass over y.
                    int bo = biasOff + grp * og;
                    for (int i = m0; i < m1; i++) Arrays.fill(y, yo + i * ohw + n0, yo + i * ohw + n1, bias[bo + i]);
                }
                if (indirect) {
                    double[] xp = dpadBuffer(cg * plane);
                    dpad(g, x, xo, cg, xp, 0);
                    Gemm.dgemmBlockIndirect(m0, m1, n0, n1, ckk, wPre, grp * wStride, xp, koff, colOff, 0, y, yo, ohw, bias != null);
                    return;
                }
                Gemm.DPack pb;
                if (g.pointwise()) {
                    pb = (b, j0, cols, k0, kc, dst, d0) -> Gemm.dpackB(x, xo, hw, 1, j0, cols, k0, kc, dst, d0);
                } else if (padFast(g)) {
                    double[] xp = dpadBuffer(cg * (g.h() + 2 * g.ph()) * (g.w() + 2 * g.pw()));
                    dpad(g, x, xo, cg, xp, 0);
                    pb = (b, j0, cols, k0, kc, dst, d0) -> dpackIm2colPadded(g, xp, 0, j0, cols, k0, kc, dst, d0);
                } else {
                    pb = (b, j0, cols, k0, kc, dst, d0) -> dpackIm2col(g, x, xo, j0, cols, k0, kc, dst, d0);
                }
                Gemm.dgemmBlock(bi, m0, m1, n0, n1, ckk, null, wPre, grp * wStride, pb, y, yo, ohw, bias != null);
            });
        } finally {
            Gemm.SCRATCH_D.give(wPre);
        }
    }

    /**
     * Input gradient: {@code gx = conv2d^T(gy, w)}, i.e. the adjoint of {@link #forward} in {@code x}. This is also
     * conv_transpose2d's forward (with {@code g} describing the transposed convolution's output as the input).
     * {@code gy} is {@code [n, o, outH, outW]}; {@code gx} ({@code [n, c, h, w]}) is overwritten.
     */
    public static void backwardInput(ConvGeom g, double[] gy, int gyOff, double[] w, int wOff, double[] gx, int gxOff) {
        checkLen("gy", gy.length, gyOff, g.outputSize());
        checkLen("w", w.length, wOff, g.weightSize());
        checkLen("gx", gx.length, gxOff, g.inputSize());
        final int G = g.groups(), cg = g.c() / G, og = g.o() / G, kk = g.kh() * g.kw(), ckk = cg * kk;
        final int hw = g.h() * g.w(), ohw = g.outH() * g.outW();
        int fullPh = g.dh() * (g.kh() - 1) - g.ph(), fullPw = g.dw() * (g.kw() - 1) - g.pw();
        if (g.sh() == 1 && g.sw() == 1 && fullPh >= 0 && fullPw >= 0 && !g.pointwise()) {
            // Stride 1: gx is the convolution of gy (padded by the kernel extent minus the padding) with the
            // kernel flipped in space and with in/out channels swapped: no col2im scatter.
            ConvGeom t = new ConvGeom(g.n(), g.o(), g.outH(), g.outW(), g.c(), g.kh(), g.kw(), 1, 1, fullPh, fullPw,
                    g.dh(), g.dw(), G);
            dconvGemm(t, gy, gyOff, (grp, i0, rows, k0, kc, dst, d0) ->
                    dpackFlipped(w, wOff + grp * og * ckk, cg, kk, i0, rows, k0, kc, dst, d0), null, 0, gx, gxOff);
            return;
        }
        // A = w^T of the group: element (ci*kk + t, o) = w[o, ci, t], pre-packed once; B = gy of the item.
        final int wStride = Gemm.dprepackSize(ckk, og);
        final double[] wPre = Gemm.SCRATCH_D.take(G * wStride);
        try {
            for (int grp = 0; grp < G; grp++) {
                int wo = wOff + grp * og * ckk;
                Gemm.dprepackA((b, i0, rows, k0, kc, dst, d0) -> Gemm.dpackA(w, wo, 1, ckk, i0, rows, k0, kc, dst, d0),
                        grp, ckk, og, wPre, grp * wStride);
            }
            Gemm.DPack pb = (bi, j0, cols, k0, kc, dst, d0) ->
                    Gemm.dpackB(gy, gyOff + bi * og * ohw, ohw, 1, j0, cols, k0, kc, dst, d0);
            if (g.pointwise()) {
                Gemm.parallelBlocks(g.n() * G, cg, hw, (long) cg * hw * og, Gemm.DMR, Gemm.DNR, (bi, m0, m1, n0, n1) ->
                        Gemm.dgemmBlock(bi, m0, m1, n0, n1, og, null, wPre, (bi % G) * wStride, pb, gx, gxOff + bi * cg * hw, hw, false));
                return;
            }
            // Column blocks: pixels [p0, p1) of channels [c0, c1), sized by shape only (never by thread count).
            // Channel blocks start at multiples of MR rows so the pre-packed strips line up.
            final int pix = pixelChunk(cg * kk, ohw, Gemm.DNR);
            final int chans = Math.max(1, Math.min(cg, COLS_BUDGET / (kk * pix)));
            final int cUnit = Gemm.DMR / gcd(Gemm.DMR, kk);
            final int chansAligned = Math.max(cUnit, chans / cUnit * cUnit);
            Gemm.parallelBlocks(g.n() * G, cg, 1, (long) cg * kk * ohw * og, cUnit, 1, (bi, cA, cB, unused0, unused1) -> {
                int plane0 = gxOff + bi * cg * hw;
                Arrays.fill(gx, plane0 + cA * hw, plane0 + cB * hw, 0);
                double[] cols = dcolsBuffer(Math.min(chansAligned, cB - cA) * kk * pix);
                for (int c0 = cA; c0 < cB; c0 += chansAligned) {
                    int c1 = Math.min(cB, c0 + chansAligned);
                    for (int p0 = 0; p0 < ohw; p0 += pix) {
                        int p1 = Math.min(ohw, p0 + pix);
                        // cols[(row - c0*kk) * pix + (j - p0)] holds element (row, j) of w^T @ gy.
                        Gemm.dgemmBlock(bi, c0 * kk, c1 * kk, p0, p1, og, null, wPre, (bi % G) * wStride, pb,
                                cols, -(c0 * kk * pix + p0), pix, false);
                        dcol2im(g, cols, pix, c0, c1, p0, p1, gx, plane0);
                    }
                }
            });
        } finally {
            Gemm.SCRATCH_D.give(wPre);
        }
    }

    /**
     * Packs one MR-row strip of the flipped, transposed weights of one group: element (ci, o*kk + t) is
     * {@code w[wo + (o*cg + ci)*kk + kk-1-t]}.
     */
    private static void dpackFlipped(double[] w, int wo, int cg, int kk, int i0, int rows, int k0, int kc, double[] dst, int d0) {
        final int mr = Gemm.DMR;
        for (int p = 0; p < kc; p++) {
            int k = k0 + p, o = k / kk, t = k - o * kk, src = wo + (o * cg + i0) * kk + kk - 1 - t, d = d0 + p * mr;
            for (int r = 0; r < rows; r++) dst[d + r] = w[src + r * kk];
            for (int r = rows; r < mr; r++) dst[d + r] = 0;
        }
    }

    /**
     * Weight (and bias) gradient: {@code gw[o, ci, ki, kj] = sum_{n, oh, ow} gy[n, o, oh, ow] * x[n, .., ih, iw]}.
     * {@code gw} ({@code [o, c/groups, kh, kw]}) is overwritten; so is {@code gBias} ({@code [o]}, the sum of
     * {@code gy} over batch and pixels) unless null.
     */
    public static void backwardWeight(ConvGeom g, double[] gy, int gyOff, double[] x, int xOff, double[] gw, int gwOff,
                                      double[] gBias, int gBiasOff) {
        checkLen("gy", gy.length, gyOff, g.outputSize());
        checkLen("x", x.length, xOff, g.inputSize());
        checkLen("gw", gw.length, gwOff, g.weightSize());
        if (gBias != null) checkLen("gBias", gBias.length, gBiasOff, g.o());
        final int G = g.groups(), cg = g.c() / G, og = g.o() / G, ckk = cg * g.kh() * g.kw(), O = g.o();
        final int ohw = g.outH() * g.outW(), N = g.n();
        final int hp = g.h() + 2 * g.ph(), wp = g.w() + 2 * g.pw();
        if (N == 0) {
            for (int i = 0; i < O; i++) Arrays.fill(gw, gwOff + i * ckk, gwOff + (i + 1) * ckk, 0);
        } else {
            // The input is transposed once to zero-padded NHWC (shared by all tasks) and gw is computed with its
            // columns in (ki, kj, ci) order: then a row of im2col^T (one pixel, consecutive columns) is a few
            // contiguous channel runs, read in place by the kernel when channel groups are whole vectors, else
            // packed with plain copies; never a gather. Columns go back to (ci, ki, kj) order at the end.
            final int C = g.c(), kk = g.kh() * g.kw();
            if ((long) N * hp * wp * C > Integer.MAX_VALUE - 64)
                throw new IllegalArgumentException("conv2d weight gradient: padded input of " + N + "x" + C + "x" + hp + "x" + wp
                        + " elements exceeds one array; split the batch");
            final double[] xt = Gemm.SCRATCH_D.take(N * hp * wp * C);
            final double[] gwT = Gemm.SCRATCH_D.take(O * ckk);
            final int aStride = Gemm.dprepackSize(og, N * ohw);
            final double[] aPre = Gemm.SCRATCH_D.take(G * aStride);
            try {
                Parallel.forRange(N * hp, Math.max(1, 4096 / Math.max(1, wp * C)), (r0, r1) -> dtoPaddedNhwc(g, x, xOff, xt, r0, r1));
                // A = gy of the group, K = (image, pixel): images are consecutive K ranges. Packed once, shared.
                final int K = N * ohw, strips = (og + Gemm.DMR - 1) / Gemm.DMR;
                Parallel.forRange(G * strips, 1, (t0, t1) -> {
                    for (int t = t0; t < t1; t++) {
                        int gi = t / strips, r = (t - gi * strips) * Gemm.DMR, rows = Math.min(Gemm.DMR, og - r);
                        for (int img = 0; img < N; img++)
                            Gemm.dpackA(gy, gyOff + (img * O + gi * og) * ohw, ohw, 1, r, rows, 0, ohw, aPre,
                                    gi * aStride + r * K + img * ohw * Gemm.DMR);
                    }
                });
                if (Gemm.DS != null && cg % Gemm.DVL == 0) {
                    // Every VL consecutive columns are contiguous channels: the kernel reads xt in place
                    // (k -> the pixel's corner, column group -> offset of (ki, kj, ci) from it).
                    int[] koff = new int[K], colOff = new int[ckk / Gemm.DVL];
                    for (int k = 0; k < K; k++) {
                        int img = k / ohw, pix = k - img * ohw, oh = pix / g.outW(), ow = pix - oh * g.outW();
                        koff[k] = ((img * hp + oh * g.sh()) * wp + ow * g.sw()) * C;
                    }
                    for (int q = 0; q < colOff.length; q++) {
                        int j = q * Gemm.DVL, t = j / cg, ki = t / g.kw(), kj = t - ki * g.kw();
                        colOff[q] = (ki * g.dh() * wp + kj * g.dw()) * C + j - t * cg;
                    }
                    Gemm.parallelBlocks(G, og, ckk, (long) og * ckk * K, Gemm.DMR, Gemm.DNR, (gi, m0, m1, n0, n1) ->
                            Gemm.dgemmBlockIndirect(m0, m1, n0, n1, K, aPre, gi * aStride, xt, koff, colOff, gi * cg,
                                    gwT, gi * og * ckk, ckk, false));
                } else {
                    Gemm.DPack pb = (gi, j0, cols, k0, kc, dst, d0) -> dpackIm2colTNhwc(g, xt, gi, j0, cols, k0, kc, dst, d0);
                    Gemm.parallelBlocks(G, og, ckk, (long) og * ckk * K, Gemm.DMR, Gemm.DNR, (gi, m0, m1, n0, n1) ->
                            Gemm.dgemmBlock(gi, m0, m1, n0, n1, K, null, aPre, gi * aStride, pb, gwT, gi * og * ckk, ckk, false));
                }
                Parallel.forRange(O, Math.max(1, 8192 / ckk), (o0, o1) -> {
                    for (int o = o0; o < o1; o++) {
                        int src = o * ckk, dst = gwOff + o * ckk;
                        for (int t = 0; t < kk; t++)
                            for (int ci = 0; ci < cg; ci++) gw[dst + ci * kk + t] = gwT[src + t * cg + ci];
                    }
                });
            } finally {
                Gemm.SCRATCH_D.give(aPre);
                Gemm.SCRATCH_D.give(gwT);
                Gemm.SCRATCH_D.give(xt);
            }
        }
        if (gBias != null) {
            Parallel.forRange(O, Math.max(1, (1 << 16) / Math.max(1, N * ohw)), (o0, o1) -> {
                for (int o = o0; o < o1; o++) {
                    double s = 0;
                    for (int img = 0; img < N; img++) s += dsum(gy, gyOff + (img * O + o) * ohw, ohw);
                    gBias[gBiasOff + o] = s;
                }
            });
        }
    }

    /** Sum of {@code a[off, off+len)}, in an order fixed by {@code len} alone. */
    private static double dsum(double[] a, int off, int len) {
        int i = 0;
        double s = 0;
        if (Gemm.DS != null && len >= Gemm.DVL) {
            DoubleVector acc = DoubleVector.zero(Gemm.DS);
            for (int e = Gemm.DS.loopBound(len); i < e; i += Gemm.DVL) acc = acc.add(DoubleVector.fromArray(Gemm.DS, a, off + i));
            s = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        }
        for (; i < len; i++) s += a[off + i];
        return s;
    }

    private static final ThreadLocal<double[][]> DLOCAL = ThreadLocal.withInitial(() -> new double[2][0]);

    /** This thread's column buffer, grown to at least {@code size} (reused; tasks never fork while using it). */
    private static double[] dcolsBuffer(int size) {
        double[][] holder = DLOCAL.get();
        if (holder[0].length < size) holder[0] = new double[size];
        return holder[0];
    }

    /** This thread's padded-image buffer, grown to at least {@code size}. */
    private static double[] dpadBuffer(int size) {
        double[][] holder = DLOCAL.get();
        if (holder[1].length < size) holder[1] = new double[size];
        return holder[1];
    }

    /** Copies {@code planes} input planes at {@code xo} into {@code xp[xpo..]} with ph/pw zero borders. */
    private static void dpad(ConvGeom g, double[] x, int xo, int planes, double[] xp, int xpo) {
        final int H = g.h(), W = g.w(), ph = g.ph(), pw = g.pw(), wp = W + 2 * pw, hp = H + 2 * ph;
        for (int c = 0; c < planes; c++) {
            int src = xo + c * H * W, dst = xpo + c * hp * wp;
            Arrays.fill(xp, dst, dst + ph * wp, 0);
            for (int h = 0; h < H; h++) {
                int row = dst + (ph + h) * wp;
                for (int q = 0; q < pw; q++) {
                    xp[row + q] = 0;
                    xp[row + pw + W + q] = 0;
                }
                System.arraycopy(x, src + h * W, xp, row + pw, W);
            }
            Arrays.fill(xp, dst + (ph + H) * wp, dst + hp * wp, 0);
        }
    }

    /**
     * Forward B packer on a zero-padded input ({@code sw == 1}): rows k = (ci, ki, kj) in {@code [k0, k0+kc)},
     * columns = output pixels {@code [j0, j0+cols)}, NR-wide strips (see {@link Gemm.DPack}). Each packed row is
     * a set of contiguous runs of the padded plane (one per output row and strip), so the panel is filled one k
     * at a time: consecutive runs read consecutive rows of the plane.
     */
    static void dpackIm2colPadded(ConvGeom g, double[] xp, int xpo, int j0, int cols, int k0, int kc, double[] dst, int d0) {
        final int nr = Gemm.DNR, kh = g.kh(), kw = g.kw(), kk = kh * kw, OW = g.outW();
        final int wp = g.w() + 2 * g.pw(), plane = (g.h() + 2 * g.ph()) * wp, rowStep = g.dh() * wp, colStep = g.dw();
        // Runs: (offset in padded plane, offset of row 0 in the panel, length), split at output rows and strips.
        int[] runs = new int[3 * (cols / Math.min(OW, nr) + 2 + cols / nr)];
        int nRuns = 0;
        for (int j = 0; j < cols; ) {
            int pix = j0 + j, oh = pix / OW, ow = pix - oh * OW, s = j / nr, inStrip = j - s * nr;
            int len = Math.min(Math.min(cols - j, OW - ow), nr - inStrip);
            runs[3 * nRuns] = oh * g.sh() * wp + ow;
            runs[3 * nRuns + 1] = d0 + s * Gemm.bStride(kc, nr) + inStrip;
            runs[3 * nRuns + 2] = len;
            nRuns++;
            j += len;
        }
        int tail = cols % nr, tailOff = d0 + (cols / nr) * Gemm.bStride(kc, nr) + tail;
        int ci = k0 / kk, t = k0 - ci * kk, ki = t / kw, kj = t - ki * kw;
        for (int p = 0; p < kc; p++) {
            int src = xpo + ci * plane + ki * rowStep + kj * colStep, d = p * nr;
            for (int r = 0; r < 3 * nRuns; r += 3) dcopy(xp, src + runs[r], dst, runs[r + 1] + d, runs[r + 2]);
            if (tail != 0) Arrays.fill(dst, tailOff + d, tailOff + d + nr - tail, 0);
            if (++kj == kw) {
                kj = 0;
                if (++ki == kh) {
                    ki = 0;
                    ci++;
                }
            }
        }
    }

    /** Short copy with vector moves (masked tail); runs here are at most NR long. */
    private static void dcopy(double[] src, int s, double[] dst, int d, int len) {
        if (Gemm.DS == null) {
            System.arraycopy(src, s, dst, d, len);
            return;
        }
        int t = 0;
        for (; t + Gemm.DVL <= len; t += Gemm.DVL) DoubleVector.fromArray(Gemm.DS, src, s + t).intoArray(dst, d + t);
        if (t < len) {
            VectorMask<Double> m = Gemm.DS.indexInRange(t, len);
            DoubleVector.fromArray(Gemm.DS, src, s + t, m).intoArray(dst, d + t, m);
        }
    }

    /**
     * Rows {@code [r0, r1)} of the zero-padded NHWC copy of x: row r = image * hp + padded row, laid out as
     * {@code xt[(r * wp + padded col) * C + channel]}.
     */
    private static void dtoPaddedNhwc(ConvGeom g, double[] x, int xOff, double[] xt, int r0, int r1) {
        final int C = g.c(), H = g.h(), W = g.w(), ph = g.ph(), pw = g.pw(), hp = H + 2 * ph, wp = W + 2 * pw, hw = H * W;
        int[] idx = null;
        if (Gemm.DS != null) {
            idx = new int[Gemm.DVL];
            for (int v = 0; v < Gemm.DVL; v++) idx[v] = v * hw;
        }
        for (int r = r0; r < r1; r++) {
            int img = r / hp, h = r - img * hp - ph, row = r * wp * C;
            if (h < 0 || h >= H) {
                Arrays.fill(xt, row, row + wp * C, 0);
                continue;
            }
            Arrays.fill(xt, row, row + pw * C, 0);
            Arrays.fill(xt, row + (pw + W) * C, row + wp * C, 0);
            int src = xOff + img * C * hw + h * W;
            for (int w = 0; w < W; w++) {
                int d = row + (pw + w) * C, c = 0;
                if (idx != null) {
                    // Gather one pixel's channels (stride h*w) into a contiguous run.
                    for (; c + Gemm.DVL <= C; c += Gemm.DVL) DoubleVector.fromArray(Gemm.DS, x, src + w + c * hw, idx, 0).intoArray(xt, d + c);
                }
                for (; c < C; c++) xt[d + c] = x[src + w + c * hw];
            }
        }
    }

    /**
     * Weight-gradient B packer on the padded NHWC input: rows k = (image, output pixel) in {@code [k0, k0+kc)},
     * columns j = (ki*kw + kj)*cg + ci in {@code [j0, j0+cols)} of group {@code gi}, NR-wide strips. A packed row
     * is a few contiguous channel runs, one per (ki, kj) and strip.
     */
    static void dpackIm2colTNhwc(ConvGeom g, double[] xt, int gi, int j0, int cols, int k0, int kc, double[] dst, int d0) {
        final int nr = Gemm.DNR, C = g.c(), cg = C / g.groups(), kw = g.kw(), OW = g.outW(), ohw = g.outH() * OW;
        final int wp = g.w() + 2 * g.pw(), hp = g.h() + 2 * g.ph();
        // Runs: (offset from the pixel's corner in xt, offset of row 0 in the panel, length).
        int[] runs = new int[3 * (cols / Math.min(cg, nr) + 2 + cols / nr)];
        int nRuns = 0;
        for (int j = 0; j < cols; ) {
            int jj = j0 + j, t = jj / cg, ci = jj - t * cg, ki = t / kw, kj = t - ki * kw, s = j / nr, inStrip = j - s * nr;
            int len = Math.min(Math.min(cols - j, cg - ci), nr - inStrip);
            runs[3 * nRuns] = (ki * g.dh() * wp + kj * g.dw()) * C + gi * cg + ci;
            runs[3 * nRuns + 1] = d0 + s * Gemm.bStride(kc, nr) + inStrip;
            runs[3 * nRuns + 2] = len;
            nRuns++;
            j += len;
        }
        int tail = cols % nr, tailOff = d0 + (cols / nr) * Gemm.bStride(kc, nr) + tail;
        int img = k0 / ohw, pix = k0 - img * ohw, oh = pix / OW, ow = pix - oh * OW;
        for (int p = 0; p < kc; p++) {
            int corner = ((img * hp + oh * g.sh()) * wp + ow * g.sw()) * C, d = p * nr;
            for (int r = 0; r < 3 * nRuns; r += 3) dcopy(xt, corner + runs[r], dst, runs[r + 1] + d, runs[r + 2]);
            if (tail != 0) Arrays.fill(dst, tailOff + d, tailOff + d + nr - tail, 0);
            if (++ow == OW) {
                ow = 0;
                if (++oh == g.outH()) {
                    oh = 0;
                    img++;
                }
            }
        }
    }

    /**
     * Forward B packer for any stride: rows k = (ci, ki, kj) in {@code [k0, k0+kc)}, columns = output pixels
     * {@code [j0, j0+cols)}, NR-wide strips. {@code xo} is the offset of channel 0 of the image/group.
     */
    static void dpackIm2col(ConvGeom g, double[] x, int xo, int j0, int cols, int k0, int kc, double[] dst, int d0) {
        final int nr = Gemm.DNR, kw = g.kw(), kk = g.kh() * kw, hw = g.h() * g.w();
        for (int s = 0; s * nr < cols; s++) {
            int js = j0 + s * nr, cs = Math.min(nr, cols - s * nr), base = d0 + s * Gemm.bStride(kc, nr);
            int ci = k0 / kk, t = k0 - ci * kk, ki = t / kw, kj = t - ki * kw;
            for (int p = 0; p < kc; p++) {
                int d = base + p * nr;
                dgatherRow(g, x, xo + ci * hw, ki, kj, js, cs, dst, d);
                if (cs < nr) Arrays.fill(dst, d + cs, d + nr, 0);
                if (++kj == kw) {
                    kj = 0;
                    if (++ki == g.kh()) {
                        ki = 0;
                        ci++;
                    }
                }
            }
        }
    }

    /**
     * Writes im2col row (ki, kj) of one input plane for output pixels {@code [pix, pix+len)} contiguously to
     * {@code dst[d..]}: {@code x[ih, iw]} with {@code ih = oh*sh - ph + ki*dh}, {@code iw = ow*sw - pw + kj*dw},
     * zero outside the input.
     */
    private static void dgatherRow(ConvGeom g, double[] x, int plane, int ki, int kj, int pix, int len, double[] dst, int d) {
        final int OW = g.outW(), W = g.w(), sw = g.sw();
        int oh = pix / OW, ow = pix - oh * OW;
        while (len > 0) {
            int run = Math.min(len, OW - ow);
            int ih = oh * g.sh() - g.ph() + ki * g.dh();
            if (ih < 0 || ih >= g.h()) {
                Arrays.fill(dst, d, d + run, 0);
            } else {
                int iw0 = ow * sw - g.pw() + kj * g.dw(), row = plane + ih * W + iw0;
                int lo = validLo(iw0, sw, run), hi = validHi(iw0, sw, W, run);
                Arrays.fill(dst, d, d + lo, 0);
                for (int t = lo; t < hi; t++) dst[d + t] = x[row + t * sw];
                Arrays.fill(dst, d + Math.max(lo, hi), d + run, 0);
            }
            d += run;
            len -= run;
            ow = 0;
            oh++;
        }
    }

    /**
     * Scatter-adds column block {@code cols} (rows (ci - c0)*kk + ki*kw + kj for ci in {@code [c0, c1)}, columns =
     * output pixels {@code [p0, p1)}, row stride {@code ldc}) into the input-gradient planes at {@code plane0}.
     */
    private static void dcol2im(ConvGeom g, double[] cols, int ldc, int c0, int c1, int p0, int p1, double[] gx, int plane0) {
        final int kh = g.kh(), kw = g.kw(), kk = kh * kw, hw = g.h() * g.w(), OW = g.outW(), W = g.w(), sw = g.sw();
        for (int ci = c0; ci < c1; ci++) {
            int plane = plane0 + ci * hw;
            for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++) {
                    int src = ((ci - c0) * kk + ki * kw + kj) * ldc;
                    int oh = p0 / OW, ow = p0 - oh * OW, left = p1 - p0;
                    while (left > 0) {
                        int run = Math.min(left, OW - ow);
                        int ih = oh * g.sh() - g.ph() + ki * g.dh();
                        if (ih >= 0 && ih < g.h()) {
                            int iw0 = ow * sw - g.pw() + kj * g.dw(), row = plane + ih * W + iw0;
                            int lo = validLo(iw0, sw, run), hi = validHi(iw0, sw, W, run);
                            if (sw == 1) for (int q = lo; q < hi; q++) gx[row + q] += cols[src + q];
                            else for (int q = lo; q < hi; q++) gx[row + q * sw] += cols[src + q];
                        }
                        src += run;
                        left -= run;
                        ow = 0;
                        oh++;
                    }
                }
            }
        }
    }


    /** First t in [0, run] with iw0 + t*sw >= 0. */
    private static int validLo(int iw0, int sw, int run) {
        return iw0 >= 0 ? 0 : Math.min(run, (-iw0 + sw - 1) / sw);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** One past the last t in [0, run) with iw0 + t*sw < W (0 if none). */
    private static int validHi(int iw0, int sw, int W, int run) {
        return iw0 >= W ? 0 : Math.min(run, (W - 1 - iw0) / sw + 1);
    }
}
