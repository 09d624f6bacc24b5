package dev.distillery.models.diffusion;

import dev.distillery.tensor.Tensor;

/**
 * Conversions between a model's epsilon, v and x0 predictions.
 *
 * <p>VP (DDPM) form, {@code x = sqrt(a) x0 + sqrt(1 - a) eps} with {@code a} = alpha_bar_t (Ho et al. 2020; v from
 * Salimans and Ho 2022; diffusers {@code DDIMScheduler.step}, step 3):
 * <pre>
 *   x0  = (x - sqrt(1 - a) eps) / sqrt(a)          eps = (x - sqrt(a) x0) / sqrt(1 - a)
 *   v   = sqrt(a) eps - sqrt(1 - a) x0
 *   x0  = sqrt(a) x - sqrt(1 - a) v                eps = sqrt(a) v + sqrt(1 - a) x
 * </pre>
 * VE/EDM form, {@code x = x0 + sigma n} (Karras et al. 2022): the denoiser is {@code D(x; sigma) = x0},
 * {@code n = (x - D) / sigma}, and the score is {@code grad log p_sigma(x) = (D - x) / sigma^2}. The two views meet at
 * {@code x_VP = sqrt(a) x_VE}, {@code sigma = sqrt((1 - a) / a)}, with the same eps.
 */
public final class Predictions {
    private Predictions() {}

    /** {@code x0 = (x - sqrt(1 - a) eps) / sqrt(a)}. */
    public static Tensor x0FromEps(Tensor x, Tensor eps, double a) {
        return x.sub(eps.mul(Math.sqrt(1 - a))).div(Math.sqrt(a));
    }

    /** {@code eps = (x - sqrt(a) x0) / sqrt(1 - a)}. */
    public static Tensor epsFromX0(Tensor x, Tensor x0, double a) {
        return x.sub(x0.mul(Math.sqrt(a))).div(Math.sqrt(1 - a));
    }

    /** {@code v = sqrt(a) eps - sqrt(1 - a) x0}. */
    public static Tensor vFromEpsX0(Tensor eps, Tensor x0, double a) {
        return eps.mul(Math.sqrt(a)).sub(x0.mul(Math.sqrt(1 - a)));
    }

    /** {@code x0 = sqrt(a) x - sqrt(1 - a) v}. */
    public static Tensor x0FromV(Tensor x, Tensor v, double a) {
        return x.mul(Math.sqrt(a)).sub(v.mul(Math.sqrt(1 - a)));
    }

    /** {@code eps = sqrt(a) v + sqrt(1 - a) x}. */
    public static Tensor epsFromV(Tensor x, Tensor v, double a) {
        return v.mul(Math.sqrt(a)).add(x.mul(Math.sqrt(1 - a)));
    }

    /** The x0 estimate implied by a VP model output of the given type at noise level a. */
    public static Tensor toX0(PredictionType type, Tensor x, Tensor out, double a) {
        return switch (type) {
            case EPSILON -> x0FromEps(x, out, a);
            case V_PREDICTION -> x0FromV(x, out, a);
            case SAMPLE -> out;
        };
    }

    /** The eps estimate implied by a VP model output of the given type at noise level a. */
    public static Tensor toEps(PredictionType type, Tensor x, Tensor out, double a) {
        return switch (type) {
            case EPSILON -> out;
            case V_PREDICTION -> epsFromV(x, out, a);
            case SAMPLE -> epsFromX0(x, out, a);
        };
    }

    /** The output of the given type that corresponds to the estimates (x0, eps). */
    public static Tensor fromX0Eps(PredictionType type, Tensor x0, Tensor eps, double a) {
        return switch (type) {
            case EPSILON -> eps;
            case V_PREDICTION -> vFromEpsX0(eps, x0, a);
            case SAMPLE -> x0;
        };
    }

    /** EDM: {@code n = (x - D) / sigma}. */
    public static Tensor epsFromDenoised(Tensor x, Tensor denoised, double sigma) {
        return x.sub(denoised).div(sigma);
    }

    /** EDM: {@code D = x - sigma n}. */
    public static Tensor denoisedFromEps(Tensor x, Tensor eps, double sigma) {
        return x.sub(eps.mul(sigma));
    }

    /** EDM: {@code grad log p_sigma(x) = (D - x) / sigma^2}. */
    public static Tensor scoreFromDenoised(Tensor x, Tensor denoised, double sigma) {
        return denoised.sub(x).div(sigma * sigma);
    }
}
