package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code Upsample2D} with {@code use_conv=True}: nearest-neighbour upsampling by 2 (or to an explicit
 * size, as UNet2DConditionModel passes when the input is not a multiple of the overall factor), then a 3x3
 * convolution named {@code conv}.
 */
public final class Upsample2D extends Module {
    public final Conv2d conv;

    public Upsample2D(int channels, int outChannels, Rng rng) {
        conv = child("conv", new Conv2d(channels, outChannels, 3, 1, 1, true, rng));
    }

    /** @param outputSize {h, w} to resize to, or null for twice the input size */
    public Variable forward(Variable x, int[] outputSize) {
        int h = outputSize == null ? 2 * x.size(2) : outputSize[0], w = outputSize == null ? 2 * x.size(3) : outputSize[1];
        return conv.forward(x.upsampleNearest(h, w));
    }
}
