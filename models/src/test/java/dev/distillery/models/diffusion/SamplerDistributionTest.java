package dev.distillery.models.diffusion;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every sampler, driven by the exact denoiser of a 2-D Gaussian mixture ({@link GaussianMixture}: six modes on a
 * circle of radius 2, widths 0.15-0.35, weights 0.1-0.3), must reproduce the mixture. Three statistics against 4000
 * exact draws:
 * <ol>
 *   <li>sliced Wasserstein-1 distance, 64 projections, below {@link #SW1_BOUND} = 0.08, and below a fifth of the
 *       distance of N(0, I) noise (0.53). Independent exact 4000-samples measure 0.025-0.055 from the reference (the
 *       seed lottery of the mode weights); the samplers measure 0.034-0.051. SW_2 is printed but not asserted: on
 *       well-separated modes its sampling floor at this n is 0.06-0.14 (it decays like n^-1/4);</li>
 *   <li>mode weights: the fraction of samples nearest each mean within 0.035 of the exact draws' fraction (a
 *       fraction's standard error is at most 0.0073 per sample set; measured at most 0.019);</li>
 *   <li>mode widths: RMS distance to the nearest mean within 20% of the exact draws' value (catches a wrong
 *       posterior variance, which weights and SW_1 see only weakly). Measured 4-15%: DDPM 1000 steps 3.7%,
 *       Heun 18 5.7%, DDIM-50 6.7-9.9%, DDPM-100 13%, Euler 40 15%.</li>
 * </ol>
 * Stochastic samplers need more steps than the ODE ones for the widths: with the exact posterior-mean denoiser, a
 * coarse ancestral step misses the variance of x0 given x_t (Bao et al. 2022, "Analytic-DPM"), so DDIM eta = 1 at
 * 50 steps makes the narrowest modes ~20% too narrow and EDM churn 10 at 18 steps (gamma capped at sqrt(2) - 1)
 * ~16% too wide; they are tested at 200 and 40 steps.
 */
class SamplerDistributionTest {
    static final int N = 4000, PROJ = 64;
    static final double SW1_BOUND = 0.08, WIDTH_TOL = 0.2;
    static final GaussianMixture MIX = GaussianMixture.ring();
    static Tensor reference;
    static double noiseDistance;

    @BeforeAll
    static void setUp() {
        reference = MIX.sample(new Rng(1000), N);
        double floor = sw(MIX.sample(new Rng(1001), N), 1);
        noiseDistance = sw(Tensor.randn(new Rng(1002), DType.F64, N, 2), 1);
        System.out.printf("[SW] exact-vs-exact: SW1 %.4f SW2 %.4f; N(0,I) noise: SW1 %.4f%n", floor, sw(MIX.sample(new Rng(1001), N), 2), noiseDistance);
        assertTrue(noiseDistance > 0.4, "the test distribution must be far from the initial noise");
    }

    static double sw(Tensor samples, double p) {
        return SlicedWasserstein.distance(samples, reference, PROJ, new Rng(12345), p);
    }

    private static void check(String name, Tensor samples) {
        double d = sw(samples, 1);
        double[] occ = MIX.occupancy(samples), ref = MIX.occupancy(reference);
        double[] spr = MIX.spread(samples), refSpr = MIX.spread(reference);
        double wErr = 0, sErr = 0;
        for (int k = 0; k < occ.length; k++) {
            wErr = Math.max(wErr, Math.abs(occ[k] - ref[k]));
            sErr = Math.max(sErr, Math.abs(spr[k] / refSpr[k] - 1));
        }
        System.out.printf("[SW] %-36s SW1 %.4f  SW2 %.4f  max weight err %.4f  max width err %.3f%n", name, d, sw(samples, 2), wErr, sErr);
        assertTrue(Double.isFinite(d) && d < SW1_BOUND, name + ": sliced Wasserstein-1 " + d + " >= bound " + SW1_BOUND);
        assertTrue(d < noiseDistance / 5, name + ": not well below the initial noise's distance " + noiseDistance);
        for (int k = 0; k < occ.length; k++) {
            assertTrue(Math.abs(occ[k] - ref[k]) < 0.035, name + ": component " + k + " holds " + occ[k] + " of the samples, exact draws " + ref[k]);
            assertTrue(Math.abs(spr[k] / refSpr[k] - 1) < WIDTH_TOL, name + ": component " + k + " RMS width " + spr[k] + ", exact draws " + refSpr[k]);
        }
    }

