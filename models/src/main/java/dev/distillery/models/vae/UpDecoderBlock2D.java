package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.unet.ResnetBlock2D;
import dev.distillery.models.unet.Upsample2D;
import dev.distillery.tensor.Rng;

/** diffusers' {@code UpDecoderBlock2D}: {@code resnets} (no time embedding), then optionally {@code upsamplers.0}. */
public final class UpDecoderBlock2D extends Module {
    public final ModuleList<ResnetBlock2D> resnets;
    public final Upsample2D upsampler;

    public UpDecoderBlock2D(int in, int out, int layers, int groups, double eps, boolean addUpsample, Rng rng) {
        resnets = child("resnets", new ModuleList<>());
        for (int i = 0; i < layers; i++) resnets.add(new ResnetBlock2D(i == 0 ? in : out, out, 0, groups, eps, 0, 1, rng));
        if (addUpsample) {
            ModuleList<Upsample2D> u = child("upsamplers", new ModuleList<>());
            upsampler = u.add(new Upsample2D(out, out, rng));
        } else {
            upsampler = null;
        }
    }

    public Variable forward(Variable x) {
        for (ResnetBlock2D r : resnets) x = r.forward(x, null);
        return upsampler == null ? x : upsampler.forward(x, null);
    }
}
