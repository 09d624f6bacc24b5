package dev.distillery.distill.data;

import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.models.diffusion.Predictions;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * A mixture of isotropic Gaussians {@code p(x0) = sum_k w_k N(x0; mu_k, v_k I)} in {@code D} dimensions, with the
 * exact noised density, score and denoiser, so samplers and distillation can be tested against a perfect teacher.
 *
 * <p>Noising {@code x = s x0 + sqrt(n) eps} maps component k to {@code N(s mu_k, (s^2 v_k + n) I)}, and given the
 * component {@code E[x0 | x, k] = mu_k + s v_k / (s^2 v_k + n) (x - s mu_k)}; the responsibilities
 * {@code r_k(x)} of the noised mixture turn these into {@code E[x0 | x] = sum_k r_k E[x0 | x, k]}. The two conventions
 * are VP ({@code s = sqrt(a)}, {@code n = 1 - a}, a = alpha_bar) and EDM/VE ({@code s = 1}, {@code n = sigma^2}), as in
 * {@link Predictions}. Computation is in double; outputs have the input's dtype (F32 unless the input is F64).
 */
public final class GaussianMixture {
    private final double[][] means;
    private final double[] weights;
    private final double[] variances;
    private final int dim;

    public GaussianMixture(double[][] means, double[] weights, double[] variances) {
        if (means.length == 0 || means.length != weights.length || means.length != variances.length)
            throw new IllegalArgumentException("need K >= 1 means, weights and variances of the same count");
        dim = means[0].length;
        double total = 0;
        for (int k = 0; k < means.length; k++) {
            if (means[k].length != dim) throw new IllegalArgumentException("mean " + k + " has dimension " + means[k].length + ", expected " + dim);
            if (!(weights[k] > 0) || !(variances[k] >= 0)) throw new IllegalArgumentException("component " + k + ": weight must be > 0 and variance >= 0");
            total += weights[k];
        }
        this.means = new double[means.length][];
        for (int k = 0; k < means.length; k++) this.means[k] = means[k].clone();
        this.weights = new double[weights.length];
        for (int k = 0; k < weights.length; k++) this.weights[k] = weights[k] / total;
        this.variances = variances.clone();
    }

    /** {@code k} equally weighted components with standard deviation {@code std} on a circle of {@code radius}. */
    public static GaussianMixture ring(int k, double radius, double std) {
        double[][] mu = new double[k][];
        double[] w = new double[k], v = new double[k];
        for (int i = 0; i < k; i++) {
            double ang = 2 * Math.PI * i / k;
            mu[i] = new double[]{radius * Math.cos(ang), radius * Math.sin(ang)};
            w[i] = 1;
            v[i] = std * std;
        }
        return new GaussianMixture(mu, w, v);
    }

    public int dim() {
        return dim;
    }

    public int components() {
        return means.length;
    }

    public double[] mean(int k) {
        return means[k].clone();
    }

    public double weight(int k) {
        return weights[k];
    }

    public double variance(int k) {
        return variances[k];
    }

    /** {@code n} clean draws {@code [n, D]} (F32). Uses {@code n * (1 + D)} draws of {@code rng}. */
    public Tensor sample(Rng rng, int n) {
        long first = rng.advance((long) n * (1 + dim));
        float[] out = new float[n * dim];
        for (int i = 0; i < n; i++) {
            double u = Rng.uniform(rng.seed(), first + (long) i * (1 + dim));
            int k = 0;
            double c = weights[0];
            while (u >= c && k < weights.length - 1) c += weights[++k];
            double sd = Math.sqrt(variances[k]);
            for (int d = 0; d < dim; d++)
                out[i * dim + d] = (float) (means[k][d] + sd * Rng.normal(rng.seed(), first + (long) i * (1 + dim) + 1 + d));
        }
        return Tensor.of(out, n, dim);
    }

    // ---------------------------------------------------------------------------------------------- EDM / VE

    /** Exact {@code D(x; sigma) = E[x0 | x0 + sigma n = x]} for {@code x} of shape {@code [B, D]} (or {@code [B, ...]} with D elements per sample). */
    public Tensor denoiseEdm(Tensor x, double sigma) {
        return apply(x, 1, sigma * sigma, Out.X0);
    }

    /** Exact score {@code grad_x log p_sigma(x)}. */
    public Tensor scoreEdm(Tensor x, double sigma) {
        return apply(x, 1, sigma * sigma, Out.SCORE);
    }

    /** {@code log p_sigma(x)} of one point. */
    public double logDensityEdm(double[] x, double sigma) {
        return logDensity(x, 1, sigma * sigma);
    }

    /** The EDM-convention {@link Denoiser}: {@code t} is sigma, the output is {@code E[x0 | x]}. */
    public Denoiser edmDenoiser() {
        return this::denoiseEdm;
    }

    // ---------------------------------------------------------------------------------------------- VP

    /** Exact {@code E[x0 | sqrt(a) x0 + sqrt(1 - a) eps = x]} for alpha_bar {@code a} in (0, 1]. */
    public Tensor denoiseVp(Tensor x, double alphaBar) {
        return apply(x, Math.sqrt(alphaBar), 1 - alphaBar, Out.X0);
    }

