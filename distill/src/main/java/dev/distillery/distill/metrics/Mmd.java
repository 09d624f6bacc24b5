package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Squared maximum mean discrepancy (Gretton et al. 2012) with the Gaussian RBF kernel
 * {@code k(x, y) = exp(-||x - y||^2 / (2 sigma^2))}, unbiased U-statistic estimator:
 * <pre>
 * MMD^2_u = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j) - 2/(nm) sum_{i,j} k(x_i, y_j)
 * </pre>
 * Being unbiased, it fluctuates around 0 (and can be slightly negative) when both sets come from one distribution.
 *
 * <p>The bandwidth {@code sigma} is either given or chosen by the median heuristic: the median Euclidean distance
 * between distinct points of the pooled sample (pooled sets larger than {@value #MEDIAN_MAX_POINTS} points are
 * subsampled at evenly strided indices, deterministically). Exact O((n + m)^2 D) kernel sums, parallel over rows.
 */
public final class Mmd {
    /** Pooled points used at most by the median heuristic. */
    public static final int MEDIAN_MAX_POINTS = 1024;

    /** The unbiased MMD^2 estimate and the bandwidth it used. */
    public record Result(double mmd2, double bandwidth) {}

    private Mmd() {}

    /** Unbiased MMD^2 between the rows of [n, D] and [m, D] tensors with the given bandwidth sigma > 0. */
    public static Result compute(Tensor x, Tensor y, double bandwidth) {
        check(x, y);
        return compute(x.toDoubleArray(), x.size(0), y.toDoubleArray(), y.size(0), x.size(1), bandwidth);
    }

    /** Unbiased MMD^2 with the median-heuristic bandwidth. */
    public static Result computeMedianHeuristic(Tensor x, Tensor y) {
        check(x, y);
        double[] a = x.toDoubleArray(), b = y.toDoubleArray();
        int dim = x.size(1);
        return compute(a, x.size(0), b, y.size(0), dim, medianDistance(a, x.size(0), b, y.size(0), dim));
    }

    /** Unbiased MMD^2 between row-major {@code x} (n x dim) and {@code y} (m x dim); n, m >= 2. */
    public static Result compute(double[] x, int n, double[] y, int m, int dim, double bandwidth) {
        if (!(bandwidth > 0) || Double.isInfinite(bandwidth))
            throw new IllegalArgumentException("bandwidth must be positive and finite, got " + bandwidth);
        if (n < 2 || m < 2) throw new IllegalArgumentException("the unbiased estimator needs >= 2 points per set, got " + n + " and " + m);
        if (x.length != (long) n * dim || y.length != (long) m * dim)
            throw new IllegalArgumentException("array lengths do not match the given shapes");
        double gamma = 1 / (2 * bandwidth * bandwidth);
        double kxx = IntStream.range(0, n).parallel().mapToDouble(i -> {
            double s = 0;
            for (int j = i + 1; j < n; j++) s += Math.exp(-gamma * PrecisionRecall.squaredDistance(x, i, x, j, dim));
            return s;
        }).sum();
        double kyy = IntStream.range(0, m).parallel().mapToDouble(i -> {
            double s = 0;
            for (int j = i + 1; j < m; j++) s += Math.exp(-gamma * PrecisionRecall.squaredDistance(y, i, y, j, dim));
            return s;
        }).sum();
        double kxy = IntStream.range(0, n).parallel().mapToDouble(i -> {
            double s = 0;
            for (int j = 0; j < m; j++) s += Math.exp(-gamma * PrecisionRecall.squaredDistance(x, i, y, j, dim));
            return s;
        }).sum();
        double mmd2 = 2 * kxx / ((double) n * (n - 1)) + 2 * kyy / ((double) m * (m - 1)) - 2 * kxy / ((double) n * m);
        return new Result(mmd2, bandwidth);
    }

    /**
     * Median heuristic bandwidth: the median Euclidean distance over distinct pairs of the pooled rows of {@code x}
     * and {@code y} (at most {@value #MEDIAN_MAX_POINTS} pooled rows, evenly strided). Falls back to 1 when every
     * pooled point coincides.
     */
    public static double medianDistance(double[] x, int n, double[] y, int m, int dim) {
        int total = n + m;
        int used = Math.min(total, MEDIAN_MAX_POINTS);
        if (used < 2) throw new IllegalArgumentException("median heuristic needs >= 2 points");
        double[] pooled = new double[used * dim];
        for (int t = 0; t < used; t++) {
            int idx = (int) ((long) t * total / used);
            if (idx < n) System.arraycopy(x, idx * dim, pooled, t * dim, dim);
            else System.arraycopy(y, (idx - n) * dim, pooled, t * dim, dim);
        }
        double[] d2 = new double[used * (used - 1) / 2];
        int p = 0;
        for (int i = 0; i < used; i++)
            for (int j = i + 1; j < used; j++) d2[p++] = PrecisionRecall.squaredDistance(pooled, i, pooled, j, dim);
        Arrays.sort(d2);
        int len = d2.length;
        double sigma = len % 2 == 1 ? Math.sqrt(d2[len / 2])
                : 0.5 * (Math.sqrt(d2[len / 2 - 1]) + Math.sqrt(d2[len / 2]));
        return sigma > 0 ? sigma : 1.0;
    }

    private static void check(Tensor x, Tensor y) {
        FeatureStatistics.checkMatrix(x);
        FeatureStatistics.checkMatrix(y);
        if (x.size(1) != y.size(1))
            throw new IllegalArgumentException("feature dimension mismatch: " + x.size(1) + " vs " + y.size(1));
    }
}
