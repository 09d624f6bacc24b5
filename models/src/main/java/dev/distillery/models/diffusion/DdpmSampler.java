package dev.distillery.models.diffusion;

import dev.distillery.autograd.NoGrad;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * Ancestral DDPM sampling (Ho, Jain and Abbeel 2020, eq. (6)-(7)), step for step as diffusers'
 * {@code DDPMScheduler.step}.
 *
 * <p>With N inference steps the grid is the config's {@link TimestepSpacing} (N = T: every timestep); a step goes from
 * t to the next grid entry {@code t'} (after the last: {@code alpha_bar = 1}). With {@code a = alpha_bar_t},
 * {@code a' = alpha_bar_t'}, {@code alpha = a / a'}, {@code beta = 1 - alpha}:
 * <pre>
 *   x0     = model output converted to x0 (then clipped or thresholded as configured)
 *   mean   = sqrt(a') beta / (1 - a) * x0 + sqrt(alpha) (1 - a') / (1 - a) * x_t     (posterior q(x_t' | x_t, x0))
 *   var    = (1 - a') / (1 - a) * beta   ("fixed_small", clamped at 1e-20)  or  beta  ("fixed_large")
 *   x_t'   = mean + sqrt(var) z,  z ~ N(0, I), no noise on the step from t = 0
 * </pre>
 * {@code variance_type} "fixed_small_log" gives the same draw as "fixed_small"; the learned variances are not
 * supported (they need the model's extra output channels).
 */
@SuppressWarnings("try") // NoGrad scopes are try-with-resources whose variable is unused
public final class DdpmSampler {
    private final SchedulerConfig config;
    private final NoiseSchedule schedule;

    public DdpmSampler(SchedulerConfig config) {
        this(config, NoiseSchedule.fromConfig(config));
    }

    public DdpmSampler(SchedulerConfig config, NoiseSchedule schedule) {
        if (schedule.numTrainTimesteps() != config.numTrainTimesteps())
            throw new IllegalArgumentException("schedule has " + schedule.numTrainTimesteps() + " timesteps, config " + config.numTrainTimesteps());
        switch (config.varianceType()) {
            case "fixed_small", "fixed_small_log", "fixed_large" -> {}
            default -> throw new IllegalArgumentException("DDPM variance_type '" + config.varianceType() + "' is not supported (fixed_small, fixed_small_log, fixed_large)");
        }
        this.config = config;
        this.schedule = schedule;
    }

    public SchedulerConfig config() {
        return config;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    /** The N timesteps, descending ({@code DDPMScheduler.set_timesteps}). */
    public int[] timesteps(int numInferenceSteps) {
        return config.timestepSpacing().timesteps(config.numTrainTimesteps(), numInferenceSteps, config.stepsOffset());
    }

    /**
     * One ancestral step from {@code t} to {@code prevT} (-1: the end). {@code noise} is z (shaped like x), unused
     * and may be null when t is 0.
     */
    public StepOutput step(Tensor modelOutput, int t, int prevT, Tensor x, Tensor noise) {
        double a = schedule.alphaBar(t);
        double aPrev = prevT >= 0 ? schedule.alphaBar(prevT) : 1.0;
        double alpha = a / aPrev, beta = 1 - alpha;
        Tensor x0 = VpMath.processX0(Predictions.toX0(config.predictionType(), x, modelOutput, a), config);
        double cX0 = Math.sqrt(aPrev) * beta / (1 - a);
        double cXt = Math.sqrt(alpha) * (1 - aPrev) / (1 - a);
        Tensor mean = x0.mul(cX0).add(x.mul(cXt));
        if (t > 0) {
            double var = config.varianceType().equals("fixed_large") ? beta : Math.max((1 - aPrev) / (1 - a) * beta, 1e-20);
            if (noise == null) throw new IllegalArgumentException("DDPM step from t = " + t + " needs noise");
            mean = mean.add(noise.mul(Math.sqrt(var)));
        }
        return new StepOutput(mean, x0);
    }

    /** {@link #sample(Denoiser, Tensor, int, Rng, StepCallback)} from {@code xT = randn(rng)} of the given shape. */
    public Tensor sample(Denoiser model, Rng rng, DType dtype, int[] shape, int numInferenceSteps, StepCallback callback) {
        return sample(model, Tensor.randn(rng, dtype, shape), numInferenceSteps, rng, callback);
    }

    /** Runs N ancestral steps from {@code xT}, drawing the step noise from {@code rng}. Runs under {@link NoGrad}. */
    public Tensor sample(Denoiser model, Tensor xT, int numInferenceSteps, Rng rng, StepCallback callback) {
        if (rng == null) throw new IllegalArgumentException("DDPM sampling needs an Rng");
        StepCallback cb = callback == null ? StepCallback.NONE : callback;
        int[] ts = timesteps(numInferenceSteps);
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor x = xT;
            for (int i = 0; i < ts.length; i++) {
                int t = ts[i];
                int prev = i + 1 < ts.length ? ts[i + 1] : -1;
                Tensor out = model.predict(x, t);
                Tensor noise = t > 0 ? VpMath.randnLike(rng, x) : null;
                StepOutput s = step(out, t, prev, x, noise);
                x = s.prevSample();
                cb.onStep(i, ts.length, t, x, s.predOriginalSample());
            }
            return x;
        }
    }
}
