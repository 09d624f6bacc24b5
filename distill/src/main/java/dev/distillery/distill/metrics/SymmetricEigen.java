package dev.distillery.distill.metrics;

/**
 * Eigen-decomposition of a real symmetric matrix in double precision: Householder reduction to tridiagonal form
 * followed by the implicit QL algorithm with Wilkinson-style shifts (the EISPACK {@code tred2}/{@code tql2} pair, as in
 * the public-domain JAMA package). {@code A = V diag(values) V^T} with V orthogonal; eigenvalues are returned in
 * ascending order, eigenvector {@code j} in column {@code j} of V.
 *
 * <p>Only the lower triangle matters in principle, but the input is symmetrised ({@code (A + A^T) / 2}) first so a
 * matrix that is symmetric up to rounding (a product like {@code B S B}) is handled consistently.
 */
public final class SymmetricEigen {
    /**
     * Eigenvalues ascending and, unless computed values-only, eigenvectors as a row-major n x n matrix whose column
     * {@code j} belongs to {@code values[j]} ({@code vectors} is null for a values-only decomposition).
     */
    public record Result(int n, double[] values, double[] vectors) {
        /** Element (row, col) of V. */
        public double vector(int row, int col) { return vectors[row * n + col]; }

        /** {@code V diag(f(values)) V^T} as a row-major n x n matrix. */
        public double[] reconstruct(java.util.function.DoubleUnaryOperator f) {
            if (vectors == null) throw new IllegalStateException("values-only decomposition");
            double[] fv = new double[n];
            for (int j = 0; j < n; j++) fv[j] = f.applyAsDouble(values[j]);
            double[] out = new double[n * n];
            for (int i = 0; i < n; i++) {
                for (int k = i; k < n; k++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += vectors[i * n + j] * fv[j] * vectors[k * n + j];
                    out[i * n + k] = s;
                    out[k * n + i] = s;
                }
            }
            return out;
        }
    }

    private SymmetricEigen() {}

    /** Full decomposition of the row-major n x n matrix {@code a} (not modified). */
    public static Result decompose(double[] a, int n) {
        return decompose(a, n, true);
    }

    /** Eigenvalues only (ascending); cheaper since the QL rotations are not accumulated. */
    public static double[] eigenvalues(double[] a, int n) {
        return decompose(a, n, false).values();
    }

    private static Result decompose(double[] a, int n, boolean wantVectors) {
        if (n < 1 || a.length != (long) n * n)
            throw new IllegalArgumentException("need a row-major n x n matrix, got n = " + n + ", length " + a.length);
        double[][] u = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double x = 0.5 * (a[i * n + j] + a[j * n + i]);
                if (!Double.isFinite(x)) throw new IllegalArgumentException("matrix has a non-finite entry at " + i + "," + j);
                u[i][j] = x;
            }
        double[] d = new double[n], e = new double[n];
        // The EISPACK routines are run on U = V^T (the input is symmetric, so U starts as A), which turns their
        // column sweeps into row sweeps; eigenvector j ends up in row j of U.
        tred2(u, d, e, n);
        tql2(u, d, e, n, wantVectors);
        // Sort ascending (selection sort keeps the columns of V in step).
        for (int i = 0; i < n - 1; i++) {
            int k = i;
            double p = d[i];
            for (int j = i + 1; j < n; j++)
                if (d[j] < p) { k = j; p = d[j]; }
            if (k != i) {
                d[k] = d[i];
                d[i] = p;
                if (wantVectors) {
                    double[] t = u[i];
                    u[i] = u[k];
                    u[k] = t;
                }
            }
        }
        double[] vec = null;
        if (wantVectors) {
            vec = new double[n * n];
            for (int j = 0; j < n; j++) {
                double[] uj = u[j];
                for (int i = 0; i < n; i++) vec[i * n + j] = uj[i];
            }
        }
        return new Result(n, d, vec);
    }

    /** Householder tridiagonalisation: on return d is the diagonal, e[1..n-1] the sub-diagonal, V the transform, stored
     * transposed ({@code U = V^T}) so that the inner loops run along rows. */
    private static void tred2(double[][] U, double[] d, double[] e, int n) {
        for (int j = 0; j < n; j++) d[j] = U[j][n - 1];
        for (int i = n - 1; i > 0; i--) {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.abs(d[k]);
            if (scale == 0) {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++) {
                    d[j] = U[j][i - 1];
                    U[j][i] = 0;
                    U[i][j] = 0;
                }
            } else {
                for (int k = 0; k < i; k++) {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++) e[j] = 0;
                for (int j = 0; j < i; j++) {
                    f = d[j];
                    U[i][j] = f;
                    g = e[j] + U[j][j] * f;
                    for (int k = j + 1; k <= i - 1; k++) {
                        g += U[j][k] * d[k];
                        e[k] += U[j][k] * f;
                    }
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++) {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++) {
                    f = d[j];
                    g = e[j];
                    for (int k = j; k <= i - 1; k++) U[j][k] -= (f * e[k] + g * d[k]);
                    d[j] = U[j][i - 1];
                    U[j][i] = 0;
                }
            }
            d[i] = h;
        }
        for (int i = 0; i < n - 1; i++) {
            U[i][n - 1] = U[i][i];
            U[i][i] = 1;
            double h = d[i + 1];
            if (h != 0) {
                for (int k = 0; k <= i; k++) d[k] = U[i + 1][k] / h;
                for (int j = 0; j <= i; j++) {
                    double g = 0;
                    for (int k = 0; k <= i; k++) g += U[i + 1][k] * U[j][k];
                    for (int k = 0; k <= i; k++) U[j][k] -= g * d[k];
                }
            }
            for (int k = 0; k <= i; k++) U[i + 1][k] = 0;
        }
        for (int j = 0; j < n; j++) {
            d[j] = U[j][n - 1];
            U[j][n - 1] = 0;
        }
        U[n - 1][n - 1] = 1;
        e[0] = 0;
    }

    /** Implicit QL on the tridiagonal (d, e), accumulating rotations into U = V^T when asked. */
    private static void tql2(double[][] U, double[] d, double[] e, int n, boolean wantVectors) {
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0;
        double eps = Math.ulp(1.0);
        for (int l = 0; l < n; l++) {
            tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
            int m = l;
            while (m < n) {
                if (Math.abs(e[m]) <= eps * tst1) break;
                m++;
            }
            if (m > l) {
                int iter = 0;
                do {
                    if (++iter > 200)
                        throw new ArithmeticException("symmetric eigen-decomposition did not converge (n = " + n + ")");
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Math.hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    p = d[m];
                    double c = 1, c2 = c, c3 = c;
                    double el1 = e[l + 1];
                    double s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--) {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Math.hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        if (wantVectors) {
                            double[] ui = U[i], ui1 = U[i + 1];
                            for (int k = 0; k < n; k++) {
                                double t = ui1[k];
                                ui1[k] = s * ui[k] + c * t;
                                ui[k] = c * ui[k] - s * t;
                            }
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }
}
