package dev.distillery.models.diffusion;

import dev.distillery.tensor.Tensor;

/** Adapters between the VP (timestep, eps/v/x0 output) and EDM (sigma, x0 output) {@link Denoiser} conventions. */
public final class Denoisers {
    private Denoisers() {}

    /**
     * Runs a VP model as an EDM denoiser {@code D(x; sigma)} (k-diffusion's {@code DiscreteEpsDDPMDenoiser},
     * diffusers' {@code EulerDiscreteScheduler}): the model sees {@code x_VP = x / sqrt(1 + sigma^2)} at the
     * fractional timestep {@link NoiseSchedule#timestepForSigma(double)}, and its output is turned into x0 with
     * {@code a = 1 / (1 + sigma^2)} (for eps: {@code D = x - sigma eps}).
     */
    public static Denoiser vpAsEdm(Denoiser vp, PredictionType type, NoiseSchedule schedule) {
        return (x, sigma) -> {
            double a = NoiseSchedule.alphaBarFromSigma(sigma);
            Tensor xVp = x.mul(Math.sqrt(a));
            return Predictions.toX0(type, xVp, vp.predict(xVp, schedule.timestepForSigma(sigma)), a);
        };
    }

    /**
     * Runs an EDM denoiser as a VP model with output {@code type}: at timestep t (rounded to the nearest integer for
     * the schedule lookup), {@code sigma = sigma_t}, {@code x0 = D(x / sqrt(a_t); sigma)}, and the output is that x0
     * expressed as eps, v or x0.
     */
    public static Denoiser edmAsVp(Denoiser edm, PredictionType type, NoiseSchedule schedule) {
        return (x, t) -> {
            double a = schedule.alphaBar((int) Math.round(t));
            double sigma = NoiseSchedule.sigmaFromAlphaBar(a);
            Tensor x0 = edm.predict(x.div(Math.sqrt(a)), sigma);
            return Predictions.fromX0Eps(type, x0, Predictions.epsFromX0(x, x0, a), a);
        };
    }

    /** A VP model's output re-expressed as another prediction type (e.g. a v-model as an eps-model). */
    public static Denoiser convert(Denoiser vp, PredictionType from, PredictionType to, NoiseSchedule schedule) {
        if (from == to) return vp;
        return (x, t) -> {
            double a = schedule.alphaBar((int) Math.round(t));
            Tensor out = vp.predict(x, t);
            return Predictions.fromX0Eps(to, Predictions.toX0(from, x, out, a), Predictions.toEps(from, x, out, a), a);
        };
    }
}
