package dev.distillery.models.diffusion;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * An isotropic Gaussian mixture in R^D, sum_k w_k N(mu_k, s_k^2 I), with its exact EDM denoiser. Noising by
 * {@code x = x0 + sigma n} convolves each component with N(0, sigma^2 I), so p_sigma is the mixture with variances
 * {@code v_k = s_k^2 + sigma^2}; the posterior mean is
 * {@code D(x; sigma) = sum_k r_k(x) (mu_k + s_k^2 / v_k (x - mu_k))} with responsibilities
 * {@code r_k ~ w_k N(x; mu_k, v_k I)}. The VP model follows through {@link Denoisers#edmAsVp}.
 */
final class GaussianMixture {
    final double[][] mu;
    final double[] std, weight;
    final int dim;

    GaussianMixture(double[][] mu, double[] std, double[] weight) {
        this.mu = mu;
        this.std = std;
        this.weight = weight;
        this.dim = mu[0].length;
    }

    /** Six components on a circle of radius 2, widths 0.15-0.35, weights 0.1-0.3. */
    static GaussianMixture ring() {
        int k = 6;
        double[][] mu = new double[k][];
        for (int i = 0; i < k; i++) mu[i] = new double[]{2 * Math.cos(2 * Math.PI * i / k), 2 * Math.sin(2 * Math.PI * i / k)};
        return new GaussianMixture(mu, new double[]{0.15, 0.3, 0.2, 0.15, 0.35, 0.25}, new double[]{0.3, 0.1, 0.2, 0.15, 0.15, 0.1});
    }

    /** n exact samples [n, D], drawn from {@code rng}. */
    Tensor sample(Rng rng, int n) {
        double[] u = Tensor.rand(rng, DType.F64, n).toDoubleArray();
        double[] z = Tensor.randn(rng, DType.F64, n, dim).toDoubleArray();
        double[] out = new double[n * dim];
        for (int i = 0; i < n; i++) {
            int k = 0;
            double c = weight[0];
            while (u[i] >= c && k < weight.length - 1) c += weight[++k];
            for (int d = 0; d < dim; d++) out[i * dim + d] = mu[k][d] + std[k] * z[i * dim + d];
        }
        return Tensor.of(out, n, dim);
    }

    /** Fraction of the rows of {@code x} [n, D] closest (Euclidean) to each component mean. */
    double[] occupancy(Tensor x) {
        int n = x.size(0);
        double[] xv = x.toDoubleArray(), occ = new double[mu.length];
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bestD = Double.POSITIVE_INFINITY;
            for (int k = 0; k < mu.length; k++) {
                double d2 = 0;
                for (int d = 0; d < dim; d++) {
                    double e = xv[i * dim + d] - mu[k][d];
                    d2 += e * e;
                }
                if (d2 < bestD) {
                    bestD = d2;
                    best = k;
                }
            }
            occ[best] += 1.0 / n;
        }
        return occ;
    }

    /** Per component, the RMS distance to its mean of the rows of {@code x} nearest to it (NaN if none). */
    double[] spread(Tensor x) {
        int n = x.size(0);
        double[] xv = x.toDoubleArray(), sum = new double[mu.length], cnt = new double[mu.length];
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bestD = Double.POSITIVE_INFINITY;
            for (int k = 0; k < mu.length; k++) {
                double d2 = 0;
                for (int d = 0; d < dim; d++) {
                    double e = xv[i * dim + d] - mu[k][d];
                    d2 += e * e;
                }
                if (d2 < bestD) {
                    bestD = d2;
                    best = k;
                }
            }
            sum[best] += bestD;
            cnt[best]++;
        }
        double[] out = new double[mu.length];
        for (int k = 0; k < mu.length; k++) out[k] = Math.sqrt(sum[k] / cnt[k]);
        return out;
    }

    /** The exact EDM denoiser E[x0 | x0 + sigma n = x]. */
    Tensor denoise(Tensor x, double sigma) {
        int n = x.size(0), kc = mu.length;
        double[] xv = x.toDoubleArray();
        double[] out = new double[xv.length];
        double[] logr = new double[kc];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < kc; k++) {
                double v = std[k] * std[k] + sigma * sigma, d2 = 0;
                for (int d = 0; d < dim; d++) {
                    double e = xv[i * dim + d] - mu[k][d];
                    d2 += e * e;
                }
                logr[k] = Math.log(weight[k]) - d2 / (2 * v) - 0.5 * dim * Math.log(v);
                max = Math.max(max, logr[k]);
            }
            double z = 0;
            for (int k = 0; k < kc; k++) z += logr[k] = Math.exp(logr[k] - max);
            for (int k = 0; k < kc; k++) {
                double r = logr[k] / z, shrink = std[k] * std[k] / (std[k] * std[k] + sigma * sigma);
                for (int d = 0; d < dim; d++) out[i * dim + d] += r * (mu[k][d] + shrink * (xv[i * dim + d] - mu[k][d]));
            }
        }
        return Tensor.of(out, x.shape()).to(x.dtype());
    }
}
