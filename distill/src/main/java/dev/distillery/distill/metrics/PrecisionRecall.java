package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;

import java.util.stream.IntStream;

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) on feature vectors. Each set's manifold is approximated by
 * the union of balls around its points whose radius is the distance to the point's k-th nearest neighbour within the
 * same set (the point itself excluded). Precision is the fraction of generated points inside the real manifold,
 * recall the fraction of real points inside the generated manifold. A point on a ball's boundary counts as inside.
 *
 * <p>Distances are exact Euclidean (computed by differences, so coincident points are at distance exactly 0), in
 * double, O((n + m)^2 D) time; rows are processed in parallel. Meant for sets of up to a few thousand points.
 */
public final class PrecisionRecall {
    public static final int DEFAULT_K = 3;

    /** Precision (generated samples covered by the real manifold) and recall (real samples covered by the generated one). */
    public record Result(double precision, double recall, int k) {}

    private PrecisionRecall() {}

    /** Precision/recall of {@code fake} against {@code real} ([n, D] and [m, D]) with k = 3. */
    public static Result compute(Tensor real, Tensor fake) {
        return compute(real, fake, DEFAULT_K);
    }

    public static Result compute(Tensor real, Tensor fake, int k) {
        FeatureStatistics.checkMatrix(real);
        FeatureStatistics.checkMatrix(fake);
        if (real.size(1) != fake.size(1))
            throw new IllegalArgumentException("feature dimension mismatch: " + real.size(1) + " vs " + fake.size(1));
        return compute(real.toDoubleArray(), real.size(0), fake.toDoubleArray(), fake.size(0), real.size(1), k);
    }

    /** Row-major {@code real} (n x dim) and {@code fake} (m x dim). Both sets need more than k points. */
    public static Result compute(double[] real, int n, double[] fake, int m, int dim, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        if (n <= k || m <= k)
            throw new IllegalArgumentException("each set needs more than k = " + k + " points, got " + n + " and " + m);
        if (real.length != (long) n * dim || fake.length != (long) m * dim)
            throw new IllegalArgumentException("array lengths do not match the given shapes");
        double[] realRadii = kthNeighbourSquaredDistances(real, n, dim, k);
        double[] fakeRadii = kthNeighbourSquaredDistances(fake, m, dim, k);
        double precision = coveredFraction(fake, m, real, n, realRadii, dim);
        double recall = coveredFraction(real, n, fake, m, fakeRadii, dim);
        return new Result(precision, recall, k);
    }

    /** For each row, the squared distance to its k-th nearest other row. */
    static double[] kthNeighbourSquaredDistances(double[] x, int n, int dim, int k) {
        double[] radii = new double[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            double[] best = new double[k]; // ascending k smallest
            java.util.Arrays.fill(best, Double.POSITIVE_INFINITY);
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                double d = squaredDistance(x, i, x, j, dim);
                if (d < best[k - 1]) {
                    int p = k - 1;
                    while (p > 0 && best[p - 1] > d) {
                        best[p] = best[p - 1];
                        p--;
                    }
                    best[p] = d;
                }
            }
            radii[i] = best[k - 1];
        });
        return radii;
    }

    /** Fraction of the rows of {@code q} lying within some ball (centre row of {@code ref}, squared radius). */
    static double coveredFraction(double[] q, int nq, double[] ref, int nref, double[] refRadii, int dim) {
        long covered = IntStream.range(0, nq).parallel().filter(i -> {
            for (int j = 0; j < nref; j++)
                if (squaredDistance(q, i, ref, j, dim) <= refRadii[j]) return true;
            return false;
        }).count();
        return (double) covered / nq;
    }

    static double squaredDistance(double[] a, int i, double[] b, int j, int dim) {
        int ai = i * dim, bj = j * dim;
        double s = 0;
        for (int d = 0; d < dim; d++) {
            double t = a[ai + d] - b[bj + d];
            s += t * t;
        }
        return s;
    }
}
