package dev.distillery.tensor.testing;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Closeness assertions and awkward test inputs shared by every module's tests. */
public final class TensorAsserts {
    private TensorAsserts() {}

    /** Asserts same shape and {@code |a - e| <= atol + rtol |e|} everywhere (NaN matches NaN), reporting the worst element. */
    public static void assertClose(Tensor expected, Tensor actual, double rtol, double atol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < e.length; i++) {
            boolean nanE = Double.isNaN(e[i]), nanA = Double.isNaN(a[i]);
            if (nanE || nanA) {
                if (nanE != nanA) fail(what + ": NaN mismatch at linear index " + i + ": expected " + e[i] + ", got " + a[i]);
                continue;
            }
            if (e[i] == a[i]) continue;
            double excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
            if (excess > worstExcess) {
                worstExcess = excess;
                worst = i;
            }
        }
        if (worst >= 0)
            fail(what + ": shape " + Shapes.str(expected.shape()) + ", element " + worst + " expected " + e[worst] + " got " + a[worst]
                    + " (|diff| " + Math.abs(a[worst] - e[worst]) + " > atol " + atol + " + rtol " + rtol + " * |expected|)");
    }

    /** Bit-for-bit equality of shape, dtype and values. */
    public static void assertIdentical(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        if (expected.dtype() != actual.dtype()) fail(what + ": dtype " + expected.dtype() + " vs " + actual.dtype());
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++)
            if (Double.doubleToLongBits(e[i]) != Double.doubleToLongBits(a[i]))
                fail(what + ": element " + i + " expected " + e[i] + " got " + a[i]);
    }

    /** Standard normal values of the given shape. */
    public static Tensor randn(long seed, DType dtype, int... shape) {
        return Tensor.randn(new Rng(seed), dtype, shape);
    }

    /**
     * The same values as {@code randn(seed, dtype, shape)} but laid out non-contiguously: stored with the last two dims
     * swapped and then transposed back, inside a larger storage with an offset.
     */
    public static Tensor randnStrided(long seed, DType dtype, int... shape) {
        Tensor t = randn(seed, dtype, shape);
        if (shape.length < 2) {
            Tensor big = Tensor.zeros(dtype, shape.length == 0 ? 3 : shape[0] * 2 + 1);
            if (shape.length == 0) return t;
            Tensor view = big.slice(0, 1, big.size(0), 2);
            return view.copyFrom(t);
        }
        int[] swapped = shape.clone();
        swapped[shape.length - 1] = shape[shape.length - 2];
        swapped[shape.length - 2] = shape[shape.length - 1];
        int[] padded = swapped.clone();
        padded[0] += 1;
        Tensor storage = Tensor.zeros(dtype, padded).narrow(0, 1, swapped[0]);
        Tensor view = storage.transpose(-1, -2);
        view.copyFrom(t);
        return view;
    }

    public static String str(int... shape) {
        return Arrays.toString(shape);
    }
}
