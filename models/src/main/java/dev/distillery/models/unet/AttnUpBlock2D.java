package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/**
 * diffusers' {@code AttnUpBlock2D} (UNet2DModel): as {@link UpBlock2D} with a spatial self-attention
 * {@link AttentionBlock} ({@code out / attentionHeadDim} heads) after each resnet. Registered as
 * {@code attentions}, {@code resnets}, {@code upsamplers}.
 */
public final class AttnUpBlock2D extends UpBlock {
    public final ModuleList<AttentionBlock> attentions;
    public final ModuleList<ResnetBlock2D> resnets;
    /** The upsampler, or null in the last block. */
    public final Upsample2D upsampler;

    public AttnUpBlock2D(int in, int prevOut, int out, int temb, int numLayers, int groups, double eps, double dropout, boolean scaleShift,
                         int attentionHeadDim, boolean addUpsample, Rng rng) {
        ModuleList<ResnetBlock2D> r = new ModuleList<>();
        ModuleList<AttentionBlock> a = new ModuleList<>();
        for (int i = 0; i < numLayers; i++) {
            r.add(new ResnetBlock2D(UpBlock2D.resnetIn(i, numLayers, in, prevOut, out), out, temb, groups, eps, dropout, 1, scaleShift, rng));
            a.add(new AttentionBlock(out, out / attentionHeadDim, attentionHeadDim, groups, eps, 1, rng));
        }
        attentions = child("attentions", a);
        resnets = child("resnets", r);
        upsampler = addUpsample ? child("upsamplers", new ModuleList<Upsample2D>()).add(new Upsample2D(out, out, rng)) : null;
    }

    @Override
    public int numResnets() {
        return resnets.size();
    }

    @Override
    public Variable forward(Variable x, List<Variable> skips, Variable temb, Variable context, int[] upsampleSize) {
        for (int i = 0; i < resnets.size(); i++) x = attentions.get(i).forward(resnets.get(i).forward(popSkip(x, skips), temb));
        return upsampler == null ? x : upsampler.forward(x, upsampleSize);
    }
}
