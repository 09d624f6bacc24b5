package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/**
 * diffusers' {@code DiagonalGaussianDistribution}: the VAE posterior from the encoder's moments [N, 2C, ...], split
 * along dim 1 into {@code mean} and {@code logvar} (clamped to [-30, 20]), with {@code std = exp(logvar / 2)} and
 * {@code var = exp(logvar)}. All are {@link Variable}s, so gradients reach the encoder through sampling
 * (reparameterisation) and the KL term.
 */
public final class DiagonalGaussian {
    public final Variable parameters, mean, logvar, std, var;
    public final boolean deterministic;

    public DiagonalGaussian(Variable parameters) {
        this(parameters, false);
    }

    /** With {@code deterministic}, std and var are zero, sampling returns the mean and the KL and NLL are 0 (as diffusers). */
    public DiagonalGaussian(Variable parameters, boolean deterministic) {
        if (parameters.dim() < 2 || parameters.size(1) % 2 != 0)
            throw new IllegalArgumentException("DiagonalGaussian: moments must be [N, 2C, ...], got " + Shapes.str(parameters.shape()));
        int c = parameters.size(1) / 2;
        this.parameters = parameters;
        this.deterministic = deterministic;
        mean = parameters.narrow(1, 0, c);
        logvar = parameters.narrow(1, c, c).clamp(-30, 20);
        if (deterministic) {
            std = var = Variable.constant(Tensor.zeros(mean.dtype(), mean.device(), mean.shape()));
        } else {
            std = logvar.mul(0.5).exp();
            var = logvar.exp();
        }
    }

    /** {@code mean + std * eps} with eps ~ N(0, I) drawn from {@code rng}. */
    public Variable sample(Rng rng) {
        return sample(Tensor.randn(rng, mean.dtype(), mean.shape()));
    }

    /** {@code mean + std * noise} for a given standard-normal {@code noise} of the mean's shape. */
    public Variable sample(Tensor noise) {
        if (!Arrays.equals(noise.shape(), mean.shape()))
            throw new IllegalArgumentException("DiagonalGaussian.sample: noise " + Shapes.str(noise.shape()) + " vs mean " + Shapes.str(mean.shape()));
        return mean.add(std.mul(Variable.constant(noise.to(mean.dtype()).to(mean.device()))));
    }

    /** The mean (diffusers' {@code mode()}). */
    public Variable mode() {
        return mean;
    }

    /** KL(this || N(0, I)) per sample: {@code 0.5 * sum(mean^2 + var - 1 - logvar)} over all dims but the first. */
    public Variable kl() {
        if (deterministic) return Variable.constant(Tensor.zeros(mean.dtype(), mean.device(), mean.size(0)));
        return mean.square().add(var).sub(1).sub(logvar).sum(nonBatchDims()).mul(0.5);
    }

    /** KL(this || other) per sample. */
    public Variable kl(DiagonalGaussian other) {
        if (deterministic) return Variable.constant(Tensor.zeros(mean.dtype(), mean.device(), mean.size(0)));
        return mean.sub(other.mean).square().div(other.var).add(var.div(other.var)).sub(1).sub(logvar).add(other.logvar).sum(nonBatchDims()).mul(0.5);
    }

    /** Negative log-likelihood of {@code sample} per sample: {@code 0.5 * sum(log 2pi + logvar + (x - mean)^2 / var)}. */
    public Variable nll(Variable sample) {
        if (deterministic) return Variable.constant(Tensor.zeros(mean.dtype(), mean.device(), mean.size(0)));
        return logvar.add(Math.log(2 * Math.PI)).add(sample.sub(mean).square().div(var)).sum(nonBatchDims()).mul(0.5);
    }

    private int[] nonBatchDims() {
        int[] d = new int[mean.dim() - 1];
        for (int i = 0; i < d.length; i++) d[i] = i + 1;
        return d;
    }
}
