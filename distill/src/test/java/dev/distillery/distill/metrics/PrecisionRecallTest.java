package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrecisionRecallTest {
    static double[] gaussian(Random r, int n, int dim, double shift) {
        double[] x = new double[n * dim];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian() + shift;
        return x;
    }

    @Test
    void identicalSetsHavePerfectPrecisionAndRecall() {
        Random r = new Random(1);
        int n = 300, dim = 4;
        Tensor t = Tensor.of(gaussian(r, n, dim, 0), n, dim);
        PrecisionRecall.Result res = PrecisionRecall.compute(t, t);
        assertEquals(1.0, res.precision(), 0);
        assertEquals(1.0, res.recall(), 0);
        assertEquals(3, res.k());
    }

    /** Shifted along the diagonal by 0, 1 and 6 per coordinate. (At a shift of 3 the score still depends much on
     * the draw: a few tail points with large k-NN radii cover many shifted points; numpy gives 0.04 to 0.49.) */
    @Test
    void shiftedSetsScoreLowerTheFurtherTheyMove() {
        Random r = new Random(2);
        int n = 400, dim = 2;
        double[] real = gaussian(r, n, dim, 0);
        double prevP = 2, prevR = 2;
        for (double shift : new double[] {0, 1, 6}) {
            double[] fake = gaussian(r, n, dim, shift);
            PrecisionRecall.Result res = PrecisionRecall.compute(real, n, fake, n, dim, 3);
            assertTrue(res.precision() < prevP && res.recall() < prevR, "shift " + shift + ": " + res);
            prevP = res.precision();
            prevR = res.recall();
            if (shift == 0) assertTrue(res.precision() > 0.85 && res.recall() > 0.85, res.toString());
            if (shift == 6) assertTrue(res.precision() < 0.05 && res.recall() < 0.05, res.toString());
        }
    }

    @Test
    void swappingRolesSwapsPrecisionAndRecall() {
        Random r = new Random(3);
        int n = 200, m = 150, dim = 3;
        double[] a = gaussian(r, n, dim, 0), b = gaussian(r, m, dim, 0.7);
        PrecisionRecall.Result ab = PrecisionRecall.compute(a, n, b, m, dim, 5);
        PrecisionRecall.Result ba = PrecisionRecall.compute(b, m, a, n, dim, 5);
        assertEquals(ab.precision(), ba.recall(), 0);
        assertEquals(ab.recall(), ba.precision(), 0);
    }

    @Test
    void modeCollapseKeepsPrecisionButLosesRecall() {
        Random r = new Random(4);
        int n = 300, dim = 2;
        double[] real = gaussian(r, n, dim, 0);
        double[] fake = gaussian(r, n, dim, 0);
        for (int i = 0; i < fake.length; i++) fake[i] *= 0.2; // collapsed to the centre
        PrecisionRecall.Result res = PrecisionRecall.compute(real, n, fake, n, dim, 3);
        assertTrue(res.precision() > 0.95, res.toString());
        assertTrue(res.recall() < 0.5, res.toString());
    }

    @Test
    void handComputedOneDimensionalCase() {
        // real {0,1,2,3}, k = 1: every real radius is 1. fake {0.5, 10, 3.9, 4.1}: 0.5 and 3.9 are within 1 of a real
        // point, 10 and 4.1 (1.1 from 3) are not -> precision 1/2. Fake radii (k = 1): 3.4, 5.9, 0.2, 0.2; every real
        // point is within 3.4 of 0.5 -> recall 1.
        double[] real = {0, 1, 2, 3}, fake = {0.5, 10, 3.9, 4.1};
        PrecisionRecall.Result res = PrecisionRecall.compute(real, 4, fake, 4, 1, 1);
        assertEquals(0.5, res.precision(), 0);
        assertEquals(1.0, res.recall(), 0);
        // k = 3: distances to the other real points are 0: {1,2,3}, 1: {1,1,2}, 2: {1,1,2}, 3: {1,2,3}, so the radii
        // are 3, 2, 2, 3. Fake 10 is 7 from 3: out; 4.1 is 1.1 from 3: in -> precision 3/4.
        assertEquals(0.75, PrecisionRecall.compute(real, 4, fake, 4, 1, 3).precision(), 0);
    }

    @Test
    void rejectsBadArguments() {
        double[] x = {0, 1, 2};
        assertThrows(IllegalArgumentException.class, () -> PrecisionRecall.compute(x, 3, x, 3, 1, 3));
        assertThrows(IllegalArgumentException.class, () -> PrecisionRecall.compute(x, 3, x, 3, 1, 0));
        assertThrows(IllegalArgumentException.class,
                () -> PrecisionRecall.compute(Tensor.of(new double[8], 4, 2), Tensor.of(new double[12], 4, 3)));
    }
}
