package dev.distillery.models.diffusion;

/**
 * EDM preconditioning (Karras et al. 2022, Table 1, "Ours"): a raw network F is wrapped as
 * {@code D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x; c_noise(sigma))} with
 * <pre>
 *   c_skip  = sigma_d^2 / (sigma^2 + sigma_d^2)        c_out = sigma sigma_d / sqrt(sigma^2 + sigma_d^2)
 *   c_in    = 1 / sqrt(sigma^2 + sigma_d^2)             c_noise = ln(sigma) / 4
 *   loss weight lambda(sigma) = (sigma^2 + sigma_d^2) / (sigma sigma_d)^2
 * </pre>
 * With F = 0, D is the exact denoiser of data N(0, sigma_d^2 I). The coefficients are plain doubles so training code
 * can apply them to autograd variables; {@link #wrap} applies them to a tensor-level network for sampling.
 *
 * @param sigmaData sigma_d, the data standard deviation (0.5 for images in [-1, 1])
 */
public record EdmPreconditioning(double sigmaData) {
    public EdmPreconditioning {
        if (!(sigmaData > 0)) throw new IllegalArgumentException("sigma_data must be positive, got " + sigmaData);
    }

    public double cSkip(double sigma) {
        return sigmaData * sigmaData / (sigma * sigma + sigmaData * sigmaData);
    }

    public double cOut(double sigma) {
        return sigma * sigmaData / Math.sqrt(sigma * sigma + sigmaData * sigmaData);
    }

    public double cIn(double sigma) {
        return 1 / Math.sqrt(sigma * sigma + sigmaData * sigmaData);
    }

    public double cNoise(double sigma) {
        return Math.log(sigma) / 4;
    }

    /** EDM's loss weight, {@code 1 / c_out^2}: makes the effective training target F's unit-variance. */
    public double lossWeight(double sigma) {
        return (sigma * sigma + sigmaData * sigmaData) / (sigma * sigma * sigmaData * sigmaData);
    }

    /**
     * The denoiser D(x; sigma) (EDM convention) of a raw network {@code f}, which is called as
     * {@code f.predict(c_in x, c_noise)}.
     */
    public Denoiser wrap(Denoiser f) {
        return (x, sigma) -> x.mul(cSkip(sigma)).add(f.predict(x.mul(cIn(sigma)), cNoise(sigma)).mul(cOut(sigma)));
    }
}
