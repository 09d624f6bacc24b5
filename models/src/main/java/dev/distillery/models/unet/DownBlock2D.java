package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/** diffusers' {@code DownBlock2D}: {@code resnets.*}, then {@code downsamplers.0} (a stride-2 conv) unless last. */
public final class DownBlock2D extends DownBlock {
    public final ModuleList<ResnetBlock2D> resnets;
    /** The downsampler, or null in the last block. */
    public final Downsample2D downsampler;

    public DownBlock2D(int in, int out, int temb, int numLayers, int groups, double eps, double dropout, boolean scaleShift,
                       boolean addDownsample, int downsamplePadding, Rng rng) {
        resnets = child("resnets", new ModuleList<>());
        for (int i = 0; i < numLayers; i++)
            resnets.add(new ResnetBlock2D(i == 0 ? in : out, out, temb, groups, eps, dropout, 1, scaleShift, rng));
        downsampler = addDownsample ? child("downsamplers", new ModuleList<Downsample2D>()).add(new Downsample2D(out, out, downsamplePadding, rng)) : null;
    }

    @Override
    public Variable forward(Variable x, Variable temb, Variable context, List<Variable> skips) {
        for (ResnetBlock2D r : resnets) {
            x = r.forward(x, temb);
            skips.add(x);
        }
        if (downsampler != null) {
            x = downsampler.forward(x);
            skips.add(x);
        }
        return x;
    }
}
