package dev.distillery.models.diffusion;

import dev.distillery.autograd.NoGrad;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * Euler and Heun samplers for the probability-flow ODE {@code dx/dsigma = (x - D(x; sigma)) / sigma} of the VE/EDM
 * form {@code x = x0 + sigma n} (Karras et al. 2022, "Elucidating the design space...", Algorithm 1 with
 * sigma(t) = t, s(t) = 1, and the optional stochastic churn of Algorithm 2). The denoiser returns x0
 * ({@link Denoiser}, EDM convention); {@code sigmas} is a descending grid ending in 0, usually
 * {@link Sigmas#karras}. The sample starts at {@code x = sigma_0 n}.
 *
 * <p>Step i, from sigma_i to sigma_{i+1}:
 * <pre>
 *   gamma  = min(S_churn / N, sqrt(2) - 1) if S_tmin &lt;= sigma_i &lt;= S_tmax else 0       (0 with churn off)
 *   s_hat  = sigma_i (1 + gamma);   x_hat = x_i + sqrt(s_hat^2 - sigma_i^2) S_noise z,  z ~ N(0, I)
 *   d      = (x_hat - D(x_hat; s_hat)) / s_hat
 *   x_{i+1} = x_hat + (sigma_{i+1} - s_hat) d                                           (Euler)
 *   Heun, if sigma_{i+1} != 0:  d' = (x_{i+1} - D(x_{i+1}; sigma_{i+1})) / sigma_{i+1},
 *                               x_{i+1} = x_hat + (sigma_{i+1} - s_hat) (d + d') / 2
 * </pre>
 * N steps cost N denoiser calls (Euler) or 2N - 1 (Heun: the last step to sigma = 0 is an Euler step).
 */
@SuppressWarnings("try") // NoGrad scopes are try-with-resources whose variable is unused
public final class EdmSampler {
    private EdmSampler() {}

    /**
     * Algorithm 2's stochasticity. EDM's ImageNet-64 settings are (80, 0.05, 50, 1.003).
     *
     * @param sChurn total churn S_churn (0 = deterministic); per step gamma = min(S_churn / N, sqrt(2) - 1)
     * @param sTmin  churn only where sigma_i &gt;= S_tmin
     * @param sTmax  churn only where sigma_i &lt;= S_tmax
     * @param sNoise scale S_noise of the added noise (slightly above 1 offsets the denoiser's detail loss)
     */
    public record Churn(double sChurn, double sTmin, double sTmax, double sNoise) {
        /** Deterministic sampling. */
        public static final Churn OFF = new Churn(0, 0, Double.POSITIVE_INFINITY, 1);

        public Churn {
            if (sChurn < 0) throw new IllegalArgumentException("S_churn must be >= 0, got " + sChurn);
        }

        public boolean enabled() {
            return sChurn > 0;
        }
    }

    /** The initial sample {@code sigma_0 n}, n ~ N(0, I). */
    public static Tensor initialNoise(Rng rng, double sigma0, DType dtype, int... shape) {
        return Tensor.randn(rng, dtype, shape).mul(sigma0);
    }

    /** Deterministic Euler from {@code xInit} (at sigmas[0]). */
    public static Tensor euler(Denoiser denoiser, Tensor xInit, double[] sigmas, StepCallback callback) {
        return run(denoiser, xInit, sigmas, false, Churn.OFF, null, callback);
    }

    /** Deterministic Heun (EDM Algorithm 1) from {@code xInit} (at sigmas[0]). */
    public static Tensor heun(Denoiser denoiser, Tensor xInit, double[] sigmas, StepCallback callback) {
        return run(denoiser, xInit, sigmas, true, Churn.OFF, null, callback);
    }

    /** Euler with churn (noise from {@code rng}, needed only when churn is enabled). */
    public static Tensor euler(Denoiser denoiser, Tensor xInit, double[] sigmas, Churn churn, Rng rng, StepCallback callback) {
        return run(denoiser, xInit, sigmas, false, churn, rng, callback);
    }

    /** Heun with churn (EDM Algorithm 2). */
    public static Tensor heun(Denoiser denoiser, Tensor xInit, double[] sigmas, Churn churn, Rng rng, StepCallback callback) {
        return run(denoiser, xInit, sigmas, true, churn, rng, callback);
    }

    private static Tensor run(Denoiser d, Tensor xInit, double[] sigmas, boolean heun, Churn churn, Rng rng, StepCallback callback) {
        if (sigmas.length < 2) throw new IllegalArgumentException("need at least two sigmas (one step), got " + sigmas.length);
        for (int i = 0; i + 1 < sigmas.length; i++)
            if (!(sigmas[i] > 0 && sigmas[i + 1] >= 0 && sigmas[i + 1] < sigmas[i]))
                throw new IllegalArgumentException("sigmas must be positive and strictly decreasing to a final value >= 0; sigma_" + i + " = "
                        + sigmas[i] + ", sigma_" + (i + 1) + " = " + sigmas[i + 1]);
        Churn c = churn == null ? Churn.OFF : churn;
        if (c.enabled() && rng == null) throw new IllegalArgumentException("S_churn > 0 needs an Rng");
        StepCallback cb = callback == null ? StepCallback.NONE : callback;
        int n = sigmas.length - 1;
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor x = xInit;
            for (int i = 0; i < n; i++) {
                double s = sigmas[i], sNext = sigmas[i + 1];
                double gamma = c.enabled() && s >= c.sTmin() && s <= c.sTmax() ? Math.min(c.sChurn() / n, Math.sqrt(2) - 1) : 0;
                double sHat = s * (1 + gamma);
                Tensor xHat = x;
                if (gamma > 0) xHat = x.add(VpMath.randnLike(rng, x).mul(c.sNoise() * Math.sqrt(sHat * sHat - s * s)));
                Tensor den = d.predict(xHat, sHat);
                Tensor dir = xHat.sub(den).div(sHat);
                Tensor xNext = xHat.add(dir.mul(sNext - sHat));
                if (heun && sNext != 0) {
                    Tensor den2 = d.predict(xNext, sNext);
                    Tensor dir2 = xNext.sub(den2).div(sNext);
                    xNext = xHat.add(dir.add(dir2).mul(0.5 * (sNext - sHat)));
                }
                x = xNext;
                cb.onStep(i, n, sHat, x, den);
            }
            return x;
        }
    }
}
