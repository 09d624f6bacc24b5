package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrechetDistanceTest {
    static double[] correlatedRows(Random r, int n, int dim) {
        double[] mix = new double[dim * dim];
        for (int i = 0; i < mix.length; i++) mix[i] = r.nextGaussian();
        double[] x = new double[n * dim];
        double[] z = new double[dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) z[d] = r.nextGaussian();
            for (int d = 0; d < dim; d++) {
                double s = 0.5 * d;
                for (int e = 0; e < dim; e++) s += z[e] * mix[e * dim + d];
                x[i * dim + d] = s;
            }
        }
        return x;
    }

    @Test
    void identicalSetsAreAtDistanceZero() {
        Random r = new Random(11);
        int n = 200, dim = 6;
        double[] x = correlatedRows(r, n, dim);
        Tensor t = Tensor.of(x, n, dim);
        assertEquals(0, FrechetDistance.compute(t, t), 1e-9);
        // Rank-deficient covariance (fewer samples than features): the null directions' rounding-level eigenvalues
        // must not leak ~1e-8 each into the trace of the root.
        int small = 5, wide = 12;
        double[] y = correlatedRows(r, small, wide);
        double d = FrechetDistance.compute(Tensor.of(y, small, wide), Tensor.of(y, small, wide));
        assertEquals(0, d, 1e-9);
    }

    @Test
    void diagonalGaussiansMatchClosedForm() {
        double[] mu1 = {1, -2, 0.5}, mu2 = {0, 1, 0.5};
        double[] a = {4, 1, 0.25}, b = {1, 9, 0.36};
        double expected = 1 + 9 + 0;
        for (int i = 0; i < 3; i++) expected += Math.pow(Math.sqrt(a[i]) - Math.sqrt(b[i]), 2);
        assertEquals(expected, FrechetDistance.compute(mu1, diag(a), mu2, diag(b)), 1e-12);
    }

    @Test
    void rotatedNonDiagonalGaussiansMatchTwoByTwoClosedForm() {
        double[] mu1 = {0.3, -1}, mu2 = {-0.7, 2};
        double[] s1 = rotated(0.6, 3, 0.5);
        double[] s2 = rotated(-1.1, 0.2, 2.5);
        assertEquals(s1[1], s1[2], 0);
        double closed = closedForm2x2(mu1, s1, mu2, s2);
        assertEquals(closed, FrechetDistance.compute(mu1, s1, mu2, s2), 1e-12);
        assertEquals(closed, FrechetDistance.compute(mu2, s2, mu1, s1), 1e-12);
    }

    @Test
    void samplesWithExactMomentsMatchClosedForm() {
        Random r = new Random(5);
        double[] mu1 = {1, 2}, mu2 = {-0.5, 0};
        double[] s1 = rotated(0.4, 2, 0.3), s2 = rotated(1.3, 1.5, 0.1);
        double[] x = exactMoments(r, 300, mu1, s1), y = exactMoments(r, 170, mu2, s2);
        double fid = FrechetDistance.compute(Tensor.of(x, 300, 2), Tensor.of(y, 170, 2));
        assertEquals(closedForm2x2(mu1, s1, mu2, s2), fid, 1e-9);
    }

    @Test
    void invariantToSampleOrderAndSymmetric() {
        Random r = new Random(9);
        int n = 150, m = 120, dim = 7;
        double[] x = correlatedRows(r, n, dim), y = correlatedRows(r, m, dim);
        double fid = FrechetDistance.compute(Tensor.of(x, n, dim), Tensor.of(y, m, dim));
        assertTrue(fid > 1, "different distributions should be far apart, got " + fid);
        double[] shuffled = x.clone();
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            for (int d = 0; d < dim; d++) {
                double t = shuffled[i * dim + d];
                shuffled[i * dim + d] = shuffled[j * dim + d];
                shuffled[j * dim + d] = t;
            }
        }
        assertEquals(fid, FrechetDistance.compute(Tensor.of(shuffled, n, dim), Tensor.of(y, m, dim)), 1e-10 * fid);
        assertEquals(fid, FrechetDistance.compute(Tensor.of(y, m, dim), Tensor.of(x, n, dim)), 1e-10 * fid);
        // A pure translation by c adds nothing to the trace term: FID = ||c||^2.
        double[] moved = x.clone();
        double[] c = {1, -1, 0.5, 0, 2, 0, -0.25};
        double norm2 = 0;
        for (double v : c) norm2 += v * v;
        for (int i = 0; i < n; i++) for (int d = 0; d < dim; d++) moved[i * dim + d] += c[d];
        assertEquals(norm2, FrechetDistance.compute(Tensor.of(x, n, dim), Tensor.of(moved, n, dim)), 1e-9);
    }

    @Test
    void streamedStatisticsGiveTheSameDistance() {
        Random r = new Random(13);
        int n = 90, dim = 5;
        double[] x = correlatedRows(r, n, dim), y = correlatedRows(r, n, dim);
        FeatureStatistics sx = new FeatureStatistics(dim), sy = new FeatureStatistics(dim);
        for (int start = 0; start < n; start += 32) {
            int len = Math.min(32, n - start);
            sx.add(Tensor.of(java.util.Arrays.copyOfRange(x, start * dim, (start + len) * dim), len, dim));
            sy.add(Tensor.of(java.util.Arrays.copyOfRange(y, start * dim, (start + len) * dim), len, dim));
        }
        double whole = FrechetDistance.compute(Tensor.of(x, n, dim), Tensor.of(y, n, dim));
        assertEquals(whole, FrechetDistance.compute(sx, sy), 1e-10 * Math.max(1, whole));
    }

    @Test
    @SuppressWarnings("unchecked")
    void matchesNumpyFixture() throws IOException, Json.ParseException {
        byte[] bytes;
        try (InputStream in = FrechetDistanceTest.class.getResourceAsStream("/metrics/fid_fixture.json")) {
            assertNotNull(in, "fixture missing; run gen_fid_fixture.py");
            bytes = in.readAllBytes();
        }
        Map<String, Object> root = (Map<String, Object>) Json.parse(bytes);
        List<Object> cases = (List<Object>) root.get("cases");
        assertEquals(2, cases.size());
        for (Object o : cases) {
            Map<String, Object> c = (Map<String, Object>) o;
            int dim = (int) ((Json.Num) c.get("dim")).asNonNegativeLong();
            Tensor a = rows((List<Object>) c.get("a"), dim), b = rows((List<Object>) c.get("b"), dim);
            double expected = ((Json.Num) c.get("fid")).asDouble();
            assertEquals(expected, FrechetDistance.compute(a, b), 1e-9 * Math.max(1, expected), (String) c.get("name"));
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        Tensor a = Tensor.of(new double[6], 3, 2), b = Tensor.of(new double[9], 3, 3);
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.compute(a, b));
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.compute(Tensor.of(new double[6], 6), a));
    }

    @SuppressWarnings("unchecked")
    private static Tensor rows(List<Object> list, int dim) {
        double[] x = new double[list.size() * dim];
        for (int i = 0; i < list.size(); i++) {
            List<Object> row = (List<Object>) list.get(i);
            assertEquals(dim, row.size());
            for (int d = 0; d < dim; d++) x[i * dim + d] = ((Json.Num) row.get(d)).asDouble();
        }
        return Tensor.of(x, list.size(), dim);
    }

    static double[] diag(double[] v) {
        int n = v.length;
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) m[i * n + i] = v[i];
        return m;
    }

    /** R(theta) diag(a, b) R(theta)^T. */
    static double[] rotated(double theta, double a, double b) {
        double c = Math.cos(theta), s = Math.sin(theta);
        return new double[] {a * c * c + b * s * s, (a - b) * c * s, (a - b) * c * s, a * s * s + b * c * c};
    }

    /**
     * Independent 2x2 closed form: for a 2x2 matrix with non-negative eigenvalues l1, l2,
     * Tr sqrt(M) = sqrt(l1) + sqrt(l2) = sqrt(Tr M + 2 sqrt(det M)); with M = S1 S2, det M = det S1 det S2.
     */
    static double closedForm2x2(double[] mu1, double[] s1, double[] mu2, double[] s2) {
        double trProd = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
        double det = (s1[0] * s1[3] - s1[1] * s1[2]) * (s2[0] * s2[3] - s2[1] * s2[2]);
        double trSqrt = Math.sqrt(trProd + 2 * Math.sqrt(det));
        double dm = Math.pow(mu1[0] - mu2[0], 2) + Math.pow(mu1[1] - mu2[1], 2);
        return dm + s1[0] + s1[3] + s2[0] + s2[3] - 2 * trSqrt;
    }

    /** n 2-D samples whose sample mean is exactly mu and (N-1) sample covariance exactly s (up to rounding). */
    static double[] exactMoments(Random r, int n, double[] mu, double[] s) {
        double[] z = new double[n * 2];
        for (int i = 0; i < z.length; i++) z[i] = r.nextGaussian();
        double m0 = 0, m1 = 0;
        for (int i = 0; i < n; i++) { m0 += z[2 * i]; m1 += z[2 * i + 1]; }
        m0 /= n;
        m1 /= n;
        double c00 = 0, c01 = 0, c11 = 0;
        for (int i = 0; i < n; i++) {
            z[2 * i] -= m0;
            z[2 * i + 1] -= m1;
            c00 += z[2 * i] * z[2 * i];
            c01 += z[2 * i] * z[2 * i + 1];
            c11 += z[2 * i + 1] * z[2 * i + 1];
        }
        c00 /= n - 1;
        c01 /= n - 1;
        c11 /= n - 1;
        // Whiten with the inverse Cholesky factor of the sample covariance, colour with the Cholesky factor of s.
        double l00 = Math.sqrt(c00), l10 = c01 / l00, l11 = Math.sqrt(c11 - l10 * l10);
        double k00 = Math.sqrt(s[0]), k10 = s[2] / k00, k11 = Math.sqrt(s[3] - k10 * k10);
        double[] x = new double[n * 2];
        for (int i = 0; i < n; i++) {
            double w0 = z[2 * i] / l00;
            double w1 = (z[2 * i + 1] - l10 * w0) / l11;
            x[2 * i] = mu[0] + k00 * w0;
            x[2 * i + 1] = mu[1] + k10 * w0 + k11 * w1;
        }
        return x;
    }
}
