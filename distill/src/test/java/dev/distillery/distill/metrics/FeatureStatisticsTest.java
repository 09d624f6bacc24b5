package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FeatureStatisticsTest {
    static double[] randomRows(Random r, int n, int dim, double offset) {
        double[] x = new double[n * dim];
        for (int i = 0; i < x.length; i++) x[i] = offset + r.nextGaussian() * (1 + i % dim);
        return x;
    }

    /** Two-pass textbook mean and (N-1) covariance. */
    static double[][] twoPass(double[] x, int n, int dim) {
        double[] mu = new double[dim];
        for (int i = 0; i < n; i++) for (int d = 0; d < dim; d++) mu[d] += x[i * dim + d];
        for (int d = 0; d < dim; d++) mu[d] /= n;
        double[] cov = new double[dim * dim];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < dim; p++)
                for (int q = 0; q < dim; q++) cov[p * dim + q] += (x[i * dim + p] - mu[p]) * (x[i * dim + q] - mu[q]);
        for (int i = 0; i < cov.length; i++) cov[i] /= n - 1;
        return new double[][] {mu, cov};
    }

    @Test
    void matchesTwoPassStatistics() {
        Random r = new Random(1);
        int n = 57, dim = 4;
        double[] x = randomRows(r, n, dim, 1000); // a large offset tests the centred accumulation
        double[][] ref = twoPass(x, n, dim);
        FeatureStatistics s = FeatureStatistics.of(x, n, dim);
        assertEquals(n, s.count());
        assertArrayEquals(ref[0], s.mean(), 1e-10);
        assertArrayEquals(ref[1], s.covariance(), 1e-9);
        FeatureStatistics t = FeatureStatistics.of(Tensor.of(x, n, dim));
        assertArrayEquals(s.mean(), t.mean(), 0);
        assertArrayEquals(s.covariance(), t.covariance(), 0);
    }

    @Test
    void streamingBatchesRowsAndMergeAgree() {
        Random r = new Random(2);
        int n = 50, dim = 3;
        double[] x = randomRows(r, n, dim, -3);
        FeatureStatistics whole = FeatureStatistics.of(x, n, dim);
        FeatureStatistics batched = new FeatureStatistics(dim);
        int[] cuts = {0, 1, 8, 8, 30, 50};
        for (int c = 0; c + 1 < cuts.length; c++)
            batched.add(Arrays.copyOfRange(x, cuts[c] * dim, cuts[c + 1] * dim), cuts[c + 1] - cuts[c]);
        FeatureStatistics rows = new FeatureStatistics(dim);
        for (int i = 0; i < n; i++) rows.addRow(Arrays.copyOfRange(x, i * dim, (i + 1) * dim));
        FeatureStatistics left = FeatureStatistics.of(Arrays.copyOfRange(x, 0, 20 * dim), 20, dim);
        FeatureStatistics right = FeatureStatistics.of(Arrays.copyOfRange(x, 20 * dim, n * dim), n - 20, dim);
        left.merge(right);
        for (FeatureStatistics s : new FeatureStatistics[] {batched, rows, left}) {
            assertEquals(n, s.count());
            assertArrayEquals(whole.mean(), s.mean(), 1e-12);
            assertArrayEquals(whole.covariance(), s.covariance(), 1e-11);
        }
    }

    @Test
    void rejectsTooFewSamplesAndBadShapes() {
        FeatureStatistics s = new FeatureStatistics(2);
        assertThrows(IllegalStateException.class, s::mean);
        s.addRow(new double[] {1, 2});
        assertThrows(IllegalStateException.class, s::covariance);
        assertThrows(IllegalArgumentException.class, () -> s.addRow(new double[3]));
        assertThrows(IllegalArgumentException.class, () -> s.add(new double[5], 2));
        assertThrows(IllegalArgumentException.class, () -> s.addRow(new double[] {1, Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> s.merge(new FeatureStatistics(3)));
    }
}
