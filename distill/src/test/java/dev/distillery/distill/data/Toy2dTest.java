package dev.distillery.distill.data;

import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

class Toy2dTest {
    private static final int N = 100_000;

    /** {mean x, mean y, var x, var y, cov xy}. */
    private static double[] moments(Tensor pts) {
        float[] p = pts.toFloatArray();
        int n = p.length / 2;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += p[2 * i];
            my += p[2 * i + 1];
        }
        mx /= n;
        my /= n;
        double vx = 0, vy = 0, c = 0;
        for (int i = 0; i < n; i++) {
            double dx = p[2 * i] - mx, dy = p[2 * i + 1] - my;
            vx += dx * dx;
            vy += dy * dy;
            c += dx * dy;
        }
        return new double[]{mx, my, vx / n, vy / n, c / n};
    }

    @Test
    void samplersAreSeededAndShaped() {
        for (Toy2d.Kind k : Toy2d.Kind.values()) {
            Tensor a = Toy2d.sample(k, new Rng(7), 100), b = Toy2d.sample(k, new Rng(7), 100), c = Toy2d.sample(k, new Rng(8), 100);
            assertArrayEquals(new int[]{100, 2}, a.shape());
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), k.name());
            assertFalse(java.util.Arrays.equals(a.toFloatArray(), c.toFloatArray()), k.name());
        }
        Dataset ds = Toy2d.dataset(Toy2d.Kind.RING8, 10, 3);
        assertEquals(10, ds.size());
        assertArrayEquals(new int[]{2}, ds.get(4).image().shape());
    }

    @Test
    void ringMoments() {
        double[] m = moments(Toy2d.ring8(new Rng(1), N));
        double var = Toy2d.RING_RADIUS * Toy2d.RING_RADIUS / 2 + Toy2d.RING_STD * Toy2d.RING_STD;
        assertEquals(0, m[0], 0.03);
        assertEquals(0, m[1], 0.03);
        assertEquals(var, m[2], 0.03);
        assertEquals(var, m[3], 0.03);
        assertEquals(0, m[4], 0.03);
        // every point lies near one of the 8 centres
        float[] p = Toy2d.ring8(new Rng(2), 1000).toFloatArray();
        for (int i = 0; i < 1000; i++) {
            double r = Math.hypot(p[2 * i], p[2 * i + 1]);
            assertEquals(Toy2d.RING_RADIUS, r, 6 * Toy2d.RING_STD);
        }
    }

    @Test
    void checkerboardMoments() {
        Tensor t = Toy2d.checkerboard(new Rng(3), N);
        double[] m = moments(t);
        assertEquals(0, m[0], 0.02);
        assertEquals(0, m[1], 0.02);
        assertEquals(4.0 / 3, m[2], 0.02);
        assertEquals(4.0 / 3, m[3], 0.02);
        assertEquals(0.25, m[4], 0.02); // mean of cell-centre products over the 8 filled cells
        float[] p = t.toFloatArray();
        for (int i = 0; i < 2000; i++) {
            int cx = (int) Math.floor(p[2 * i] + 2), cy = (int) Math.floor(p[2 * i + 1] + 2);
            assertEquals(0, (cx + cy) % 2, "point in an empty cell");
        }
    }

    @Test
    void swissRollMomentsMatchQuadrature() {
        double lo = 1.5 * Math.PI, hi = 4.5 * Math.PI;
        DoubleUnaryOperator fx = t -> t * Math.cos(t) / 5, fy = t -> t * Math.sin(t) / 5;
        double ex = integrate(fx, lo, hi), ey = integrate(fy, lo, hi);
        double ex2 = integrate(t -> fx.applyAsDouble(t) * fx.applyAsDouble(t), lo, hi);
        double ey2 = integrate(t -> fy.applyAsDouble(t) * fy.applyAsDouble(t), lo, hi);
        double nv = Toy2d.SWISS_ROLL_NOISE * Toy2d.SWISS_ROLL_NOISE;
        double[] m = moments(Toy2d.swissRoll(new Rng(4), N));
        assertEquals(ex, m[0], 0.02);
        assertEquals(ey, m[1], 0.02);
        assertEquals(ex2 - ex * ex + nv, m[2], 0.03);
        assertEquals(ey2 - ey * ey + nv, m[3], 0.03);
    }

    /** Mean of f over [lo, hi] (Simpson). */
    private static double integrate(DoubleUnaryOperator f, double lo, double hi) {
        int n = 20_000;
        double h = (hi - lo) / n, s = f.applyAsDouble(lo) + f.applyAsDouble(hi);
        for (int i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * f.applyAsDouble(lo + i * h);
        return s * h / 3 / (hi - lo);
    }
}
