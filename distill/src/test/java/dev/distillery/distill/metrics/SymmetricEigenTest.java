package dev.distillery.distill.metrics;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SymmetricEigenTest {
    static double[] randomSymmetric(Random r, int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) {
                double v = r.nextGaussian();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        return a;
    }

    static void assertDecomposition(double[] a, int n, SymmetricEigen.Result res, double tol) {
        // V^T V = I
        for (int p = 0; p < n; p++)
            for (int q = 0; q < n; q++) {
                double s = 0;
                for (int i = 0; i < n; i++) s += res.vector(i, p) * res.vector(i, q);
                assertEquals(p == q ? 1 : 0, s, tol, "orthogonality " + p + "," + q);
            }
        // A = V diag V^T
        double[] back = res.reconstruct(x -> x);
        for (int i = 0; i < n * n; i++) assertEquals(a[i], back[i], tol, "reconstruction at " + i);
        // ascending
        for (int i = 1; i < n; i++) assertEquals(true, res.values()[i - 1] <= res.values()[i]);
    }

    @Test
    void randomSymmetricMatricesDecompose() {
        Random r = new Random(7);
        for (int n : new int[] {1, 2, 3, 5, 17, 60}) {
            double[] a = randomSymmetric(r, n);
            SymmetricEigen.Result res = SymmetricEigen.decompose(a, n);
            assertDecomposition(a, n, res, 1e-11 * n);
            assertArrayEquals(res.values(), SymmetricEigen.eigenvalues(a, n), 1e-11 * n);
            double trace = 0, sum = 0;
            for (int i = 0; i < n; i++) { trace += a[i * n + i]; sum += res.values()[i]; }
            assertEquals(trace, sum, 1e-10 * n);
        }
    }

    @Test
    void knownSpectrumOfARotatedDiagonal() {
        // Q diag(1, 2, 2, 5) Q^T with a repeated eigenvalue, Q from Gram-Schmidt of random vectors.
        int n = 4;
        double[] lambda = {5, 2, 1, 2};
        Random r = new Random(3);
        double[] q = new double[n * n];
        for (int c = 0; c < n; c++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
            for (int p = 0; p < c; p++) {
                double d = 0;
                for (int i = 0; i < n; i++) d += v[i] * q[i * n + p];
                for (int i = 0; i < n; i++) v[i] -= d * q[i * n + p];
            }
            double norm = 0;
            for (double x : v) norm += x * x;
            norm = Math.sqrt(norm);
            for (int i = 0; i < n; i++) q[i * n + c] = v[i] / norm;
        }
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++) a[i * n + j] += q[i * n + k] * lambda[k] * q[j * n + k];
        SymmetricEigen.Result res = SymmetricEigen.decompose(a, n);
        assertArrayEquals(new double[] {1, 2, 2, 5}, res.values(), 1e-12);
        assertDecomposition(a, n, res, 1e-12);
    }

    @Test
    void diagonalZeroAndTridiagonalCases() {
        SymmetricEigen.Result d = SymmetricEigen.decompose(new double[] {3, 0, 0, 0, -1, 0, 0, 0, 2}, 3);
        assertArrayEquals(new double[] {-1, 2, 3}, d.values(), 1e-15);
        SymmetricEigen.Result z = SymmetricEigen.decompose(new double[9], 3);
        assertArrayEquals(new double[3], z.values(), 0);
        assertDecomposition(new double[9], 3, z, 0);
        // [[2,1],[1,2]] -> 1, 3
        assertArrayEquals(new double[] {1, 3}, SymmetricEigen.eigenvalues(new double[] {2, 1, 1, 2}, 2), 1e-15);
        // Path-graph Laplacian-like tridiagonal: eigenvalues 2 - 2 cos(k pi / (n + 1)).
        int n = 12;
        double[] t = new double[n * n];
        for (int i = 0; i < n; i++) {
            t[i * n + i] = 2;
            if (i + 1 < n) { t[i * n + i + 1] = -1; t[(i + 1) * n + i] = -1; }
        }
        double[] ev = SymmetricEigen.eigenvalues(t, n);
        for (int k = 1; k <= n; k++) assertEquals(2 - 2 * Math.cos(k * Math.PI / (n + 1)), ev[k - 1], 1e-13);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.decompose(new double[3], 2));
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.decompose(new double[] {Double.NaN}, 1));
    }
}
