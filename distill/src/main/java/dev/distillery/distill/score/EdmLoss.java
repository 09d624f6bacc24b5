package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * The EDM denoising loss (Karras et al. 2022, eq. 8 with Table 1's sigma distribution and weight) of any
 * {@link EdmDenoiserNet}:
 * <pre>
 *   ln sigma_i ~ N(P_mean, P_std^2),   n ~ N(0, I),   x_i = x0_i + sigma_i n_i
 *   L = mean over samples and values of  lambda(sigma_i) (D(x_i; sigma_i, y_i) - x0_i)^2,
 *   lambda(sigma) = (sigma^2 + sigma_d^2) / (sigma sigma_d)^2
 * </pre>
 * The standard normals of ln sigma are drawn first (F64, one per sample, from {@code sigmaRng}), then the noise
 * (F32, the shape of x0, from {@code noiseRng}), so a run is reproducible from the two generators' offsets.
 */
public final class EdmLoss {
    private EdmLoss() {}

    /** The loss as a graph node (call {@code backward()} on it); gradients flow to the net's parameters. */
    public static Variable loss(EdmDenoiserNet net, Tensor x0, Tensor cond, double pMean, double pStd, Rng noiseRng, Rng sigmaRng) {
        int b = x0.size(0);
        double[] z = Tensor.randn(sigmaRng, DType.F64, b).toDoubleArray();
        double[] sigma = new double[b], weight = new double[b];
        for (int i = 0; i < b; i++) {
            sigma[i] = Math.exp(pMean + pStd * z[i]);
            weight[i] = net.preconditioning().lossWeight(sigma[i]);
        }
        Tensor noise = Tensor.randn(noiseRng, DType.F32, x0.shape());
        Tensor noisy = x0.add(noise.mul(perSample(sigma, x0.dim())));
        Variable d = net.denoise(Variable.constant(noisy), sigma, cond);
        return d.sub(Variable.constant(x0)).square().mul(Variable.constant(perSample(weight, x0.dim()))).mean();
    }

    /** {@code v} as an F32 tensor {@code [B, 1, ..., 1]} of rank {@code rank}, broadcasting over each sample's values. */
    public static Tensor perSample(double[] v, int rank) {
        int[] shape = new int[rank];
        java.util.Arrays.fill(shape, 1);
        shape[0] = v.length;
        return Tensor.of(v, shape).to(DType.F32);
    }
}
