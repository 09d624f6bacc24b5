package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;

/** Group normalisation over [N, C, ...]; affine weight (ones) and bias (zeros) of [C]. */
public final class GroupNorm extends Module {
    public final int groups;
    public final double eps;
    public final Parameter weight;
    public final Parameter bias;

    public GroupNorm(int groups, int channels, double eps, boolean affine) {
        if (groups < 1 || channels % groups != 0) throw new IllegalArgumentException("GroupNorm: " + channels + " channels not divisible into " + groups + " groups");
        this.groups = groups;
        this.eps = eps;
        this.weight = affine ? parameter("weight", Init.ones(channels)) : null;
        this.bias = affine ? parameter("bias", Init.zeros(channels)) : null;
    }

    public Variable forward(Variable x) {
        return x.groupNorm(groups, weight, bias, eps);
    }

    /** {@code silu(forward(x))} as one fused op (the UNet's and VAE's norm-then-activation). */
    public Variable forwardSilu(Variable x) {
        return x.groupNorm(groups, weight, bias, eps, true);
    }
}
