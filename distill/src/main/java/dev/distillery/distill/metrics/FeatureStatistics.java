package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/**
 * Streaming mean and covariance of D-dimensional feature vectors, in double. Rows can be added one batch at a time
 * (each batch's mean and centred co-moment are computed locally and merged with Chan et al.'s pairwise update), so a
 * large sample set never has to be held at once, and accumulators built on different shards can be {@link #merge}d.
 * The covariance uses the unbiased {@code N - 1} normaliser, as in the FID reference implementation.
 *
 * <p>Not thread-safe; use one accumulator per thread and merge.
 */
public final class FeatureStatistics {
    private final int dim;
    private long count;
    private final double[] mean;
    /** Sum over rows of (x - mean)(x - mean)^T, full row-major dim x dim. */
    private final double[] comoment;

    public FeatureStatistics(int dim) {
        if (dim < 1) throw new IllegalArgumentException("feature dimension must be >= 1, got " + dim);
        this.dim = dim;
        this.mean = new double[dim];
        this.comoment = new double[dim * dim];
    }

    /** Statistics of all rows of a [n, D] tensor. */
    public static FeatureStatistics of(Tensor features) {
        checkMatrix(features);
        FeatureStatistics s = new FeatureStatistics(features.size(1));
        s.add(features);
        return s;
    }

    /** Statistics of the row-major n x dim matrix {@code rows}. */
    public static FeatureStatistics of(double[] rows, int n, int dim) {
        FeatureStatistics s = new FeatureStatistics(dim);
        s.add(rows, n);
        return s;
    }

    public int dim() { return dim; }

    public long count() { return count; }

    /** Adds every row of a [n, D] tensor (any dtype; converted to double). */
    public FeatureStatistics add(Tensor batch) {
        checkMatrix(batch);
        if (batch.size(1) != dim)
            throw new IllegalArgumentException("batch has " + batch.size(1) + " features per row, expected " + dim);
        return add(batch.toDoubleArray(), batch.size(0));
    }

    /** Adds a single feature vector. */
    public FeatureStatistics addRow(double[] row) {
        if (row.length != dim) throw new IllegalArgumentException("row has " + row.length + " features, expected " + dim);
        return add(row, 1);
    }

    /** Adds the {@code n} rows of the row-major n x dim matrix {@code rows}. */
    public FeatureStatistics add(double[] rows, int n) {
        if (n < 0 || rows.length != (long) n * dim)
            throw new IllegalArgumentException("expected " + n + " x " + dim + " values, got " + rows.length);
        if (n == 0) return this;
        double[] bm = new double[dim];
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dim; d++) {
                double x = rows[i * dim + d];
                if (!Double.isFinite(x)) throw new IllegalArgumentException("non-finite feature at row " + i + ", column " + d);
                bm[d] += x;
            }
        for (int d = 0; d < dim; d++) bm[d] /= n;
        double[] bc = new double[dim * dim];
        double[] c = new double[dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) c[d] = rows[i * dim + d] - bm[d];
            for (int p = 0; p < dim; p++) {
                double cp = c[p];
                if (cp == 0) continue;
                int base = p * dim;
                for (int q = p; q < dim; q++) bc[base + q] += cp * c[q];
            }
        }
        for (int p = 0; p < dim; p++)
            for (int q = 0; q < p; q++) bc[p * dim + q] = bc[q * dim + p];
        combine(n, bm, bc);
        return this;
    }

    /** Folds another accumulator of the same dimension into this one (the other is unchanged). */
    public FeatureStatistics merge(FeatureStatistics other) {
        if (other.dim != dim) throw new IllegalArgumentException("dimension mismatch: " + other.dim + " vs " + dim);
        if (other.count > 0) combine(other.count, other.mean.clone(), other.comoment.clone());
        return this;
    }

    private void combine(long nb, double[] mb, double[] cb) {
        if (count == 0) {
            System.arraycopy(mb, 0, mean, 0, dim);
            System.arraycopy(cb, 0, comoment, 0, dim * dim);
            count = nb;
            return;
        }
        long na = count, n = na + nb;
        double[] delta = new double[dim];
        for (int d = 0; d < dim; d++) delta[d] = mb[d] - mean[d];
        double w = (double) na * nb / n;
        for (int p = 0; p < dim; p++)
            for (int q = 0; q < dim; q++)
                comoment[p * dim + q] += cb[p * dim + q] + w * delta[p] * delta[q];
        double fb = (double) nb / n;
        for (int d = 0; d < dim; d++) mean[d] += delta[d] * fb;
        count = n;
    }

    /** The sample mean (a copy). */
    public double[] mean() {
        if (count == 0) throw new IllegalStateException("no samples");
        return mean.clone();
    }

    /** The unbiased sample covariance ({@code N - 1} normaliser), row-major dim x dim (a copy). */
    public double[] covariance() {
        if (count < 2) throw new IllegalStateException("covariance needs at least 2 samples, have " + count);
        double[] cov = new double[dim * dim];
        double inv = 1.0 / (count - 1);
        for (int i = 0; i < cov.length; i++) cov[i] = comoment[i] * inv;
        return cov;
    }

    static void checkMatrix(Tensor t) {
        if (t.dim() != 2) throw new IllegalArgumentException("features must be [n, D], got shape " + Arrays.toString(t.shape()));
    }
}
