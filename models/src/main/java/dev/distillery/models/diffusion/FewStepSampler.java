package dev.distillery.models.diffusion;

import dev.distillery.autograd.NoGrad;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.function.UnaryOperator;

/**
 * Sampling from distilled one- and few-step generators.
 *
 * <p>One step: {@code x = G(z)} with z ~ N(0, I) ({@link #oneStep}); a DMD2/Diff-Instruct EDM generator is
 * {@code G(z) = D(sigma_init z; sigma_init)}, i.e. {@link #edm} with a single sigma.
 *
 * <p>Few steps with re-noising (consistency-model multistep sampling, Song et al. 2023 Algorithm 1; DMD2's 4-step
 * schedule [999, 749, 499, 249]; diffusers' {@code LCMScheduler}): predict x0 at the current level, then draw fresh
 * noise and jump to the next level:
 * <pre>
 *   VP:  x0 = to_x0(model(x, t_i));   x = sqrt(a_{t_{i+1}}) x0 + sqrt(1 - a_{t_{i+1}}) z
 *   EDM: x0 = D(x; sigma_i);          x = x0 + sigma_{i+1} z
 * </pre>
 * The result is the last x0 (no noise added after the final step).
 */
@SuppressWarnings("try") // NoGrad scopes are try-with-resources whose variable is unused
public final class FewStepSampler {
    private FewStepSampler() {}

    /** {@code G(z)} with z ~ N(0, I) of the given shape drawn from {@code rng}, under {@link NoGrad}. */
    public static Tensor oneStep(UnaryOperator<Tensor> generator, Rng rng, DType dtype, int... shape) {
        try (NoGrad ignored = NoGrad.enter()) {
            return generator.apply(Tensor.randn(rng, dtype, shape));
        }
    }

    /**
     * Few-step VP sampling through the given descending timesteps, starting from {@code xInit} (unit noise, for a
     * first timestep near T), with re-noising from {@code rng} between steps.
     */
    public static Tensor vp(Denoiser model, PredictionType type, NoiseSchedule schedule, int[] timesteps, Tensor xInit, Rng rng, StepCallback callback) {
        if (timesteps.length < 1) throw new IllegalArgumentException("need at least one timestep");
        if (timesteps.length > 1 && rng == null) throw new IllegalArgumentException("re-noising between " + timesteps.length + " steps needs an Rng");
        StepCallback cb = callback == null ? StepCallback.NONE : callback;
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor x = xInit, x0 = null;
            for (int i = 0; i < timesteps.length; i++) {
                int t = timesteps[i];
                double a = schedule.alphaBar(t);
                x0 = Predictions.toX0(type, x, model.predict(x, t), a);
                if (i + 1 < timesteps.length) {
                    double aNext = schedule.alphaBar(timesteps[i + 1]);
                    x = x0.mul(Math.sqrt(aNext)).add(VpMath.randnLike(rng, x0).mul(Math.sqrt(1 - aNext)));
                } else x = x0;
                cb.onStep(i, timesteps.length, t, x, x0);
            }
            return x0;
        }
    }

    /**
     * Few-step EDM sampling through the given (descending, positive) sigmas, starting from {@code xInit} at sigmas[0]
     * (e.g. {@code sigma_0 z}), with re-noising from {@code rng} between steps. A trailing 0 is ignored.
     */
    public static Tensor edm(Denoiser denoiser, double[] sigmas, Tensor xInit, Rng rng, StepCallback callback) {
        int n = sigmas.length;
        if (n > 0 && sigmas[n - 1] == 0) n--;
        if (n < 1) throw new IllegalArgumentException("need at least one positive sigma");
        if (n > 1 && rng == null) throw new IllegalArgumentException("re-noising between " + n + " steps needs an Rng");
        StepCallback cb = callback == null ? StepCallback.NONE : callback;
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor x = xInit, x0 = null;
            for (int i = 0; i < n; i++) {
                x0 = denoiser.predict(x, sigmas[i]);
                x = i + 1 < n ? x0.add(VpMath.randnLike(rng, x0).mul(sigmas[i + 1])) : x0;
                cb.onStep(i, n, sigmas[i], x, x0);
            }
            return x0;
        }
    }
}
