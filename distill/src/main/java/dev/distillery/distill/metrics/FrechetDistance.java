package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;

import java.util.stream.IntStream;

/**
 * Fréchet distance between two Gaussians fitted to feature sets (the FID formula of Heusel et al. 2017):
 * {@code ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2))}, in double precision.
 *
 * <p>The trace of the matrix square root is computed without a non-symmetric square root: {@code S1 S2} is similar to
 * the symmetric positive semi-definite {@code sqrt(S1) S2 sqrt(S1)}, so {@code Tr sqrt(S1 S2)} is the sum of the square
 * roots of that matrix's eigenvalues. Both steps use {@link SymmetricEigen}. Eigenvalues at rounding level, below
 * {@code n * ulp(1) * max |eigenvalue|} (rank-deficient covariances, e.g. fewer samples than features, or negative
 * from rounding), are set to zero before the square root: otherwise each null direction would add a spurious
 * {@code ~1e-8 * ||S||} to the trace of the root. Dropping a genuine eigenvalue that small changes the result by no
 * more than that rounding noise. No epsilon is added to the diagonals.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** Fréchet distance between the row sets of two [n, D] and [m, D] feature tensors. */
    public static double compute(Tensor a, Tensor b) {
        return compute(FeatureStatistics.of(a), FeatureStatistics.of(b));
    }

    /** Fréchet distance between two accumulated feature statistics (each with at least 2 samples). */
    public static double compute(FeatureStatistics a, FeatureStatistics b) {
        if (a.dim() != b.dim()) throw new IllegalArgumentException("dimension mismatch: " + a.dim() + " vs " + b.dim());
        return compute(a.mean(), a.covariance(), b.mean(), b.covariance());
    }

    /** Fréchet distance between N(mu1, s1) and N(mu2, s2); covariances row-major D x D, symmetric PSD. */
    public static double compute(double[] mu1, double[] s1, double[] mu2, double[] s2) {
        int n = mu1.length;
        if (mu2.length != n || s1.length != (long) n * n || s2.length != (long) n * n)
            throw new IllegalArgumentException("inconsistent shapes: mu " + n + "/" + mu2.length + ", covariances "
                    + s1.length + "/" + s2.length);
        double meanTerm = 0;
        for (int i = 0; i < n; i++) {
            double d = mu1[i] - mu2[i];
            meanTerm += d * d;
        }
        double trace = 0;
        for (int i = 0; i < n; i++) trace += s1[i * n + i] + s2[i * n + i];
        return meanTerm + trace - 2 * traceSqrtProduct(s1, s2, n);
    }

    /** {@code Tr sqrt(S1 S2)} for symmetric PSD S1, S2 (row-major n x n). */
    public static double traceSqrtProduct(double[] s1, double[] s2, int n) {
        SymmetricEigen.Result e1 = SymmetricEigen.decompose(s1, n);
        double floor1 = roundingFloor(e1.values(), n);
        double[] root1 = e1.reconstruct(x -> x > floor1 ? Math.sqrt(x) : 0);
        double[] m = multiply(multiply(root1, s2, n), root1, n);
        double[] ev = SymmetricEigen.eigenvalues(m, n);
        double floor = roundingFloor(ev, n);
        double sum = 0;
        for (double v : ev) if (v > floor) sum += Math.sqrt(v);
        return sum;
    }

    private static double roundingFloor(double[] ascending, int n) {
        double max = Math.max(Math.abs(ascending[0]), Math.abs(ascending[ascending.length - 1]));
        return n * Math.ulp(1.0) * max;
    }

    /** Row-major n x n product, parallel over rows. */
    static double[] multiply(double[] a, double[] b, int n) {
        double[] c = new double[n * n];
        IntStream rows = IntStream.range(0, n);
        if (n >= 128) rows = rows.parallel();
        rows.forEach(i -> {
            int ci = i * n;
            for (int k = 0; k < n; k++) {
                double aik = a[i * n + k];
                if (aik == 0) continue;
                int bk = k * n;
                for (int j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
            }
        });
        return c;
    }
}
