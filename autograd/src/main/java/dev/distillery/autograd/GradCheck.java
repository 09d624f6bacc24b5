package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;

import java.util.function.Function;

/**
 * Finite-difference gradient checks in float64. The function's output is contracted with a random, non-uniform
 * cotangent u (so the whole vector-Jacobian product is exercised, not just the gradient of a sum), and for each
 * input element the central difference (L(x + eps) - L(x - eps)) / 2 eps of L = sum(f(x) * u) is compared with the
 * analytic gradient from {@link Variable#backward(Tensor)}.
 */
public final class GradCheck {
    private GradCheck() {}

    /** Tolerances tighter than torch.autograd.gradcheck's defaults: in F64 with eps 1e-6 the central difference is accurate to ~1e-9, so a 0.1% error in a rule is caught. */
    public record Tolerance(double eps, double atol, double rtol) {
        public static final Tolerance DEFAULT = new Tolerance(1e-6, 1e-6, 1e-5);
    }

    /**
     * Checks {@code f} at {@code inputs} (F64). Inputs listed in {@code differentiable} get gradients; the others are
     * held constant. Throws AssertionError naming the input, the element and both values on mismatch.
     */
    public static void check(String what, Function<Variable[], Variable> f, Tensor[] inputs, boolean[] differentiable, Tolerance tol, long seed) {
        Variable[] vars = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (differentiable[i] && inputs[i].dtype() != DType.F64)
                throw new IllegalArgumentException(what + ": gradient checks run in F64; input " + i + " is " + inputs[i].dtype());
            vars[i] = differentiable[i] ? Variable.leaf(inputs[i].copy()) : Variable.constant(inputs[i]);
        }
        Variable out = f.apply(vars);
        Tensor u = Tensor.randn(new Rng(seed), DType.F64, out.shape()).add(0.5);
        out.backward(u);
        for (int i = 0; i < inputs.length; i++) {
            if (!differentiable[i]) continue;
            Tensor analytic = vars[i].grad() == null ? Tensor.zeros(DType.F64, inputs[i].shape()) : vars[i].grad();
            double[] a = analytic.toDoubleArray();
            Tensor x = inputs[i].copy();
            for (int j = 0; j < x.numel(); j++) {
                int at = x.storageIndex(j);
                double orig = x.storage().getDouble(at);
                x.storage().setDouble(at, orig + tol.eps());
                double plus = contract(f, inputs, i, x, u);
                x.storage().setDouble(at, orig - tol.eps());
                double minus = contract(f, inputs, i, x, u);
                x.storage().setDouble(at, orig);
                double numeric = (plus - minus) / (2 * tol.eps());
                if (Math.abs(a[j] - numeric) > tol.atol() + tol.rtol() * Math.abs(numeric))
                    throw new AssertionError(what + ": gradient of input " + i + " " + Shapes.str(inputs[i].shape()) + " at element " + j
                            + ": analytic " + a[j] + ", numeric " + numeric);
            }
        }
    }

    /** All inputs differentiable. */
    public static void check(String what, Function<Variable[], Variable> f, Tensor... inputs) {
        boolean[] all = new boolean[inputs.length];
        java.util.Arrays.fill(all, true);
        check(what, f, inputs, all, Tolerance.DEFAULT, 7);
    }

    private static double contract(Function<Variable[], Variable> f, Tensor[] inputs, int replaced, Tensor x, Tensor u) {
        Variable[] vars = new Variable[inputs.length];
        for (int k = 0; k < inputs.length; k++) vars[k] = Variable.constant(k == replaced ? x : inputs[k]);
        try (var ignored = NoGrad.enter()) {
            return f.apply(vars).value().mul(u).sum().item();
        }
    }
}
