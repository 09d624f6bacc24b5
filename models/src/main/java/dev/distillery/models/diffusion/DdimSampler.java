package dev.distillery.models.diffusion;

import dev.distillery.autograd.NoGrad;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * DDIM sampling and exact-map DDIM inversion (Song, Meng and Ermon 2021, "Denoising diffusion implicit models",
 * eq. (12) and (16)), step for step as diffusers' {@code DDIMScheduler} and {@code DDIMInverseScheduler}.
 *
 * <h2>Timesteps</h2>
 * {@link #timesteps(int)} picks N timesteps with the config's {@link TimestepSpacing} and {@code steps_offset}. As in
 * diffusers, the level a step moves to is {@code prev = t - T / N} (integer division) whatever the spacing, not
 * necessarily the next grid entry; below 0 it is the "final" level {@code alpha_bar = 1} if {@code set_alpha_to_one}
 * else {@code alpha_bar_0}.
 *
 * <h2>Update (one step from t to prev)</h2>
 * With {@code a = alpha_bar_t}, {@code a' = alpha_bar_prev}, model output converted to x0 and eps
 * ({@link Predictions}; x0 then clipped or thresholded as the config says, eps not re-derived):
 * <pre>
 *   sigma_t = eta * sqrt((1 - a') / (1 - a)) * sqrt(1 - a / a')
 *   x_prev  = sqrt(a') x0 + sqrt(1 - a' - sigma_t^2) eps + sigma_t z,    z ~ N(0, I)
 * </pre>
 * eta = 0 is the deterministic DDIM map; eta = 1 is DDPM's posterior variance ("fixed_small").
 *
 * <h2>Inversion</h2>
 * {@link #invert} runs the eta = 0 map backwards, from x0 towards noise: the sampler's steps in reverse order, each
 * from level {@code s = t - T / N} (or the final level) up to level t, with the model evaluated at the target timestep
 * t on the current latent z (diffusers {@code DDIMInverseScheduler}; the Inversion-DPO and null-text-inversion
 * convention):
 * <pre>
 *   e = model(z, t);  x0 = (z - sqrt(1 - a_s) e) / sqrt(a_s);  z' = sqrt(a_t) x0 + sqrt(1 - a_t) e
 * </pre>
 * Each inversion step is the exact inverse of the matching sampler step only when the model's eps does not depend on
 * x; otherwise it uses eps at the current point instead of at the (unknown) end point, a first-order approximation
 * whose error shrinks with the step size. With {@code set_alpha_to_one = false} the first inversion step
 * ({@code alpha_bar_0 -> alpha_bar_{t_0}} with leading/offset 0 grids, t_0 = 0) is an identity.
 */
@SuppressWarnings("try") // NoGrad scopes are try-with-resources whose variable is unused
public final class DdimSampler {
    private final SchedulerConfig config;
    private final NoiseSchedule schedule;

    /** A sampler with the schedule the config describes. */
    public DdimSampler(SchedulerConfig config) {
        this(config, NoiseSchedule.fromConfig(config));
    }

    /** A sampler with an explicit schedule (its length must be the config's num_train_timesteps). */
    public DdimSampler(SchedulerConfig config, NoiseSchedule schedule) {
        if (schedule.numTrainTimesteps() != config.numTrainTimesteps())
            throw new IllegalArgumentException("schedule has " + schedule.numTrainTimesteps() + " timesteps, config " + config.numTrainTimesteps());
        this.config = config;
        this.schedule = schedule;
    }

    public SchedulerConfig config() {
        return config;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    /** The N sampling timesteps, descending ({@code DDIMScheduler.set_timesteps}). */
    public int[] timesteps(int numInferenceSteps) {
        return config.timestepSpacing().timesteps(config.numTrainTimesteps(), numInferenceSteps, config.stepsOffset());
    }

    /** {@code t - T / N}: the level a step from t moves to (negative: the final level). */
    public int previousTimestep(int t, int numInferenceSteps) {
        return t - config.numTrainTimesteps() / numInferenceSteps;
    }

    /** alpha_bar after the last step: 1 with {@code set_alpha_to_one}, else alpha_bar_0. */
    public double finalAlphaCumprod() {
        return config.setAlphaToOne() ? 1.0 : schedule.alphaBar(0);
    }

    /** alpha_bar_t, or {@link #finalAlphaCumprod()} for negative t. */
    public double alphaBarOrFinal(int t) {
        return t >= 0 ? schedule.alphaBar(t) : finalAlphaCumprod();
    }

    /**
     * One DDIM update from timestep {@code t} to {@code prevT} (see the class comment).
     *
     * @param modelOutput the model's output at (x, t), of the config's prediction type
     * @param noise       z for eta > 0 (shaped like x); ignored and may be null when eta is 0
     */
    public StepOutput step(Tensor modelOutput, int t, int prevT, Tensor x, double eta, Tensor noise) {
        double a = schedule.alphaBar(t);
        double aPrev = alphaBarOrFinal(prevT);
        Tensor x0 = Predictions.toX0(config.predictionType(), x, modelOutput, a);
        Tensor eps = Predictions.toEps(config.predictionType(), x, modelOutput, a);
        x0 = VpMath.processX0(x0, config);
        double std = eta == 0 ? 0 : eta * Math.sqrt((1 - aPrev) / (1 - a) * (1 - a / aPrev));
        Tensor prev = x0.mul(Math.sqrt(aPrev)).add(eps.mul(Math.sqrt(Math.max(0, 1 - aPrev - std * std))));
        if (std > 0) {
            if (noise == null) throw new IllegalArgumentException("DDIM step with eta " + eta + " needs noise");
            prev = prev.add(noise.mul(std));
        }
        return new StepOutput(prev, x0);
    }

    /** {@link #sample(Denoiser, Tensor, int, double, Rng, StepCallback)} from {@code xT = randn(rng)} of the given shape. */
    public Tensor sample(Denoiser model, Rng rng, DType dtype, int[] shape, int numInferenceSteps, double eta, StepCallback callback) {
        return sample(model, Tensor.randn(rng, dtype, shape), numInferenceSteps, eta, rng, callback);
    }

    /**
     * Runs N DDIM steps from {@code xT} (the sample at the first grid timestep; diffusers starts from unit-variance
     * noise). Noise for eta > 0 comes from {@code rng} (may be null when eta is 0). Runs under {@link NoGrad}.
     */
    public Tensor sample(Denoiser model, Tensor xT, int numInferenceSteps, double eta, Rng rng, StepCallback callback) {
        if (eta < 0) throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        if (eta > 0 && rng == null) throw new IllegalArgumentException("DDIM with eta " + eta + " needs an Rng");
        StepCallback cb = callback == null ? StepCallback.NONE : callback;
        int[] ts = timesteps(numInferenceSteps);
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor x = xT;
            for (int i = 0; i < ts.length; i++) {
                int t = ts[i];
                Tensor out = model.predict(x, t);
                Tensor noise = eta > 0 ? VpMath.randnLike(rng, x) : null;
                StepOutput s = step(out, t, previousTimestep(t, numInferenceSteps), x, eta, noise);
                x = s.prevSample();
                cb.onStep(i, ts.length, t, x, s.predOriginalSample());
            }
            return x;
        }
    }

    /**
     * One inversion step's record.
     *
     * @param latent   the latent z_k the model saw (at the level of the previous grid timestep)
     * @param timestep the timestep tau_k the model was evaluated at (the step's target level)
     * @param eps      the eps estimate used for the step (after guidance, if the denoiser applies it)
     */
    public record InversionStep(Tensor latent, int timestep, Tensor eps) {}

    /**
     * Result of an inversion.
     *
     * @param latent     the inverted latent, at the level of the first (highest) sampling timestep
     * @param trajectory the N steps that led there, in order (empty unless asked for)
     */
    public record Inversion(Tensor latent, List<InversionStep> trajectory) {}

    /**
     * Deterministic DDIM inversion of {@code x0} with N steps (see the class comment). The result lies at the level of
     * the first sampling timestep, so {@code sample(model, inv.latent(), N, 0, null, null)} maps it back (exactly for
     * an x-independent eps, approximately otherwise). Runs under {@link NoGrad}.
     *
     * @param keepTrajectory keep the N (latent, timestep, eps) triples (the Inversion-DPO training points)
     */
    public Inversion invert(Denoiser model, Tensor x0, int numInferenceSteps, boolean keepTrajectory, StepCallback callback) {
        StepCallback cb = callback == null ? StepCallback.NONE : callback;
        int[] ts = timesteps(numInferenceSteps);
        List<InversionStep> traj = keepTrajectory ? new ArrayList<>(ts.length) : List.of();
        PredictionType type = config.predictionType();
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor z = x0;
            for (int k = 0; k < ts.length; k++) {
                int t = ts[ts.length - 1 - k];
                int from = Math.min(previousTimestep(t, numInferenceSteps), config.numTrainTimesteps() - 1);
                double aFrom = alphaBarOrFinal(from), aTo = schedule.alphaBar(t);
                if (type == PredictionType.SAMPLE && aFrom == 1)
                    throw new IllegalStateException("DDIM inversion of a 'sample'-predicting model from alpha_bar = 1 is undefined (eps = (x - x0) / 0); "
                            + "use set_alpha_to_one = false");
                Tensor out = model.predict(z, t);
                Tensor eps = Predictions.toEps(type, z, out, aFrom);
                Tensor x0Hat = Predictions.toX0(type, z, out, aFrom);
                if (config.clipSample()) x0Hat = x0Hat.clamp(-config.clipSampleRange(), config.clipSampleRange());
                if (keepTrajectory) traj.add(new InversionStep(z, t, eps));
                z = x0Hat.mul(Math.sqrt(aTo)).add(eps.mul(Math.sqrt(1 - aTo)));
                cb.onStep(k, ts.length, t, z, x0Hat);
            }
            return new Inversion(z, keepTrajectory ? List.copyOf(traj) : List.of());
        }
    }
}
