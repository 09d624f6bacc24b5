package dev.distillery.models.diffusion;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Few-step sampling with re-noising, driven by the exact consistency function of Gaussian data N(mu, s^2): the
 * probability-flow ODE maps {@code x} at level sigma to {@code f(x, sigma) = mu + s / sqrt(s^2 + sigma^2) (x - mu)},
 * so one step from N(mu, s^2 + sigma_0^2) and any number of re-noised steps give exact N(mu, s^2) samples.
 */
class FewStepSamplerTest {
    static final double MU = 0.7, S = 0.4;
    static final Denoiser CONSISTENCY = (x, sigma) -> x.sub(MU).mul(S / Math.sqrt(S * S + sigma * sigma)).add(MU);
    static final int N = 20000;

    static void assertGaussian(String what, Tensor x) {
        double[] v = x.toDoubleArray();
        double m = 0, q = 0;
        for (double d : v) m += d;
        m /= v.length;
        for (double d : v) q += (d - m) * (d - m);
        double sd = Math.sqrt(q / (v.length - 1));
        // standard errors: mean 0.4 / sqrt(20000) = 0.0028, std 0.4 / sqrt(40000) = 0.002
        assertEquals(MU, m, 0.012, what + " mean");
        assertEquals(S, sd, 0.01, what + " std");
    }

    @Test
    void edmFewStepGivesTheDataDistribution() {
        double[] sig = {80, 2.0, 0.5};
        List<Double> seen = new ArrayList<>();
        Tensor x = FewStepSampler.edm(CONSISTENCY, sig, EdmSampler.initialNoise(new Rng(1), sig[0], DType.F64, N), new Rng(2),
                (i, n, t, xx, x0) -> seen.add(t));
        assertEquals(List.of(80.0, 2.0, 0.5), seen);
        assertGaussian("EDM 3-step", x);
        // one step from sigma_init: G(z) = D(sigma_init z; sigma_init) (Diff-Instruct / DMD2 generator form)
        Tensor z = Tensor.randn(new Rng(3), DType.F64, N);
        Tensor one = FewStepSampler.edm(CONSISTENCY, new double[]{1.0, 0}, z.mul(1.0), null, null);
        assertEquals(0, one.sub(CONSISTENCY.predict(z, 1.0)).abs().max().item());
    }

    @Test
    void vpFewStepWithDmd2Timesteps() {
        NoiseSchedule s = NoiseSchedule.fromConfig(SchedulerConfig.stableDiffusion());
        Denoiser vpX0 = Denoisers.edmAsVp(CONSISTENCY, PredictionType.SAMPLE, s);
        // x_T at t = 999 from N(sqrt(a) mu, a s^2 + 1 - a), as the forward process would give
        double a = s.alphaBar(999);
        Tensor xT = Tensor.randn(new Rng(4), DType.F64, N).mul(Math.sqrt(a * S * S + 1 - a)).add(Math.sqrt(a) * MU);
        Tensor x = FewStepSampler.vp(vpX0, PredictionType.SAMPLE, s, new int[]{999, 749, 499, 249}, xT, new Rng(5), null);
        assertGaussian("VP 4-step", x);
        // an eps-model gives the same samples (same noise draws)
        Denoiser vpEps = Denoisers.edmAsVp(CONSISTENCY, PredictionType.EPSILON, s);
        Tensor y = FewStepSampler.vp(vpEps, PredictionType.EPSILON, s, new int[]{999, 749, 499, 249}, xT, new Rng(5), null);
        assertTrue(y.sub(x).abs().max().item() < 1e-9);
    }

    @Test
    void oneStepGeneratorAndSeeds() {
        Tensor a = FewStepSampler.oneStep(z -> z.mul(S).add(MU), new Rng(6), DType.F64, N);
        assertGaussian("G(z)", a);
        Tensor b = FewStepSampler.oneStep(z -> z.mul(S).add(MU), new Rng(6), DType.F64, N);
        assertEquals(0, a.sub(b).abs().max().item(), "same seed, same samples");
        double[] sig = {80, 2.0, 0.5};
        Tensor x0 = EdmSampler.initialNoise(new Rng(1), 80, DType.F64, 8);
        Tensor r1 = FewStepSampler.edm(CONSISTENCY, sig, x0, new Rng(2), null), r2 = FewStepSampler.edm(CONSISTENCY, sig, x0, new Rng(2), null);
        Tensor r3 = FewStepSampler.edm(CONSISTENCY, sig, x0, new Rng(3), null);
        assertEquals(0, r1.sub(r2).abs().max().item());
        assertTrue(r1.sub(r3).abs().max().item() > 1e-3, "a different re-noising seed gives different samples");
    }
}
