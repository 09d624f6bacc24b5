package dev.distillery.models.diffusion;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuidanceAndPredictionsTest {
    static double maxAbs(Tensor a, Tensor b) {
        return a.sub(b).abs().max().item();
    }

    static final Denoiser COND = (x, t) -> x.mul(0.3).add(0.01 * t).tanh();
    static final Denoiser UNCOND = (x, t) -> x.mul(-0.2).sub(0.5).sin();

    @Test
    void cfgWeightOneIsConditionalAndZeroIsUnconditional() {
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 4, 3);
        int[] calls = new int[2];
        Denoiser c = (xx, t) -> {
            calls[0]++;
            return COND.predict(xx, t);
        };
        Denoiser u = (xx, t) -> {
            calls[1]++;
            return UNCOND.predict(xx, t);
        };
        assertEquals(0, maxAbs(Guidance.cfg(u, c, 1).predict(x, 500), COND.predict(x, 500)));
        assertEquals(0, maxAbs(Guidance.cfg(u, c, 0).predict(x, 500), UNCOND.predict(x, 500)));
        assertEquals(1, calls[0], "w = 1 calls only the conditional model");
        assertEquals(1, calls[1], "w = 0 calls only the unconditional model");
        // The general formula agrees with both limits.
        assertTrue(maxAbs(Guidance.cfg(u, c, 1 + 1e-9).predict(x, 500), COND.predict(x, 500)) < 1e-6);
        assertTrue(maxAbs(Guidance.cfg(u, c, 1e-9).predict(x, 500), UNCOND.predict(x, 500)) < 1e-6);
        // w = 7.5: u + 7.5 (c - u), elementwise.
        Tensor g = Guidance.cfg(u, c, 7.5).predict(x, 500), cc = COND.predict(x, 500), uu = UNCOND.predict(x, 500);
        double[] gv = g.toDoubleArray(), cv = cc.toDoubleArray(), uv = uu.toDoubleArray();
        for (int i = 0; i < gv.length; i++) assertEquals(uv[i] + 7.5 * (cv[i] - uv[i]), gv[i], 1e-5);
        // The batched variant gives the same.
        Denoiser batched = (xx, t) -> {
            int n = xx.size(0) / 2;
            return Tensor.concat(java.util.List.of(UNCOND.predict(xx.narrow(0, 0, n), t), COND.predict(xx.narrow(0, n, n), t)), 0);
        };
        assertTrue(maxAbs(Guidance.cfgBatched(batched, 7.5).predict(x, 500), g) < 1e-6);
        assertTrue(maxAbs(Guidance.cfgBatched(batched, 1).predict(x, 500), cc) < 1e-6);
        assertTrue(maxAbs(Guidance.cfgBatched(batched, 0).predict(x, 500), uu) < 1e-6);
    }

    @Test
    void epsVAndX0ConvertExactly() {
        Tensor x0 = Tensor.randn(new Rng(2), DType.F64, 5, 3), eps = Tensor.randn(new Rng(3), DType.F64, 5, 3);
        for (double a : new double[]{0.9991, 0.5, 0.0047}) {
            Tensor x = x0.mul(Math.sqrt(a)).add(eps.mul(Math.sqrt(1 - a)));
            Tensor v = Predictions.vFromEpsX0(eps, x0, a);
            for (PredictionType type : PredictionType.values()) {
                Tensor out = Predictions.fromX0Eps(type, x0, eps, a);
                assertTrue(maxAbs(Predictions.toX0(type, x, out, a), x0) < 1e-9, type + " -> x0 at a = " + a);
                assertTrue(maxAbs(Predictions.toEps(type, x, out, a), eps) < 1e-9, type + " -> eps at a = " + a);
            }
            assertTrue(maxAbs(Predictions.fromX0Eps(PredictionType.V_PREDICTION, x0, eps, a), v) < 1e-12);
            // VE view: x / sqrt(a) = x0 + sigma eps
            double sigma = NoiseSchedule.sigmaFromAlphaBar(a);
            Tensor xVe = x.div(Math.sqrt(a));
            assertTrue(maxAbs(xVe, x0.add(eps.mul(sigma))) < 1e-9);
            assertTrue(maxAbs(Predictions.epsFromDenoised(xVe, x0, sigma), eps) < 1e-9);
            assertTrue(maxAbs(Predictions.denoisedFromEps(xVe, eps, sigma), x0) < 1e-9);
            assertTrue(maxAbs(Predictions.scoreFromDenoised(xVe, x0, sigma), eps.div(-sigma)) < 1e-9);
        }
    }

    @Test
    void vpAndEdmAdaptersAreInverse() {
        GaussianMixture mix = GaussianMixture.ring();
        NoiseSchedule s = NoiseSchedule.fromConfig(SchedulerConfig.stableDiffusion());
        Tensor xVe = mix.sample(new Rng(4), 64);
        for (PredictionType type : PredictionType.values()) {
            Denoiser vp = Denoisers.edmAsVp(mix::denoise, type, s);
            Denoiser back = Denoisers.vpAsEdm(vp, type, s);
            for (int t : new int[]{0, 10, 400, 999}) {
                double sigma = s.sigma(t);
                Tensor x = xVe.add(Tensor.randn(new Rng(t), DType.F64, 64, 2).mul(sigma));
                assertTrue(maxAbs(back.predict(x, sigma), mix.denoise(x, sigma)) < 1e-9, type + " t = " + t);
            }
            // type conversion of a VP model
            Denoiser asEps = Denoisers.convert(vp, type, PredictionType.EPSILON, s);
            Denoiser eps = Denoisers.edmAsVp(mix::denoise, PredictionType.EPSILON, s);
            Tensor xv = Tensor.randn(new Rng(9), DType.F64, 64, 2);
            assertTrue(maxAbs(asEps.predict(xv, 321), eps.predict(xv, 321)) < 1e-9, type + " -> epsilon");
        }
        assertSame(COND, Denoisers.convert(COND, PredictionType.EPSILON, PredictionType.EPSILON, s));
    }

    @Test
    void edmPreconditioningWithAZeroNetworkIsTheGaussianDenoiser() {
        EdmPreconditioning p = new EdmPreconditioning(0.5);
        double[] seenNoise = new double[1];
        Denoiser d = p.wrap((x, cNoise) -> {
            seenNoise[0] = cNoise;
            return x.mul(0);
        });
        GaussianMixture gauss = new GaussianMixture(new double[][]{{0, 0}}, new double[]{0.5}, new double[]{1});
        Tensor x = Tensor.randn(new Rng(11), DType.F64, 16, 2).mul(3);
        for (double sigma : new double[]{0.002, 0.3, 2, 80}) {
            assertTrue(maxAbs(d.predict(x, sigma), gauss.denoise(x, sigma)) < 1e-12, "sigma " + sigma);
            assertEquals(Math.log(sigma) / 4, seenNoise[0], 1e-15);
            assertEquals(1 / (p.cOut(sigma) * p.cOut(sigma)), p.lossWeight(sigma), 1e-9 * p.lossWeight(sigma));
            // unit variance of the network input for data of std sigma_d: c_in^2 (sigma_d^2 + sigma^2) = 1
            assertEquals(1, p.cIn(sigma) * p.cIn(sigma) * (0.25 + sigma * sigma), 1e-12);
        }
    }

    @Test
    void dynamicThresholdingMatchesTheDiffusersFormula() {
        // row 0: |x| quantile 0.995 of 1..200 /100 = linear interpolation at position 198.005 -> 1.99005; row 1 all small -> s = 1
        double[] v = new double[400];
        for (int i = 0; i < 200; i++) {
            v[i] = (i % 2 == 0 ? 1 : -1) * (i + 1) / 100.0;
            v[200 + i] = 0.001 * i;
        }
        Tensor x = Tensor.of(v, 2, 2, 10, 10);
        Tensor y = VpMath.dynamicThreshold(x, 0.995, 3.0);
        double s = 1.99 + 0.005 * 0.01;
        double[] yv = y.toDoubleArray();
        for (int i = 0; i < 200; i++) assertEquals(Math.max(-s, Math.min(s, v[i])) / s, yv[i], 1e-12);
        for (int i = 200; i < 400; i++) assertEquals(v[i], yv[i], 1e-15);
        // sample_max_value caps s
        double[] capped = VpMath.dynamicThreshold(x, 0.995, 1.5).toDoubleArray();
        assertEquals(-1.0, capped[199], 1e-12); // v = -2.00, clamped to -1.5, divided by 1.5
        assertEquals(-0.5 / 1.5, capped[49], 1e-12); // v = -0.50
    }
}
