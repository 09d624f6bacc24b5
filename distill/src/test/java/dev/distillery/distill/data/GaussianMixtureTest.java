package dev.distillery.distill.data;

import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.models.diffusion.Denoisers;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class GaussianMixtureTest {
    private static final GaussianMixture RING = Toy2d.ring8Mixture();
    private static final double[][] POINTS = {{1.5, 0.3}, {0.0, 0.0}, {-2.2, 1.0}, {0.4, -1.9}};

    private static Tensor points() {
        double[] d = new double[POINTS.length * 2];
        for (int i = 0; i < POINTS.length; i++) {
            d[2 * i] = POINTS[i][0];
            d[2 * i + 1] = POINTS[i][1];
        }
        return Tensor.of(d, POINTS.length, 2);
    }

    /** Self-normalised importance estimate of E[x0 | x] with x0 ~ p and x = s x0 + sqrt(nv) eps. */
    private static double[] monteCarlo(float[] x0s, double[] x, double s, double nv) {
        double sw = 0, a = 0, b = 0;
        for (int i = 0; i < x0s.length / 2; i++) {
            double dx = x[0] - s * x0s[2 * i], dy = x[1] - s * x0s[2 * i + 1];
            double w = Math.exp(-(dx * dx + dy * dy) / (2 * nv));
            sw += w;
            a += w * x0s[2 * i];
            b += w * x0s[2 * i + 1];
        }
        return new double[]{a / sw, b / sw};
    }

    @Test
    void exactDenoiserMatchesMonteCarloForBothConventions() {
        float[] x0s = RING.sample(new Rng(11), 400_000).toFloatArray();
        Tensor x = points();
        for (double sigma : new double[]{0.5, 1.5}) {
            double[] d = RING.denoiseEdm(x, sigma).toDoubleArray();
            for (int i = 0; i < POINTS.length; i++) {
                double[] mc = monteCarlo(x0s, POINTS[i], 1, sigma * sigma);
                assertEquals(mc[0], d[2 * i], 0.03, "EDM sigma " + sigma + " point " + i);
                assertEquals(mc[1], d[2 * i + 1], 0.03, "EDM sigma " + sigma + " point " + i);
            }
        }
        for (double a : new double[]{0.8, 0.3}) {
            double[] d = RING.denoiseVp(x, a).toDoubleArray();
            for (int i = 0; i < POINTS.length; i++) {
                double[] mc = monteCarlo(x0s, POINTS[i], Math.sqrt(a), 1 - a);
                assertEquals(mc[0], d[2 * i], 0.03, "VP a " + a + " point " + i);
                assertEquals(mc[1], d[2 * i + 1], 0.03, "VP a " + a + " point " + i);
            }
        }
    }

    @Test
    void scoreIsTheGradientOfTheLogDensityAndMatchesTweedie() {
        Tensor x = points();
        double h = 1e-5;
        for (double sigma : new double[]{0.05, 0.5, 2.0}) {
            double[] score = RING.scoreEdm(x, sigma).toDoubleArray();
            double[] den = RING.denoiseEdm(x, sigma).toDoubleArray();
            for (int i = 0; i < POINTS.length; i++)
                for (int dd = 0; dd < 2; dd++) {
                    double[] p = POINTS[i].clone(), m = POINTS[i].clone();
                    p[dd] += h;
                    m[dd] -= h;
                    double fd = (RING.logDensityEdm(p, sigma) - RING.logDensityEdm(m, sigma)) / (2 * h);
                    assertEquals(fd, score[2 * i + dd], 1e-5 * Math.max(1, Math.abs(fd)), "EDM sigma " + sigma);
                    // Tweedie: D = x + sigma^2 score
                    assertEquals(POINTS[i][dd] + sigma * sigma * score[2 * i + dd], den[2 * i + dd], 1e-9);
                }
        }
        for (double a : new double[]{0.99, 0.5, 0.05}) {
            double[] score = RING.scoreVp(x, a).toDoubleArray();
            double[] den = RING.denoiseVp(x, a).toDoubleArray();
            double[] eps = RING.epsVp(x, a).toDoubleArray();
            for (int i = 0; i < POINTS.length; i++)
                for (int dd = 0; dd < 2; dd++) {
                    double[] p = POINTS[i].clone(), m = POINTS[i].clone();
                    p[dd] += h;
                    m[dd] -= h;
                    double fd = (RING.logDensityVp(p, a) - RING.logDensityVp(m, a)) / (2 * h);
                    assertEquals(fd, score[2 * i + dd], 1e-5 * Math.max(1, Math.abs(fd)), "VP a " + a);
                    // Tweedie: E[x0|x] = (x + (1 - a) score) / sqrt(a); eps = -sqrt(1 - a) score
                    assertEquals((POINTS[i][dd] + (1 - a) * score[2 * i + dd]) / Math.sqrt(a), den[2 * i + dd], 1e-9);
                    assertEquals(-Math.sqrt(1 - a) * score[2 * i + dd], eps[2 * i + dd], 1e-9);
                }
        }
    }

    @Test
    void vpAndEdmTeachersAgreeThroughTheModelsAdapters() {
        NoiseSchedule schedule = NoiseSchedule.scaledLinear(1000, 0.00085, 0.012);
        Tensor x = points();
        for (PredictionType type : PredictionType.values()) {
            Denoiser vp = RING.vpDenoiser(schedule, type);
            Denoiser asEdm = Denoisers.vpAsEdm(vp, type, schedule);
            for (double sigma : new double[]{0.3, 1.0, 4.0}) // fractional timesteps
                assertTrue(asEdm.predict(x, sigma).allClose(RING.denoiseEdm(x, sigma), 1e-6, 1e-6), type + " sigma " + sigma);
            Denoiser back = Denoisers.edmAsVp(RING.edmDenoiser(), type, schedule);
            for (int t : new int[]{10, 500, 990})
                assertTrue(back.predict(x, t).allClose(vp.predict(x, t), 1e-6, 1e-6), type + " t " + t);
        }
        // F32 input gives F32 output of the same values
        Tensor x32 = x.to(DType.F32);
        Tensor d32 = RING.denoiseEdm(x32, 0.7);
        assertEquals(DType.F32, d32.dtype());
        assertTrue(d32.to(DType.F64).allClose(RING.denoiseEdm(x32.to(DType.F64), 0.7), 1e-6, 1e-6));
    }

    @Test
    void lowNoiseDenoiserSnapsToTheNearestComponentAndHighNoiseToTheMean() {
        Tensor near = Tensor.of(new double[]{2.05, 0.02}, 1, 2);
        double[] d = RING.denoiseEdm(near, 1e-3).toDoubleArray();
        assertEquals(2.05, d[0], 1e-4);
        double[] far = RING.denoiseEdm(near, 1e3).toDoubleArray();
        assertEquals(0, far[0], 1e-4);
        assertEquals(0, far[1], 1e-4);
        assertThrows(IllegalArgumentException.class, () -> RING.denoiseEdm(Tensor.of(new double[]{1, 2, 3}, 1, 3), 1));
    }
}
