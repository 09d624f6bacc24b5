package dev.distillery.autograd.nn;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/** PyTorch's default initialisations, so freshly built modules train like their PyTorch twins. */
public final class Init {
    private Init() {}

    /**
     * {@code kaiming_uniform_(a=sqrt(5))}, PyTorch's default for Linear and Conv weights, which reduces to
     * U(-1/sqrt(fanIn), 1/sqrt(fanIn)); the same bound is PyTorch's default for their biases.
     */
    public static Tensor uniformFanIn(Rng rng, int fanIn, int... shape) {
        double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        return Tensor.uniform(rng, -bound, bound, DType.F32, shape);
    }
}
