package dev.distillery.bench;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/** Helpers over what a {@link Workload} returns: a Tensor, arrays of them, records of them, nested. */
public final class Outputs {
    private Outputs() {}

    /** Every tensor in {@code result}, depth first. */
    public static List<Tensor> tensors(Object result) {
        List<Tensor> out = new ArrayList<>();
        collect(result, out);
        return out;
    }

    private static void collect(Object o, List<Tensor> out) {
        switch (o) {
            case null -> {}
            case Tensor t -> out.add(t);
            case Object[] arr -> { for (Object e : arr) collect(e, out); }
            case Iterable<?> it -> { for (Object e : it) collect(e, out); }
            case Record r -> {
                for (RecordComponent c : r.getClass().getRecordComponents()) {
                    try {
                        collect(c.getAccessor().invoke(r), out);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("cannot read " + c, e);
                    }
                }
            }
            default -> throw new IllegalArgumentException("not a tensor result: " + o.getClass().getName());
        }
    }

    /**
     * Checks that {@code result} holds at least one tensor and that all its floating-point values are finite;
     * returns the sum of all values (a checksum). Throws with the offending tensor's shape otherwise.
     */
    public static double checkFinite(Object result) {
        List<Tensor> ts = tensors(result);
        if (ts.isEmpty()) throw new IllegalStateException("workload returned no tensor");
        double sum = 0;
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32 && t.dtype() != DType.F64) continue;
            double[] v = t.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i]))
                    throw new IllegalStateException("non-finite value " + v[i] + " at flat index " + i + " of a tensor of shape "
                            + java.util.Arrays.toString(t.shape()));
                sum += v[i];
            }
        }
        return sum;
    }
}
