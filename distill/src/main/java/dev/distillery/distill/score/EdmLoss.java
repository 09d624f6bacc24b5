package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * The EDM training loss of a teacher (Karras et al. 2022, eq. 8 with Table 1's sigma distribution and weight):
 * {@link DenoisingScoreMatching} with {@code ln sigma_i ~ N(P_mean, P_std^2)}. The standard normals of ln sigma are
 * drawn first (F64, one per sample, from {@code sigmaRng}), then the noise (F32, the shape of x0, from
 * {@code noiseRng}), so a run is reproducible from the two generators' offsets.
 */
public final class EdmLoss {
    private EdmLoss() {}

    /** The loss as a graph node (call {@code backward()} on it); gradients flow to the net's parameters. */
    public static Variable loss(EdmDenoiserNet net, Tensor x0, Tensor cond, double pMean, double pStd, Rng noiseRng, Rng sigmaRng) {
        double[] sigma = new NoiseLevels.LogNormal(pMean, pStd).sample(sigmaRng, x0.size(0));
        Tensor noise = Tensor.randn(noiseRng, DType.F32, x0.shape()).to(x0.device()); // drawn on the host: the same stream on every device
        return DenoisingScoreMatching.loss(net, x0, cond, sigma, noise);
    }
}
