package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.unet.Downsample2D;
import dev.distillery.models.unet.ResnetBlock2D;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code DownEncoderBlock2D}: {@code resnets} (no time embedding), then optionally {@code downsamplers.0}
 * (with {@code padding=0}: zero-pad right and bottom by one, then a stride-2 3x3 convolution without padding).
 */
public final class DownEncoderBlock2D extends Module {
    public final ModuleList<ResnetBlock2D> resnets;
    public final Downsample2D downsampler;

    public DownEncoderBlock2D(int in, int out, int layers, int groups, double eps, boolean addDownsample, Rng rng) {
        resnets = child("resnets", new ModuleList<>());
        for (int i = 0; i < layers; i++) resnets.add(new ResnetBlock2D(i == 0 ? in : out, out, 0, groups, eps, 0, 1, rng));
        if (addDownsample) {
            ModuleList<Downsample2D> d = child("downsamplers", new ModuleList<>());
            downsampler = d.add(new Downsample2D(out, out, 0, rng));
        } else {
            downsampler = null;
        }
    }

    public Variable forward(Variable x) {
        for (ResnetBlock2D r : resnets) x = r.forward(x, null);
        return downsampler == null ? x : downsampler.forward(x);
    }
}
