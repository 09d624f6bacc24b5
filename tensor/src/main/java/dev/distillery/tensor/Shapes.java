package dev.distillery.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by the front end and the backends. */
public final class Shapes {
    private Shapes() {}

    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor of shape " + str(shape) + " has more than 2^31-1 elements");
        return (int) n;
    }

    /** Row-major strides of a contiguous tensor. */
    public static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    /** NumPy/PyTorch broadcasting; {@code op} names the operation in the error. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
            int db = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Normalises a possibly negative dim against a rank. */
    public static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) throw new IllegalArgumentException(op + ": dim " + dim + " out of range for a tensor of rank " + rank);
        return d;
    }

    /**
     * The shape {@code shape} takes when reshaped to {@code newShape} (at most one -1, inferred); {@code op} names the
     * operation in the error when the element counts differ.
     */
    public static int[] reshaped(String op, int[] shape, int[] newShape) {
        int[] ns = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < ns.length; i++) {
            if (ns[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": more than one -1 in " + str(newShape));
                infer = i;
            } else if (ns[i] < 0) throw new IllegalArgumentException(op + ": negative size in " + str(newShape));
            else known *= ns[i];
        }
        int n = numel(shape);
        if (infer >= 0) {
            if (known == 0 || n % known != 0) throw new IllegalArgumentException(op + ": cannot infer -1 in " + str(newShape) + " for " + n + " elements (shape " + str(shape) + ")");
            ns[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + str(newShape) + " has " + known + " elements, tensor of shape " + str(shape) + " has " + n);
        }
        return ns;
    }

    /** {@code shape} with dims {@code start..end} (inclusive, possibly negative) merged into one; a 0-d shape gives [1]. */
    public static int[] flattened(String op, int[] shape, int start, int end) {
        if (shape.length == 0) return new int[]{1};
        int s = dim(op, start, shape.length), e = dim(op, end, shape.length);
        if (e < s) throw new IllegalArgumentException(op + ": end dim " + end + " before start dim " + start);
        int[] ns = new int[shape.length - (e - s)];
        int k = 0, m = 1;
        for (int i = 0; i < shape.length; i++) {
            if (i < s || i > e) ns[k++] = shape[i];
            else {
                m *= shape[i];
                if (i == e) ns[k++] = m;
            }
        }
        return ns;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
