package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.backend.PadMode;

/**
 * diffusers' {@code Downsample2D} with {@code use_conv=True, name="op"}: a 3x3 convolution of stride 2 named
 * {@code conv}. With {@code padding=0} the input is first padded by one on the right and bottom (diffusers'
 * asymmetric padding); otherwise the convolution pads by {@code padding}.
 */
public final class Downsample2D extends Module {
    public final Conv2d conv;
    private final int padding;

    public Downsample2D(int channels, int outChannels, int padding, Rng rng) {
        conv = child("conv", new Conv2d(channels, outChannels, 3, 2, padding, true, rng));
        this.padding = padding;
    }

    public Variable forward(Variable x) {
        if (padding == 0) x = x.pad(new int[]{0, 1, 0, 1}, PadMode.CONSTANT, 0);
        return conv.forward(x);
    }
}
