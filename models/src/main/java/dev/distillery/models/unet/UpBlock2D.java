package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/**
 * diffusers' {@code UpBlock2D}: {@code resnets.*} over [features, skip] concatenations, then
 * {@code upsamplers.0} (nearest x2 + conv) unless last. Resnet i takes
 * {@code (i == 0 ? prevOut : out) + (i == numLayers - 1 ? in : out)} channels.
 */
public final class UpBlock2D extends UpBlock {
    public final ModuleList<ResnetBlock2D> resnets;
    /** The upsampler, or null in the last block. */
    public final Upsample2D upsampler;

    public UpBlock2D(int in, int prevOut, int out, int temb, int numLayers, int groups, double eps, double dropout, boolean scaleShift,
                     boolean addUpsample, Rng rng) {
        resnets = child("resnets", new ModuleList<>());
        for (int i = 0; i < numLayers; i++)
            resnets.add(new ResnetBlock2D(resnetIn(i, numLayers, in, prevOut, out), out, temb, groups, eps, dropout, 1, scaleShift, rng));
        upsampler = addUpsample ? child("upsamplers", new ModuleList<Upsample2D>()).add(new Upsample2D(out, out, rng)) : null;
    }

    static int resnetIn(int i, int numLayers, int in, int prevOut, int out) {
        return (i == 0 ? prevOut : out) + (i == numLayers - 1 ? in : out);
    }

    @Override
    public int numResnets() {
        return resnets.size();
    }

    @Override
    public Variable forward(Variable x, List<Variable> skips, Variable temb, Variable context, int[] upsampleSize) {
        for (ResnetBlock2D r : resnets) x = r.forward(popSkip(x, skips), temb);
        return upsampler == null ? x : upsampler.forward(x, upsampleSize);
    }
}
