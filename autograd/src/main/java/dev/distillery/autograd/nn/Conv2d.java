package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.backend.Conv2dParams;

/** 2-D convolution; weight [out, in/groups, k, k], bias [out]. */
public final class Conv2d extends Module {
    public final Parameter weight;
    public final Parameter bias;
    public final Conv2dParams params;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, Rng rng) {
        this(in, out, kernel, Conv2dParams.of(stride, padding), bias, rng);
    }

    public Conv2d(int in, int out, int kernel, Conv2dParams params, boolean bias, Rng rng) {
        if (in % params.groups() != 0 || out % params.groups() != 0)
            throw new IllegalArgumentException("Conv2d: channels " + in + " -> " + out + " not divisible by groups " + params.groups());
        int fanIn = in / params.groups() * kernel * kernel;
        this.params = params;
        this.weight = parameter("weight", Init.uniformFanIn(rng, fanIn, out, in / params.groups(), kernel, kernel));
        this.bias = bias ? parameter("bias", Init.uniformFanIn(rng, fanIn, out)) : null;
    }

    public Variable forward(Variable x) {
        return x.conv2d(weight, bias, params);
    }

    /** {@code forward(x).add(addend)} in one op ({@link Variable#conv2dAdd}): a residual or a time embedding added as it stores. */
    public Variable forward(Variable x, Variable addend) {
        return x.conv2dAdd(weight, bias, params, addend);
    }
}
