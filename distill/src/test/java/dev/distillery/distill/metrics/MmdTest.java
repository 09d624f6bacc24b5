package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static java.lang.Math.exp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MmdTest {
    @Test
    void matchesHandComputedValueOnThreePoints() {
        // X = {0, 1, 3}, Y = {0.5, 2, 4}, sigma = 1: k(d) = exp(-d^2 / 2).
        double xx = exp(-0.5) + exp(-4.5) + exp(-2); // |0-1|, |0-3|, |1-3|
        double yy = exp(-1.125) + exp(-6.125) + exp(-2); // 1.5, 3.5, 2
        double xy = exp(-0.125) + exp(-2) + exp(-8) // 0 vs 0.5, 2, 4
                + exp(-0.125) + exp(-0.5) + exp(-4.5) // 1 vs ...
                + exp(-3.125) + exp(-0.5) + exp(-0.5); // 3 vs ...
        double expected = 2 * xx / 6 + 2 * yy / 6 - 2 * xy / 9;
        Mmd.Result res = Mmd.compute(Tensor.of(new double[] {0, 1, 3}, 3, 1), Tensor.of(new double[] {0.5, 2, 4}, 3, 1), 1);
        assertEquals(expected, res.mmd2(), 1e-15);
        assertEquals(1, res.bandwidth(), 0);
    }

    @Test
    void medianHeuristicOnThePooledSample() {
        // Pooled {0, 0.5, 1, 2, 3, 4}: 15 distances sorted 0.5 0.5 1 1 1 1 1.5 [2] 2 2 2.5 3 3 3.5 4 -> median 2.
        Tensor x = Tensor.of(new double[] {0, 1, 3}, 3, 1), y = Tensor.of(new double[] {0.5, 2, 4}, 3, 1);
        Mmd.Result res = Mmd.computeMedianHeuristic(x, y);
        assertEquals(2, res.bandwidth(), 0);
        assertEquals(Mmd.compute(x, y, 2).mmd2(), res.mmd2(), 0);
        // All points coincide: falls back to bandwidth 1.
        Tensor z = Tensor.of(new double[] {1, 1, 1, 1}, 2, 2);
        assertEquals(1, Mmd.computeMedianHeuristic(z, z).bandwidth(), 0);
    }

    @Test
    void nearZeroForOneDistributionPositiveForDifferentOnes() {
        Random r = new Random(21);
        int n = 400, dim = 3;
        double[] a = new double[n * dim], b = new double[n * dim], c = new double[n * dim];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextGaussian();
            b[i] = r.nextGaussian();
            c[i] = r.nextGaussian() * 1.5 + 0.5;
        }
        Tensor ta = Tensor.of(a, n, dim), tb = Tensor.of(b, n, dim), tc = Tensor.of(c, n, dim);
        double same = Mmd.computeMedianHeuristic(ta, tb).mmd2();
        double diff = Mmd.computeMedianHeuristic(ta, tc).mmd2();
        assertTrue(Math.abs(same) < 0.005, "same distribution: " + same);
        assertTrue(diff > 0.05, "different distributions: " + diff);
        assertEquals(Mmd.compute(ta, tc, 1.3).mmd2(), Mmd.compute(tc, ta, 1.3).mmd2(), 1e-12);
    }

    @Test
    void rejectsBadArguments() {
        Tensor x = Tensor.of(new double[] {0, 1}, 2, 1);
        assertThrows(IllegalArgumentException.class, () -> Mmd.compute(x, x, 0));
        assertThrows(IllegalArgumentException.class, () -> Mmd.compute(x, x, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Mmd.compute(Tensor.of(new double[] {0}, 1, 1), x, 1));
        assertThrows(IllegalArgumentException.class, () -> Mmd.compute(x, Tensor.of(new double[4], 2, 2), 1));
    }
}
