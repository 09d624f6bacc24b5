package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/** diffusers' {@code Upsample2D(use_conv=True)}: nearest-neighbour x2, then a 3x3 convolution {@code conv} (padding 1). */
public final class Upsample2D extends Module {
    public final Conv2d conv;

    public Upsample2D(int channels, Rng rng) {
        conv = child("conv", new Conv2d(channels, channels, 3, 1, 1, true, rng));
    }

    public Variable forward(Variable x) {
        return conv.forward(x.upsampleNearest(2 * x.size(2), 2 * x.size(3)));
    }
}
