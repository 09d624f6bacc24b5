package dev.distillery.models.diffusion;

import java.util.Arrays;

/**
 * A discrete variance-preserving (DDPM) noise schedule: betas {@code beta_0 .. beta_{T-1}} and
 * {@code alpha_bar_t = prod_{i<=t} (1 - beta_i)}, so that {@code x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps}.
 *
 * <p>The beta formulas are diffusers' ({@code DDPMScheduler.__init__}, {@code DDIMScheduler.__init__},
 * {@code betas_for_alpha_bar}, {@code rescale_zero_terminal_snr}). diffusers evaluates them in float32; this class
 * evaluates the same formulas in float64. Measured against diffusers' float32 values (PyTorch fixtures, T = 1000): betas
 * within 2.4e-7 relative, alphas_cumprod within 8.2e-7 (linear, scaled_linear, sigmoid) and 1.3e-5 (cosine, at its
 * tiny tail), the float32 rounding diffusers accumulates over 1000 products; against the same formulas in float64
 * within 1e-12.
 *
 * <p>The equivalent variance-exploding view (Karras et al. 2022, section 2; Song et al. 2021) divides by
 * {@code sqrt(alpha_bar)}: {@code x_t / sqrt(alpha_bar_t) = x0 + sigma_t eps} with
 * {@code sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t)}, and conversely {@code alpha_bar = 1 / (1 + sigma^2)}
 * ({@link #sigmaFromAlphaBar}, {@link #alphaBarFromSigma}).
 */
public final class NoiseSchedule {
    /** diffusers' {@code max_beta} for {@code betas_for_alpha_bar}. */
    public static final double MAX_BETA = 0.999;

    private final double[] betas;
    private final double[] alphasCumprod;

    private NoiseSchedule(double[] betas) {
        if (betas.length < 1) throw new IllegalArgumentException("a noise schedule needs at least one beta");
        for (int i = 0; i < betas.length; i++)
            if (!(betas[i] >= 0 && betas[i] <= 1))
                throw new IllegalArgumentException("beta_" + i + " = " + betas[i] + " is not in [0, 1]");
        this.betas = betas;
        this.alphasCumprod = new double[betas.length];
        double p = 1;
        for (int i = 0; i < betas.length; i++) {
            p *= 1 - betas[i];
            alphasCumprod[i] = p;
        }
    }

    /** A schedule from explicit betas (diffusers' {@code trained_betas}). */
    public static NoiseSchedule fromBetas(double[] betas) {
        return new NoiseSchedule(betas.clone());
    }

    /** {@code beta_i = start + (end - start) i / (T - 1)} (diffusers "linear"; DDPM uses 1e-4 .. 0.02). */
    public static NoiseSchedule linear(int numTrainTimesteps, double betaStart, double betaEnd) {
        return new NoiseSchedule(linspace(betaStart, betaEnd, numTrainTimesteps));
    }

