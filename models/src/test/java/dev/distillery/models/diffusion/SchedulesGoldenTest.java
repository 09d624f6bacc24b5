package dev.distillery.models.diffusion;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.testing.Golden;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schedules, timestep grids, Karras sigmas and deterministic sampler trajectories against
 * {@code golden/schedules.safetensors}, written by {@code gen_schedules.py} (diffusers' formulas in PyTorch 1.13).
 */
class SchedulesGoldenTest {
    private static final Map<String, Tensor> G = Golden.load("schedules.safetensors");

    private static double[] g(String name) {
        Tensor t = G.get(name);
        if (t == null) throw new IllegalStateException("fixture has no tensor '" + name + "'");
        return t.toDoubleArray();
    }

    /** max_i |a_i - b_i| / |b_i| over entries with b_i != 0, else absolute. */
    private static double maxRelErr(double[] a, double[] b) {
        assertEquals(b.length, a.length, "length");
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (b[i] == 0 ? 1 : Math.abs(b[i])));
        return m;
    }

    private static void checkSchedule(String name, NoiseSchedule s) {
        // Same formulas in float64: agreement to rounding.
        assertTrue(maxRelErr(s.betas(), g(name + ".betas")) < 1e-12, name + " betas vs float64 oracle: " + maxRelErr(s.betas(), g(name + ".betas")));
        assertTrue(maxRelErr(s.alphasCumprod(), g(name + ".abar")) < 1e-12, name + " alphas_cumprod vs float64 oracle");
        // diffusers' own float32 values: float32 rounding of the betas (6e-8) and of 1000 cumulative products.
        if (G.containsKey(name + ".betas32")) {
            double eb = maxRelErr(s.betas(), g(name + ".betas32")), ea = maxRelErr(s.alphasCumprod(), g(name + ".abar32"));
            System.out.printf("[schedules] %-18s max rel. difference to diffusers float32: betas %.2e, alphas_cumprod %.2e%n", name, eb, ea);
            assertTrue(eb < 1e-6, name + " betas vs diffusers float32: " + eb);
            assertTrue(ea < 2e-5, name + " alphas_cumprod vs diffusers float32: " + ea);
        }
    }

    @Test
    void betaSchedulesMatchDiffusers() {
        checkSchedule("linear", NoiseSchedule.linear(1000, 1e-4, 0.02));
        checkSchedule("scaled_linear", NoiseSchedule.scaledLinear(1000, 0.00085, 0.012));
        checkSchedule("squaredcos_cap_v2", NoiseSchedule.squaredcosCapV2(1000));
        checkSchedule("sigmoid", NoiseSchedule.sigmoid(1000, 1e-4, 0.02));
        NoiseSchedule z = NoiseSchedule.scaledLinear(1000, 0.00085, 0.012).rescaleZeroTerminalSnr();
        double[] abar = z.alphasCumprod(), ref = g("scaled_linear_zsnr.abar");
        for (int i = 0; i < 1000; i++) assertEquals(ref[i], abar[i], 1e-12 + 1e-10 * ref[i], "zero-SNR alpha_bar_" + i);
        assertEquals(0, abar[999], 1e-15);
        assertEquals(NoiseSchedule.scaledLinear(1000, 0.00085, 0.012).alphaBar(0), abar[0], 1e-15);
    }

    @Test
    void configBuildsTheSameSchedules() {
        SchedulerConfig sd = SchedulerConfig.stableDiffusion();
        assertEquals(NoiseSchedule.scaledLinear(1000, 0.00085, 0.012), NoiseSchedule.fromConfig(sd));
        assertEquals(NoiseSchedule.squaredcosCapV2(1000), NoiseSchedule.fromConfig(sd.withBetas(BetaSchedule.SQUAREDCOS_CAP_V2, 0, 0)));
        NoiseSchedule s = NoiseSchedule.fromConfig(sd);
        // Inversion-DPO spec, section 7.1: abar_0 = 1 - 0.00085, abar_999 in (0.0046, 0.0048), strictly decreasing.
        assertEquals(1 - 0.00085, s.alphaBar(0), 1e-12);
        assertTrue(s.alphaBar(999) > 0.0046 && s.alphaBar(999) < 0.0048);
        for (int t = 1; t < 1000; t++) assertTrue(s.alphaBar(t) < s.alphaBar(t - 1));
        double[] cos = NoiseSchedule.squaredcosCapV2(1000).betas();
        assertEquals(NoiseSchedule.MAX_BETA, cos[999], 0, "the cosine schedule's last beta is clipped at 0.999");
    }

    @Test
    void timestepGridsMatchDiffusers() {
        for (TimestepSpacing sp : TimestepSpacing.values())
            for (int n : new int[]{50, 3, 7, 10, 80, 999}) {
                long[] ref = G.get("timesteps." + sp.configName() + "." + n).toLongArray();
                int[] ts = sp.timesteps(1000, n, 1);
                long[] got = new long[ts.length];
                for (int i = 0; i < ts.length; i++) got[i] = ts[i];
                assertArrayEquals(ref, got, sp + " " + n + " steps");
            }
        // The grids quoted in the brief / Inversion-DPO spec.
        int[] lead = TimestepSpacing.LEADING.timesteps(1000, 50, 1);
        assertEquals(981, lead[0]);
        assertEquals(1, lead[49]);
        assertEquals(999, TimestepSpacing.TRAILING.timesteps(1000, 50, 1)[0]);
        assertEquals(19, TimestepSpacing.TRAILING.timesteps(1000, 50, 1)[49]);
        assertEquals(948, TimestepSpacing.LEADING.timesteps(1000, 80, 0)[0]);
        assertThrows(IllegalArgumentException.class, () -> TimestepSpacing.LEADING.timesteps(1000, 1000, 1), "timestep 1000 is out of range");
    }

    @Test
    void karrasSigmasMatchKDiffusion() {
        for (int n : new int[]{18, 40}) {
            double[] s = Sigmas.karras(n, 0.002, 80, 7);
            assertEquals(n + 1, s.length);
            assertTrue(maxRelErr(s, g("karras." + n)) < 1e-12, "karras " + n);
            assertEquals(80, s[0], 1e-12);
            assertEquals(0.002, s[n - 1], 1e-15);
            assertEquals(0, s[n]);
        }
        double[] asc = Sigmas.karrasAscending(1000, 0.002, 80, 7);
        assertEquals(0.002, asc[0], 1e-15);
        assertEquals(80, asc[999], 1e-12);
        for (int i = 1; i < 1000; i++) assertTrue(asc[i] > asc[i - 1]);
    }

    @Test
    void sigmaAndAlphaBarViewsAgree() {
        NoiseSchedule s = NoiseSchedule.fromConfig(SchedulerConfig.stableDiffusion());
        for (int t : new int[]{0, 1, 250, 500, 998, 999}) {
            double sigma = s.sigma(t);
            assertEquals(Math.sqrt((1 - s.alphaBar(t)) / s.alphaBar(t)), sigma, 1e-15);
            assertEquals(s.alphaBar(t), NoiseSchedule.alphaBarFromSigma(sigma), 1e-15);
            assertEquals(t, s.timestepForSigma(sigma), 1e-9, "timestep of sigma_" + t);
        }
        double mid = Math.exp(0.5 * (Math.log(s.sigma(400)) + Math.log(s.sigma(401))));
        assertEquals(400.5, s.timestepForSigma(mid), 1e-9);
        assertEquals(0, s.timestepForSigma(1e-6));
        assertEquals(999, s.timestepForSigma(1e6));
    }

    // ------------------------------------------------------------------------------------------ trajectories

    /** The generator's VP toy model: 0.9 tanh(0.8 x + 0.002 t - 0.5) + 0.05 x. */
    static Tensor vpToy(Tensor x, double t) {
        return x.mul(0.8).add(0.002 * t - 0.5).tanh().mul(0.9).add(x.mul(0.05));
    }

    /** The generator's EDM toy denoiser: 0.8 x / (1 + s^2) + 0.3 tanh(x) s / (1 + s). */
    static Tensor edmToy(Tensor x, double s) {
        return x.mul(0.8 / (1 + s * s)).add(x.tanh().mul(0.3 * s / (1 + s)));
    }

    private static Tensor fix(String name) {
        return G.get(name);
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        assertEquals(e.length, a.length);
        for (int i = 0; i < e.length; i++) assertEquals(e[i], a[i], tol * (1 + Math.abs(e[i])), what + " [" + i + "]");
    }

    @Test
    void ddimTrajectoriesMatchTheOracle() {
        Tensor xT = fix("ddim.xT");
        assertEquals(DType.F64, xT.dtype());
        SchedulerConfig sd = SchedulerConfig.stableDiffusion();
        assertClose(fix("ddim.eps_leading10"), new DdimSampler(sd).sample(SchedulesGoldenTest::vpToy, xT, 10, 0, null, null), 1e-10, "eps leading 10");
        SchedulerConfig v = sd.withPredictionType(PredictionType.V_PREDICTION).withTimestepSpacing(TimestepSpacing.TRAILING).withStepsOffset(0)
                .withSetAlphaToOne(true);
        assertClose(fix("ddim.v_trailing7"), new DdimSampler(v).sample(SchedulesGoldenTest::vpToy, xT, 7, 0, null, null), 1e-10, "v trailing 7");
        SchedulerConfig x0 = SchedulerConfig.defaults().withClipSample(false).withSetAlphaToOne(false).withPredictionType(PredictionType.SAMPLE)
                .withTimestepSpacing(TimestepSpacing.LINSPACE);
        assertClose(fix("ddim.sample_linspace12"), new DdimSampler(x0).sample(SchedulesGoldenTest::vpToy, xT, 12, 0, null, null), 1e-10, "sample linspace 12");
    }

    /** Runs a sampler's step() over its grid with the fixture's noise draws. */
    private interface Stepper {
        StepOutput step(Tensor out, int t, int prev, Tensor x, Tensor noise);
    }

    private static Tensor runWithNoise(int[] ts, int[] prevs, Tensor x, Tensor noises, Denoiser model, Stepper stepper) {
        for (int i = 0; i < ts.length; i++) x = stepper.step(model.predict(x, ts[i]), ts[i], prevs[i], x, noises.select(0, i)).prevSample();
        return x;
    }

    @Test
    void ddpmAndStochasticDdimStepsMatchTheOracle() {
        Tensor xT = fix("ddim.xT"), noise = fix("ddpm.noise");
        for (PredictionType type : new PredictionType[]{PredictionType.EPSILON, PredictionType.V_PREDICTION}) {
            DdpmSampler ddpm = new DdpmSampler(SchedulerConfig.defaults().withClipSample(false).withPredictionType(type));
            int[] ts = ddpm.timesteps(10), prevs = new int[10];
            for (int i = 0; i < 10; i++) prevs[i] = i + 1 < 10 ? ts[i + 1] : -1;
            Tensor got = runWithNoise(ts, prevs, xT, noise, SchedulesGoldenTest::vpToy, ddpm::step);
            assertClose(fix(type == PredictionType.EPSILON ? "ddpm.eps10" : "ddpm.v10"), got, 1e-10, "DDPM 10 steps " + type);
        }
        DdimSampler ddim = new DdimSampler(SchedulerConfig.stableDiffusion());
        int[] ts = ddim.timesteps(10), prevs = new int[10];
        for (int i = 0; i < 10; i++) prevs[i] = ddim.previousTimestep(ts[i], 10);
        Tensor got = runWithNoise(ts, prevs, xT, noise, SchedulesGoldenTest::vpToy, (o, t, p, x, n) -> ddim.step(o, t, p, x, 0.7, n));
        assertClose(fix("ddim.eta07_10"), got, 1e-10, "DDIM eta 0.7");
    }

    @Test
    void ddimInversionMatchesDiffusersInverseScheduler() {
        Tensor x0 = fix("inv.x0");
        SchedulerConfig sd = SchedulerConfig.stableDiffusion();
        assertClose(fix("inv.leading10"), new DdimSampler(sd).invert(SchedulesGoldenTest::vpToy, x0, 10, false, null).latent(), 1e-10, "leading 10");
        SchedulerConfig tr = sd.withTimestepSpacing(TimestepSpacing.TRAILING).withStepsOffset(0).withSetAlphaToOne(true);
        assertClose(fix("inv.trailing8"), new DdimSampler(tr).invert(SchedulesGoldenTest::vpToy, x0, 8, false, null).latent(), 1e-10, "trailing 8");
    }

    @Test
    void edmEulerAndHeunMatchTheOracle() {
        double[] sig = Sigmas.karras(18);
        Tensor x = fix("edm.z").mul(sig[0]);
        int[] calls = new int[1];
        Denoiser d = (xx, s) -> {
            calls[0]++;
            return edmToy(xx, s);
        };
        assertClose(fix("edm.euler18"), EdmSampler.euler(d, x, sig, null), 1e-10, "euler 18");
        assertEquals(18, calls[0]);
        calls[0] = 0;
        assertClose(fix("edm.heun18"), EdmSampler.heun(d, x, sig, null), 1e-10, "heun 18");
        assertEquals(35, calls[0], "Heun: 2N - 1 denoiser calls");
    }
}