    /** The exact VP eps-model of the mixture under a schedule. */
    private static Denoiser vpEps(NoiseSchedule s) {
        return Denoisers.edmAsVp(MIX::denoise, PredictionType.EPSILON, s);
    }

    @Test
    void ddpmAncestral1000Steps() {
        SchedulerConfig c = SchedulerConfig.defaults().withClipSample(false); // DDPM linear 1e-4 .. 0.02
        DdpmSampler ddpm = new DdpmSampler(c);
        check("DDPM 1000 steps (linear)", ddpm.sample(vpEps(ddpm.schedule()), new Rng(1), DType.F64, new int[]{N, 2}, 1000, null));
    }

    @Test
    void ddpmAncestral100StepsVPrediction() {
        SchedulerConfig c = SchedulerConfig.defaults().withClipSample(false).withPredictionType(PredictionType.V_PREDICTION)
                .withTimestepSpacing(TimestepSpacing.TRAILING);
        DdpmSampler ddpm = new DdpmSampler(c);
        Denoiser v = Denoisers.edmAsVp(MIX::denoise, PredictionType.V_PREDICTION, ddpm.schedule());
        check("DDPM 100 steps (v, trailing)", ddpm.sample(v, new Rng(2), DType.F64, new int[]{N, 2}, 100, null));
    }

    @Test
    void ddim50StepsDeterministic() {
        SchedulerConfig c = SchedulerConfig.stableDiffusion().withTimestepSpacing(TimestepSpacing.TRAILING);
        DdimSampler ddim = new DdimSampler(c);
        check("DDIM 50 eta=0 (SD, trailing)", ddim.sample(vpEps(ddim.schedule()), new Rng(3), DType.F64, new int[]{N, 2}, 50, 0, null));
    }

    @Test
    void ddim50StepsLeadingAndEta1() {
        SchedulerConfig c = SchedulerConfig.defaults().withClipSample(false).withStepsOffset(1).withSetAlphaToOne(false);
        DdimSampler ddim = new DdimSampler(c);
        check("DDIM 50 eta=0 (linear, leading+1)", ddim.sample(vpEps(ddim.schedule()), new Rng(4), DType.F64, new int[]{N, 2}, 50, 0, null));
        check("DDIM 200 eta=1 (linear, leading+1)", ddim.sample(vpEps(ddim.schedule()), new Rng(5), DType.F64, new int[]{N, 2}, 200, 1, null));
    }

    @Test
    void edmEulerAndHeun() {
        double[] s40 = Sigmas.karras(40), s18 = Sigmas.karras(18);
        check("EDM Euler 40 steps", EdmSampler.euler(MIX::denoise, EdmSampler.initialNoise(new Rng(6), s40[0], DType.F64, N, 2), s40, null));
        check("EDM Heun 18 steps", EdmSampler.heun(MIX::denoise, EdmSampler.initialNoise(new Rng(7), s18[0], DType.F64, N, 2), s18, null));
        EdmSampler.Churn churn = new EdmSampler.Churn(5, 0.05, 50, 1.003);
        check("EDM Heun 40 steps, S_churn 5", EdmSampler.heun(MIX::denoise, EdmSampler.initialNoise(new Rng(8), s40[0], DType.F64, N, 2), s40, churn,
                new Rng(9), null));
    }

    @Test
    void edmSamplerOnAVpModel() {
        // A VP eps-model run through the EDM sampler (diffusers' EulerDiscreteScheduler with Karras sigmas, Heun).
        NoiseSchedule sd = NoiseSchedule.fromConfig(SchedulerConfig.stableDiffusion());
        Denoiser d = Denoisers.vpAsEdm(vpEps(sd), PredictionType.EPSILON, sd);
        double[] s = Sigmas.karras(sd, 25, 7);
        check("Heun 25 on VP model (Karras)", EdmSampler.heun(d, EdmSampler.initialNoise(new Rng(10), s[0], DType.F64, N, 2), s, null));
    }
}