    /**
     * {@code beta_i = (sqrt(start) + (sqrt(end) - sqrt(start)) i / (T - 1))^2} (diffusers "scaled_linear"; Stable
     * Diffusion uses 0.00085 .. 0.012).
     */
    public static NoiseSchedule scaledLinear(int numTrainTimesteps, double betaStart, double betaEnd) {
        double[] b = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps);
        for (int i = 0; i < b.length; i++) b[i] *= b[i];
        return new NoiseSchedule(b);
    }

    /**
     * Nichol and Dhariwal 2021 cosine schedule (diffusers "squaredcos_cap_v2", {@code betas_for_alpha_bar} with the
     * cosine transform): {@code f(t) = cos((t + 0.008) / 1.008 * pi / 2)^2},
     * {@code beta_i = min(1 - f((i + 1) / T) / f(i / T), 0.999)}.
     */
    public static NoiseSchedule squaredcosCapV2(int numTrainTimesteps) {
        double[] b = new double[numTrainTimesteps];
        for (int i = 0; i < numTrainTimesteps; i++) {
            double t1 = (double) i / numTrainTimesteps, t2 = (double) (i + 1) / numTrainTimesteps;
            b[i] = Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), MAX_BETA);
        }
        return new NoiseSchedule(b);
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** diffusers "sigmoid": {@code sigmoid(linspace(-6, 6, T)) * (end - start) + start}. */
    public static NoiseSchedule sigmoid(int numTrainTimesteps, double betaStart, double betaEnd) {
        double[] b = linspace(-6, 6, numTrainTimesteps);
        for (int i = 0; i < b.length; i++) b[i] = 1 / (1 + Math.exp(-b[i])) * (betaEnd - betaStart) + betaStart;
        return new NoiseSchedule(b);
    }

    /** The schedule a {@code scheduler_config.json} describes (trained_betas win over beta_schedule; zero-SNR rescale last). */
    public static NoiseSchedule fromConfig(SchedulerConfig c) {
        NoiseSchedule s;
        if (c.trainedBetas() != null) {
            if (c.trainedBetas().length != c.numTrainTimesteps())
                throw new IllegalArgumentException("trained_betas has " + c.trainedBetas().length + " entries, num_train_timesteps is " + c.numTrainTimesteps());
            s = fromBetas(c.trainedBetas());
        } else {
            s = switch (c.betaSchedule()) {
                case LINEAR -> linear(c.numTrainTimesteps(), c.betaStart(), c.betaEnd());
                case SCALED_LINEAR -> scaledLinear(c.numTrainTimesteps(), c.betaStart(), c.betaEnd());
                case SQUAREDCOS_CAP_V2 -> squaredcosCapV2(c.numTrainTimesteps());
                case SIGMOID -> sigmoid(c.numTrainTimesteps(), c.betaStart(), c.betaEnd());
            };
        }
        return c.rescaleBetasZeroSnr() ? s.rescaleZeroTerminalSnr() : s;
    }

    /**
     * Lin et al. 2023, Algorithm 1 (diffusers {@code rescale_zero_terminal_snr}): shifts and scales
     * {@code sqrt(alpha_bar)} so that the last step has alpha_bar = 0 (zero terminal SNR) while the first is
     * unchanged. The result's last sigma is infinite: use it with v-prediction (an epsilon model cannot give x0 there).
     */
    public NoiseSchedule rescaleZeroTerminalSnr() {
        int n = betas.length;
        double[] s = new double[n];
        for (int i = 0; i < n; i++) s[i] = Math.sqrt(alphasCumprod[i]);
        double s0 = s[0], sT = s[n - 1];
        double[] abar = new double[n];
        for (int i = 0; i < n; i++) {
            double v = (s[i] - sT) * (s0 / (s0 - sT));
            abar[i] = v * v;
        }
        double[] b = new double[n];
        b[0] = 1 - abar[0];
        for (int i = 1; i < n; i++) b[i] = 1 - abar[i] / abar[i - 1];
        return new NoiseSchedule(b);
    }

    /** {@code numpy.linspace(start, end, n)} (the last value is {@code end} exactly). */
    static double[] linspace(double start, double end, int n) {
        if (n < 1) throw new IllegalArgumentException("need at least one timestep, got " + n);
        double[] out = new double[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        double step = (end - start) / (n - 1);
        for (int i = 0; i < n; i++) out[i] = start + i * step;
        out[n - 1] = end;
        return out;
    }

    // ------------------------------------------------------------------------------------------ accessors

    /** T, the number of training timesteps. */
    public int numTrainTimesteps() {
        return betas.length;
    }

    public double[] betas() {
        return betas.clone();
    }

    /** alpha_bar_0 .. alpha_bar_{T-1}. */
    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** alpha_bar_t for {@code t} in [0, T). */
    public double alphaBar(int t) {
        if (t < 0 || t >= betas.length) throw new IndexOutOfBoundsException("timestep " + t + " outside [0, " + betas.length + ")");
        return alphasCumprod[t];
    }

    /** beta_t. */
    public double beta(int t) {
        if (t < 0 || t >= betas.length) throw new IndexOutOfBoundsException("timestep " + t + " outside [0, " + betas.length + ")");
        return betas[t];
    }

    /** {@code sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t)}, the VE/EDM noise level of timestep t. */
    public double sigma(int t) {
        return sigmaFromAlphaBar(alphaBar(t));
    }

    /** All {@link #sigma(int)} values, ascending in t. */
    public double[] sigmas() {
        double[] s = new double[betas.length];
        for (int t = 0; t < s.length; t++) s[t] = sigmaFromAlphaBar(alphasCumprod[t]);
        return s;
    }

    /** Smallest and largest sigma of the schedule (sigma_0 and sigma_{T-1}). */
    public double sigmaMin() {
        return sigma(0);
    }

    public double sigmaMax() {
        return sigma(betas.length - 1);
    }

    /**
     * The fractional timestep whose noise level is {@code sigma}: linear interpolation in log-sigma between the two
     * neighbouring training timesteps, clamped to [0, T-1] (k-diffusion {@code DiscreteSchedule.sigma_to_t},
     * diffusers {@code EulerDiscreteScheduler._sigma_to_t}).
     */
    public double timestepForSigma(double sigma) {
        int n = betas.length;
        if (n == 1) return 0;
        double ls = Math.log(Math.max(sigma, 1e-10));
        double[] logSigmas = new double[n];
        for (int t = 0; t < n; t++) logSigmas[t] = Math.log(sigmaFromAlphaBar(alphasCumprod[t]));
        // low = last index with logSigmas[low] <= ls (0 if none), at most n - 2
        int low = 0;
        int lo = 0, hi = n - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (logSigmas[mid] <= ls) {
                low = mid;
                lo = mid + 1;
            } else hi = mid - 1;
        }
        low = Math.min(low, n - 2);
        double l = logSigmas[low], h = logSigmas[low + 1];
        double w = Math.clamp((l - ls) / (l - h), 0.0, 1.0);
        return (1 - w) * low + w * (low + 1);
    }

    /**
     * The noise level at a possibly fractional timestep, the inverse of {@link #timestepForSigma}: with
     * {@code lo = floor(t)}, {@code f = t - lo}, {@code ln sigma(t) = (1 - f) ln sigma_lo + f ln sigma_{lo+1}}
     * (k-diffusion {@code DiscreteSchedule.t_to_sigma}); {@code t} is clamped to [0, T-1], and an integer {@code t}
     * gives {@link #sigma(int)} exactly.
     */
    public double sigmaAtTimestep(double t) {
        int n = betas.length;
        double tc = Math.clamp(t, 0, n - 1);
        int lo = (int) Math.floor(tc);
        if (lo == tc || lo + 1 >= n) return sigma(lo);
        double f = tc - lo;
        return Math.exp((1 - f) * Math.log(sigma(lo)) + f * Math.log(sigma(lo + 1)));
    }

    /** {@code sigma = sqrt((1 - a) / a)}. */
    public static double sigmaFromAlphaBar(double alphaBar) {
        return Math.sqrt((1 - alphaBar) / alphaBar);
    }

    /** {@code a = 1 / (1 + sigma^2)}. */
    public static double alphaBarFromSigma(double sigma) {
        return 1 / (1 + sigma * sigma);
    }

    @Override
    public String toString() {
        return "NoiseSchedule(T=" + betas.length + ", beta " + (float) betas[0] + ".." + (float) betas[betas.length - 1]
                + ", alpha_bar " + (float) alphasCumprod[0] + ".." + (float) alphasCumprod[alphasCumprod.length - 1] + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoiseSchedule s && Arrays.equals(betas, s.betas);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(betas);
    }
}
