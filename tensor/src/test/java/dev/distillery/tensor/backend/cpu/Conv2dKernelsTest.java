package dev.distillery.tensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.distillery.tensor.backend.cpu.Conv2dKernels.ConvGeom;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Checks {@link Conv2dKernels} against direct scalar convolution loops (double accumulation). */
class Conv2dKernelsTest {

    /** Awkward geometries: n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups. */
    private static final ConvGeom[] GEOMS = {
            new ConvGeom(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),      // 3x3 pad 1
            new ConvGeom(2, 4, 11, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1),    // stride 2
            new ConvGeom(1, 3, 13, 12, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1),    // pad 2, dilation 2
            new ConvGeom(2, 6, 8, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2),      // groups 2
            new ConvGeom(2, 5, 9, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5),      // depthwise
            new ConvGeom(1, 4, 6, 7, 8, 3, 3, 2, 1, 1, 0, 1, 1, 4),      // depthwise, multiplier 2
            new ConvGeom(2, 16, 7, 5, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1),    // 1x1: plain GEMM
            new ConvGeom(2, 8, 6, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2),      // 1x1 grouped
            new ConvGeom(2, 8, 9, 9, 8, 1, 1, 2, 2, 0, 0, 1, 1, 1),      // 1x1 stride 2
            new ConvGeom(1, 2, 3, 2, 3, 5, 4, 1, 1, 2, 2, 1, 1, 1),      // kernel larger than input
            new ConvGeom(3, 4, 10, 17, 6, 2, 5, 2, 3, 1, 2, 2, 1, 2),    // non-square everything
            new ConvGeom(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1),      // 1 everywhere
            new ConvGeom(2, 3, 4, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1),      // 1x1 with padding (col2im path)
            new ConvGeom(2, 4, 12, 11, 6, 3, 3, 2, 2, 2, 1, 2, 2, 2),    // stride 2, dilation 2, groups 2
            new ConvGeom(2, 32, 20, 19, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // packed GEMM with edge tiles
            new ConvGeom(2, 5, 10, 16, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),    // output rows of 16: im2col read in place
            new ConvGeom(1, 6, 9, 34, 20, 3, 3, 1, 1, 0, 0, 1, 1, 2),    // output rows of 32, grouped
            new ConvGeom(2, 3, 11, 20, 5, 3, 3, 2, 1, 1, 0, 2, 2, 1),    // rows of 16, height stride 2, dilation 2
            new ConvGeom(1, 4, 8, 48, 30, 3, 5, 1, 1, 1, 2, 1, 1, 1),    // rows of 48: 1.5 micro-tiles per row
            new ConvGeom(2, 32, 7, 6, 20, 3, 2, 2, 1, 1, 1, 1, 2, 1),    // 32 channels: weight gradient in place
            new ConvGeom(2, 64, 5, 5, 18, 3, 3, 1, 2, 1, 2, 2, 1, 2),    // 32 channels per group, strides 1x2
            new ConvGeom(2, 64, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // K = 576: several K blocks
    };

    private static float[] randomF(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    private static double[] randomD(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextDouble() * 2 - 1;
        return a;
    }

    private static double[] toD(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /**
     * Direct convolution in double; visits every (output, weight) pair once and hands it to {@code body}
     * with the flat indices into x (offset 0), w and y, or -1 for x when it falls in the padding.
     */
    private interface Visit {
        void at(int xi, int wi, int yi);
    }

    private static void forEachTap(ConvGeom g, Visit body) {
        int G = g.groups(), cg = g.c() / G, og = g.o() / G, OH = g.outH(), OW = g.outW();
        for (int n = 0; n < g.n(); n++)
            for (int o = 0; o < g.o(); o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        int yi = ((n * g.o() + o) * OH + oh) * OW + ow, grp = o / og;
                        for (int ci = 0; ci < cg; ci++)
                            for (int ki = 0; ki < g.kh(); ki++)
                                for (int kj = 0; kj < g.kw(); kj++) {
                                    int ih = oh * g.sh() - g.ph() + ki * g.dh(), iw = ow * g.sw() - g.pw() + kj * g.dw();
                                    int wi = ((o * cg + ci) * g.kh() + ki) * g.kw() + kj;
                                    boolean in = ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w();
                                    int xi = in ? ((n * g.c() + grp * cg + ci) * g.h() + ih) * g.w() + iw : -1;
                                    body.at(xi, wi, yi);
                                }
                    }
    }

    /** Reference results and per-element tolerance scales (sum of |products|). */
    private record Ref(double[] y, double[] yAbs, double[] gx, double[] gxAbs, double[] gw, double[] gwAbs, double[] gb) {}

    private static Ref reference(ConvGeom g, double[] x, double[] w, double[] bias, double[] gy) {
        int ySize = g.n() * g.o() * g.outH() * g.outW();
        double[] y = new double[ySize], yAbs = new double[ySize], gx = new double[x.length], gxAbs = new double[x.length];
        double[] gw = new double[w.length], gwAbs = new double[w.length], gb = new double[g.o()];
        int ohw = g.outH() * g.outW();
        for (int i = 0; i < ySize; i++) {
            int o = i / ohw % g.o();
            y[i] = bias == null ? 0 : bias[o];
            yAbs[i] = Math.abs(y[i]);
            gb[o] += gy[i];
        }
        forEachTap(g, (xi, wi, yi) -> {
            if (xi < 0) return;
            y[yi] += x[xi] * w[wi];
            yAbs[yi] += Math.abs(x[xi] * w[wi]);
            gx[xi] += gy[yi] * w[wi];
            gxAbs[xi] += Math.abs(gy[yi] * w[wi]);
            gw[wi] += gy[yi] * x[xi];
            gwAbs[wi] += Math.abs(gy[yi] * x[xi]);
        });
        return new Ref(y, yAbs, gx, gxAbs, gw, gwAbs, gb);
    }

    private static void close(String what, ConvGeom g, float[] got, int off, double[] want, double[] abs, double rel) {
        for (int i = 0; i < want.length; i++) {
            double tol = rel * (1 + abs[i]);
            if (!(Math.abs(got[off + i] - want[i]) <= tol))
                fail(what + " " + g + " [" + i + "] = " + got[off + i] + ", expected " + want[i]);
        }
    }

    private static void closeD(String what, ConvGeom g, double[] got, int off, double[] want, double[] abs) {
        for (int i = 0; i < want.length; i++)
            if (!(Math.abs(got[off + i] - want[i]) <= 1e-10 * (1 + abs[i])))
                fail(what + " " + g + " [" + i + "] = " + got[off + i] + ", expected " + want[i]);
    }

    /** Runs all three float kernels at non-zero offsets and checks them against the reference. */
    private static void checkFloat(ConvGeom g, long seed, boolean withBias) {
        SplittableRandom r = new SplittableRandom(seed);
        int xs = g.n() * g.c() * g.h() * g.w(), ws = g.o() * (g.c() / g.groups()) * g.kh() * g.kw();
        int ys = g.n() * g.o() * g.outH() * g.outW();
        float[] x = randomF(r, xs), w = randomF(r, ws), b = randomF(r, g.o()), gy = randomF(r, ys);
        Ref ref = reference(g, toD(x), toD(w), withBias ? toD(b) : null, toD(gy));
        int off = 3;
        float[] xo = shift(x, off), wo = shift(w, off + 1), bo = shift(b, off + 2), gyo = shift(gy, off);
        float[] y = new float[ys + off + 4], gx = new float[xs + off + 4], gw = new float[ws + off + 4], gb = new float[g.o() + off + 4];
        Arrays.fill(y, Float.NaN); // outputs are overwritten, never read
        Arrays.fill(gx, Float.NaN);
        Arrays.fill(gw, Float.NaN);
        Arrays.fill(gb, Float.NaN);
        Conv2dKernels.forward(g, xo, off, wo, off + 1, withBias ? bo : null, off + 2, y, off);
        Conv2dKernels.backwardInput(g, gyo, off, wo, off + 1, gx, off);
        Conv2dKernels.backwardWeight(g, gyo, off, xo, off, gw, off, withBias ? gb : null, off);
        // Float tolerance: 1e-5 * sqrt(terms) relative to the sum of |products|.
        int cg = g.c() / g.groups(), og = g.o() / g.groups(), kk = g.kh() * g.kw();
        close("forward", g, y, off, ref.y(), ref.yAbs(), 1e-5 * Math.sqrt(cg * kk));
        close("backwardInput", g, gx, off, ref.gx(), ref.gxAbs(), 1e-5 * Math.sqrt(og * kk));
        close("backwardWeight", g, gw, off, ref.gw(), ref.gwAbs(), 1e-5 * Math.sqrt(g.n() * g.outH() * g.outW()));
        if (withBias) {
            double[] gbAbs = new double[g.o()];
            Arrays.fill(gbAbs, ys / (double) g.o());
            close("gBias", g, gb, off, ref.gb(), gbAbs, 1e-5 * Math.sqrt(ys / (double) g.o()));
        }
        assertUntouched("forward", y, off, ys);
        assertUntouched("backwardInput", gx, off, xs);
        assertUntouched("backwardWeight", gw, off, ws);
    }

    private static float[] shift(float[] a, int off) {
        float[] s = new float[a.length + off + 2];
        System.arraycopy(a, 0, s, off, a.length);
        return s;
    }

    private static void assertUntouched(String what, float[] out, int off, int size) {
        for (int i = 0; i < out.length; i++)
            if (i < off || i >= off + size) assertTrue(Float.isNaN(out[i]), what + " wrote outside its output at " + i);
    }

    @Test
    void floatMatchesDirectConvolution() {
        long seed = 1;
        for (ConvGeom g : GEOMS) checkFloat(g, seed++, true);
    }

    @Test
    void floatWithoutBias() {
        checkFloat(GEOMS[0], 50, false);
        checkFloat(GEOMS[6], 51, false);
        checkFloat(GEOMS[10], 52, false);
    }

    @Test
    void doubleMatchesDirectConvolution() {
        long seed = 100;
        for (int i : new int[]{0, 1, 2, 3, 4, 6, 9, 10, 12, 13, 15, 16, 17, 19, 20, 21}) {
            ConvGeom g = GEOMS[i];
            SplittableRandom r = new SplittableRandom(seed++);
            int xs = g.n() * g.c() * g.h() * g.w(), ws = g.o() * (g.c() / g.groups()) * g.kh() * g.kw();
            int ys = g.n() * g.o() * g.outH() * g.outW();
            double[] x = randomD(r, xs), w = randomD(r, ws), b = randomD(r, g.o()), gy = randomD(r, ys);
            Ref ref = reference(g, x, w, b, gy);
            double[] y = new double[ys + 1], gx = new double[xs + 1], gw = new double[ws + 1], gb = new double[g.o() + 1];
            Conv2dKernels.forward(g, x, 0, w, 0, b, 0, y, 1);
            Conv2dKernels.backwardInput(g, gy, 0, w, 0, gx, 1);
            Conv2dKernels.backwardWeight(g, gy, 0, x, 0, gw, 1, gb, 1);
            closeD("forward", g, y, 1, ref.y(), ref.yAbs());
            closeD("backwardInput", g, gx, 1, ref.gx(), ref.gxAbs());
            closeD("backwardWeight", g, gw, 1, ref.gw(), ref.gwAbs());
            double[] gbAbs = new double[g.o()];
            Arrays.fill(gbAbs, ys);
            closeD("gBias", g, gb, 1, ref.gb(), gbAbs);
        }
    }

    @Test
    void emptyBatch() {
        ConvGeom g = new ConvGeom(0, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        float[] gw = new float[3 * 2 * 9], gb = {5, 5, 5};
        Arrays.fill(gw, 7);
        Conv2dKernels.forward(g, new float[0], 0, new float[gw.length], 0, null, 0, new float[0], 0);
        Conv2dKernels.backwardWeight(g, new float[0], 0, new float[0], 0, gw, 0, gb, 0);
        assertArrayEquals(new float[gw.length], gw);
        assertArrayEquals(new float[3], gb);
    }

    @Test
    void identicalResultsForAnyThreadCount() {
        // Single images, so 2 threads cut each GEMM into blocks: in-place im2col, col2im (stride 2), pointwise.
        ConvGeom[] geoms = {
                new ConvGeom(1, 24, 14, 16, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new ConvGeom(1, 16, 15, 17, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1),
                new ConvGeom(1, 40, 6, 6, 36, 1, 1, 1, 1, 0, 0, 1, 1, 1)};
        int before = Parallel.threads();
        try {
            for (ConvGeom g : geoms) {
                SplittableRandom r = new SplittableRandom(9);
                int xs = g.n() * g.c() * g.h() * g.w(), ws = g.o() * (g.c() / g.groups()) * g.kh() * g.kw();
                int ys = g.n() * g.o() * g.outH() * g.outW();
                float[] x = randomF(r, xs), w = randomF(r, ws), b = randomF(r, g.o()), gy = randomF(r, ys);
                float[][][] outs = new float[2][][];
                for (int t = 1; t <= 2; t++) {
                    Parallel.setThreads(t);
                    float[] y = new float[ys], gx = new float[xs], gw = new float[ws], gb = new float[g.o()];
                    Conv2dKernels.forward(g, x, 0, w, 0, b, 0, y, 0);
                    Conv2dKernels.backwardInput(g, gy, 0, w, 0, gx, 0);
                    Conv2dKernels.backwardWeight(g, gy, 0, x, 0, gw, 0, gb, 0);
                    outs[t - 1] = new float[][]{y, gx, gw, gb};
                }
                String[] names = {"forward", "backwardInput", "backwardWeight", "gBias"};
                for (int i = 0; i < 4; i++)
                    assertTrue(Arrays.equals(outs[0][i], outs[1][i]), names[i] + " differs between 1 and 2 threads for " + g);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void geometryOutputSizeAndValidation() {
        ConvGeom g = new ConvGeom(1, 3, 10, 17, 6, 2, 5, 2, 3, 1, 2, 2, 1, 3);
        assertEquals((10 + 2 - 2 - 1) / 2 + 1, g.outH());
        assertEquals((17 + 4 - 4 - 1) / 3 + 1, g.outW());
        assertMessage("divisible by groups", () -> new ConvGeom(1, 3, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2));
        assertMessage("output channels 3 not divisible", () -> new ConvGeom(1, 4, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 2));
        assertMessage("larger than padded input", () -> new ConvGeom(1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1));
        assertMessage("larger than padded input", () -> new ConvGeom(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 3, 3, 1));
        assertMessage("stride", () -> new ConvGeom(1, 1, 4, 4, 1, 3, 3, 0, 1, 0, 0, 1, 1, 1));
        assertMessage("padding", () -> new ConvGeom(1, 1, 4, 4, 1, 3, 3, 1, 1, -1, 0, 1, 1, 1));
        assertMessage("dilation", () -> new ConvGeom(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 0, 1));
        assertMessage("kernel size", () -> new ConvGeom(1, 1, 4, 4, 1, 0, 3, 1, 1, 0, 0, 1, 1, 1));
        assertMessage("groups", () -> new ConvGeom(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 0));
        assertMessage("batch", () -> new ConvGeom(-1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1));
        ConvGeom ok = new ConvGeom(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1);
        assertMessage("x needs 16", () -> Conv2dKernels.forward(ok, new float[15], 0, new float[9], 0, null, 0, new float[4], 0));
    }

    private static void assertMessage(String fragment, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
