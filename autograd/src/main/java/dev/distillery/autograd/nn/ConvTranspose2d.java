package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.backend.Conv2dParams;

/** Transposed 2-D convolution; weight [in, out/groups, k, k] as in PyTorch, bias [out]. */
public final class ConvTranspose2d extends Module {
    public final Parameter weight;
    public final Parameter bias;
    public final Conv2dParams params;

    public ConvTranspose2d(int in, int out, int kernel, Conv2dParams params, boolean bias, Rng rng) {
        if (in % params.groups() != 0 || out % params.groups() != 0)
            throw new IllegalArgumentException("ConvTranspose2d: channels " + in + " -> " + out + " not divisible by groups " + params.groups());
        // PyTorch computes fan-in from weight dim 1 (out/groups) for transposed convolutions.
        int fanIn = out / params.groups() * kernel * kernel;
        this.params = params;
        this.weight = parameter("weight", Init.uniformFanIn(rng, fanIn, in, out / params.groups(), kernel, kernel));
        this.bias = bias ? parameter("bias", Init.uniformFanIn(rng, fanIn, out)) : null;
    }

    public Variable forward(Variable x) {
        return x.convTranspose2d(weight, bias, params);
    }
}