    /** Exact {@code E[eps | x]} at alpha_bar {@code a} in (0, 1). */
    public Tensor epsVp(Tensor x, double alphaBar) {
        return Predictions.epsFromX0(x, denoiseVp(x, alphaBar), alphaBar);
    }

    /** Exact score {@code grad_x log p_a(x)} of the VP-noised density. */
    public Tensor scoreVp(Tensor x, double alphaBar) {
        return apply(x, Math.sqrt(alphaBar), 1 - alphaBar, Out.SCORE);
    }

    public double logDensityVp(double[] x, double alphaBar) {
        return logDensity(x, Math.sqrt(alphaBar), 1 - alphaBar);
    }

    /** The exact VP output of {@code type} at alpha_bar {@code a}. */
    public Tensor predictVp(Tensor x, double alphaBar, PredictionType type) {
        Tensor x0 = denoiseVp(x, alphaBar);
        if (type == PredictionType.SAMPLE) return x0;
        return Predictions.fromX0Eps(type, x0, Predictions.epsFromX0(x, x0, alphaBar), alphaBar);
    }

    /**
     * The VP-convention {@link Denoiser} for {@code schedule}: {@code t} is the timestep, the output is of
     * {@code type}. A fractional {@code t} (as {@link dev.distillery.models.diffusion.Denoisers#vpAsEdm} passes)
     * interpolates log-sigma between the neighbouring timesteps, the inverse of {@link NoiseSchedule#timestepForSigma}.
     */
    public Denoiser vpDenoiser(NoiseSchedule schedule, PredictionType type) {
        return (x, t) -> predictVp(x, alphaBarAt(schedule, t), type);
    }

    /** alpha_bar at a possibly fractional timestep (log-sigma interpolation, clamped to [0, T-1]). */
    public static double alphaBarAt(NoiseSchedule schedule, double t) {
        double tc = Math.clamp(t, 0, schedule.numTrainTimesteps() - 1);
        if (tc == Math.rint(tc)) return schedule.alphaBar((int) tc);
        return NoiseSchedule.alphaBarFromSigma(schedule.sigmaAtTimestep(tc));
    }

    // ---------------------------------------------------------------------------------------------- core

    private enum Out { X0, SCORE }

    private double logDensity(double[] x, double s, double noiseVar) {
        if (x.length != dim) throw new IllegalArgumentException("point of dimension " + x.length + ", mixture has " + dim);
        double[] logits = logits(x, 0, s, noiseVar);
        return logSumExp(logits);
    }

    /** log w_k + log N(x; s mu_k, (s^2 v_k + n) I) for every k. */
    private double[] logits(double[] x, int off, double s, double noiseVar) {
        int K = means.length;
        double[] l = new double[K];
        for (int k = 0; k < K; k++) {
            double var = s * s * variances[k] + noiseVar;
            if (!(var > 0)) throw new IllegalArgumentException("zero total variance: a noise level of 0 needs components with variance > 0");
            double d2 = 0;
            for (int d = 0; d < dim; d++) {
                double r = x[off + d] - s * means[k][d];
                d2 += r * r;
            }
            l[k] = Math.log(weights[k]) - 0.5 * d2 / var - 0.5 * dim * Math.log(2 * Math.PI * var);
        }
        return l;
    }

    private static double logSumExp(double[] l) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : l) m = Math.max(m, v);
        double s = 0;
        for (double v : l) s += Math.exp(v - m);
        return m + Math.log(s);
    }

    private Tensor apply(Tensor x, double s, double noiseVar, Out out) {
        int numel = x.numel();
        if (x.dim() == 0 || numel % dim != 0 || (x.dim() > 1 && numel != x.size(0) * dim))
            throw new IllegalArgumentException("expected [B, " + dim + "] points, got shape " + java.util.Arrays.toString(x.shape()));
        double[] xs = x.contiguous().toDoubleArray();
        double[] res = new double[numel];
        int K = means.length;
        for (int off = 0; off < numel; off += dim) {
            double[] l = logits(xs, off, s, noiseVar);
            double lse = logSumExp(l);
            for (int k = 0; k < K; k++) {
                double r = Math.exp(l[k] - lse);
                double var = s * s * variances[k] + noiseVar;
                // x0 branch: mu_k + s v_k / var (x - s mu_k); score branch: -(x - s mu_k) / var
                for (int d = 0; d < dim; d++) {
                    double resid = xs[off + d] - s * means[k][d];
                    res[off + d] += r * (out == Out.X0 ? means[k][d] + s * variances[k] / var * resid : -resid / var);
                }
            }
        }
        if (x.dtype() == DType.F64) return Tensor.of(res, x.shape());
        float[] f = new float[numel];
        for (int i = 0; i < numel; i++) f[i] = (float) res[i];
        Tensor t = Tensor.of(f, x.shape());
        return x.dtype() == DType.F32 ? t : t.to(x.dtype());
    }
}
