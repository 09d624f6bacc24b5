package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;

/** {@code y = x W^T + b}; weight [out, in] and bias [out], named {@code weight} and {@code bias} as in PyTorch. */
public final class Linear extends Module {
    public final Parameter weight;
    public final Parameter bias;

    public Linear(int in, int out, boolean bias, Rng rng) {
        this.weight = parameter("weight", Init.uniformFanIn(rng, in, out, in));
        this.bias = bias ? parameter("bias", Init.uniformFanIn(rng, in, out)) : null;
    }

    public Variable forward(Variable x) {
        return x.matmul(weight.mT(), bias);
    }
}
