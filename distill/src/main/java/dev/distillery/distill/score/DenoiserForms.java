package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/**
 * The two ways a raw network F becomes an EDM denoiser D(x; sigma), shared by every {@link EdmDenoiserNet} (pixel
 * UNet, eps-model, text UNet) so the conversions live in one place.
 *
 * <p><b>EDM preconditioning</b> ({@link #edm}; Karras et al. 2022, Table 1):
 * <pre>
 *   D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, cNoiseScale * ln(sigma) / 4)
 * </pre>
 *
 * <p><b>A discrete VP model</b> ({@link #vp}; the exact VE/VP conversion, Karras et al. 2022 appendix C.1): the VE
 * sample {@code x = x0 + sigma eps} is the VP sample {@code x_t = sqrt(abar) x0 + sqrt(1 - abar) eps} divided by
 * sqrt(abar), with {@code abar(sigma) = 1 / (1 + sigma^2)} and {@code t(sigma)} the schedule's continuous timestep for
 * sigma ({@link NoiseSchedule#timestepForSigma}, exact at training timesteps, clamped to [0, T-1]). With
 * {@code out = F(sqrt(abar) x, t(sigma))}:
 * <pre>
 *   epsilon:      D = x - sigma out                                   (x0_hat = (x_t - sqrt(1 - abar) eps_hat) / sqrt(abar))
 *   v_prediction: D = abar x - sqrt(1 - abar) out                     (x0_hat = sqrt(abar) x_t - sqrt(1 - abar) v_hat)
 *   sample:       D = out
 * </pre>
 */
final class DenoiserForms {
    private DenoiserForms() {}

    /** F(input, timesteps [B]) of a raw network, conditioning already bound. */
    @FunctionalInterface
    interface Raw extends RawOf<Variable> {}

    /** A function of the raw network's input and timesteps (its output, or its intermediate features). */
    @FunctionalInterface
    interface RawOf<T> {
        T apply(Variable input, double[] timesteps);
    }

    /** Checks that {@code x} is a batch of samples of {@code sampleShape}; the error names {@code what} (e.g. "denoise: x"). */
    static void checkSamples(String what, Variable x, int[] sampleShape) {
        if (x.dim() != sampleShape.length + 1 || !Arrays.equals(Arrays.copyOfRange(x.shape(), 1, x.dim()), sampleShape))
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(x.shape()) + ", expected [B, "
                    + Arrays.toString(sampleShape).replaceAll("[\\[\\]]", "") + "]");
    }

    /** Checks one sigma per sample, each finite and > 0; errors name the index. */
    static void checkSigma(double[] sigma, int batch) {
        if (sigma.length != batch) throw new IllegalArgumentException("denoise: " + sigma.length + " sigmas for a batch of " + batch);
        for (int i = 0; i < batch; i++) {
            double s = sigma[i];
            if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("denoise: sigma[" + i + "] = " + s + " (must be finite and > 0)");
        }
    }

    /** {@code c_skip x + c_out F(c_in x, cNoiseScale c_noise)}, per-sample sigma; see the class comment. */
    static Variable edm(Variable x, double[] sigma, EdmPreconditioning pre, double cNoiseScale, Raw f) {
        Variable out = edmRaw(x, sigma, pre, cNoiseScale, f);
        int b = x.size(0);
        double[] cSkip = new double[b], cOut = new double[b];
        for (int i = 0; i < b; i++) {
            cSkip[i] = pre.cSkip(sigma[i]);
            cOut[i] = pre.cOut(sigma[i]);
        }
        return x.mul(Variable.constant(EdmDenoiserNet.perSample(cSkip, x.value()))).add(out.mul(Variable.constant(EdmDenoiserNet.perSample(cOut, x.value()))));
    }

    /** {@code F(c_in x, cNoiseScale c_noise)}: what the raw network sees inside {@link #edm} (also its bottleneck features' input). */
    static <T> T edmRaw(Variable x, double[] sigma, EdmPreconditioning pre, double cNoiseScale, RawOf<T> f) {
        int b = x.size(0);
        checkSigma(sigma, b);
        double[] cIn = new double[b], t = new double[b];
        for (int i = 0; i < b; i++) {
            cIn[i] = pre.cIn(sigma[i]);
            t[i] = cNoiseScale * pre.cNoise(sigma[i]);
        }
        return f.apply(x.mul(Variable.constant(EdmDenoiserNet.perSample(cIn, x.value()))), t);
    }

    /** D of a VP model predicting {@code type} on {@code schedule}; see the class comment. */
    static Variable vp(Variable x, double[] sigma, NoiseSchedule schedule, PredictionType type, Raw f) {
        int b = x.size(0);
        checkSigma(sigma, b);
        double[] alphaBar = new double[b], sqrtAlphaBar = new double[b], t = new double[b];
        for (int i = 0; i < b; i++) {
            alphaBar[i] = NoiseSchedule.alphaBarFromSigma(sigma[i]);
            sqrtAlphaBar[i] = Math.sqrt(alphaBar[i]);
            t[i] = schedule.timestepForSigma(sigma[i]);
        }
        Variable xt = x.mul(Variable.constant(EdmDenoiserNet.perSample(sqrtAlphaBar, x.value())));
        Variable out = f.apply(xt, t);
        Tensor like = x.value();
        return switch (type) {
            case EPSILON -> x.sub(out.mul(Variable.constant(EdmDenoiserNet.perSample(sigma, like))));
            case V_PREDICTION -> {
                double[] sqrtOneMinus = new double[b];
                for (int i = 0; i < b; i++) sqrtOneMinus[i] = Math.sqrt(1 - alphaBar[i]);
                yield x.mul(Variable.constant(EdmDenoiserNet.perSample(alphaBar, like))).sub(out.mul(Variable.constant(EdmDenoiserNet.perSample(sqrtOneMinus, like))));
            }
            case SAMPLE -> out;
        };
    }
}
