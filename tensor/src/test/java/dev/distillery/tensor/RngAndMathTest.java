package dev.distillery.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RngAndMathTest {
    @Test
    void sameSeedSameTensorsAndStreamAdvances() {
        Rng a = new Rng(42), b = new Rng(42);
        Tensor x1 = Tensor.randn(a, DType.F32, 1000), x2 = Tensor.randn(b, DType.F32, 1000);
        assertArrayEquals(x1.toFloatArray(), x2.toFloatArray());
        assertEquals(1000, a.offset());
        Tensor y = Tensor.randn(a, DType.F32, 1000);
        assertFalse(java.util.Arrays.equals(x1.toFloatArray(), y.toFloatArray()));
        // Drawing 2 x 500 gives the same values as 1 x 1000: draws depend on (seed, counter) only.
        Rng c = new Rng(42);
        float[] h1 = Tensor.randn(c, DType.F32, 500).toFloatArray(), h2 = Tensor.randn(c, DType.F32, 500).toFloatArray();
        float[] all = x1.toFloatArray();
        for (int i = 0; i < 500; i++) {
            assertEquals(all[i], h1[i]);
            assertEquals(all[500 + i], h2[i]);
        }
    }

    @Test
    void normalAndUniformMoments() {
        double[] n = Tensor.randn(new Rng(7), DType.F64, 200_000).toDoubleArray();
        double m = 0, v = 0;
        for (double d : n) m += d;
        m /= n.length;
        for (double d : n) v += (d - m) * (d - m);
        v /= n.length;
        // Standard errors: mean 1/sqrt(2e5) ~ 0.0022, variance ~ 0.0032; allow 5 sigma.
        assertEquals(0, m, 0.011);
        assertEquals(1, v, 0.016);
        double[] u = Tensor.uniform(new Rng(8), -2, 3, DType.F64, 100_000).toDoubleArray();
        double um = 0;
        for (double d : u) {
            assertTrue(d >= -2 && d < 3);
            um += d;
        }
        assertEquals(0.5, um / u.length, 0.03);
    }

    @Test
    void randintAndRandperm() {
        long[] r = Tensor.randint(new Rng(3), -2, 5, 10_000).toLongArray();
        int[] counts = new int[7];
        for (long x : r) {
            assertTrue(x >= -2 && x < 5);
            counts[(int) (x + 2)]++;
        }
        for (int c : counts) assertTrue(c > 1200 && c < 1650, "bucket count " + c);
        long[] p = Tensor.randperm(new Rng(4), 100).toLongArray();
        boolean[] seen = new boolean[100];
        for (long x : p) {
            assertFalse(seen[(int) x]);
            seen[(int) x] = true;
        }
        assertArrayEquals(p, Tensor.randperm(new Rng(4), 100).toLongArray());
    }

    @Test
    void erfMatchesPublishedValues() {
        // Values from Abramowitz & Stegun table 7.1 / high-precision tables.
        assertEquals(0.0, MathFunctions.erf(0), 0);
        assertEquals(0.5204998778130465, MathFunctions.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, MathFunctions.erf(1), 1e-15);
        assertEquals(0.9953222650189527, MathFunctions.erf(2), 1e-15);
        assertEquals(-0.9999779095030014, MathFunctions.erf(-3), 1e-15);
        assertEquals(0.9999992569016276, MathFunctions.erf(3.5), 1e-15);
        assertEquals(1.0, MathFunctions.erf(30), 0);
        assertTrue(Double.isNaN(MathFunctions.erf(Double.NaN)));
    }

    @Test
    void deviceParsing() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(new Device("tornado", 1), Device.parse("tornado:1"));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("tornado:x"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(DType.F32, new Device("tornado", 0), 2));
        assertTrue(e.getMessage().contains("TornadoVM"), e.getMessage());
    }
}
