package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.backend.PadMode;

/**
 * diffusers' {@code Downsample2D(use_conv=True, padding=0)} as the VAE encoder uses it: zero-pad right and bottom by
 * one ({@code F.pad(x, (0, 1, 0, 1))}), then a 3x3 convolution {@code conv} with stride 2 and no padding: H x W becomes
 * floor(H/2) x floor(W/2).
 */
public final class Downsample2D extends Module {
    private static final int[] PAD = {0, 1, 0, 1};
    public final Conv2d conv;

    public Downsample2D(int channels, Rng rng) {
        conv = child("conv", new Conv2d(channels, channels, 3, 2, 0, true, rng));
    }

    public Variable forward(Variable x) {
        return conv.forward(x.pad(PAD, PadMode.CONSTANT, 0));
    }
}
