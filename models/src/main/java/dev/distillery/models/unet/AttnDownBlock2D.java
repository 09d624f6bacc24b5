package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/**
 * diffusers' {@code AttnDownBlock2D} (UNet2DModel): each resnet is followed by a spatial self-attention
 * {@link AttentionBlock} with {@code out / attentionHeadDim} heads of {@code attentionHeadDim}; then
 * {@code downsamplers.0} unless last. Registered as diffusers does: {@code attentions}, {@code resnets},
 * {@code downsamplers}.
 */
public final class AttnDownBlock2D extends DownBlock {
    public final ModuleList<AttentionBlock> attentions;
    public final ModuleList<ResnetBlock2D> resnets;
    /** The downsampler, or null in the last block. */
    public final Downsample2D downsampler;

    public AttnDownBlock2D(int in, int out, int temb, int numLayers, int groups, double eps, double dropout, boolean scaleShift,
                           int attentionHeadDim, boolean addDownsample, int downsamplePadding, Rng rng) {
        ModuleList<ResnetBlock2D> r = new ModuleList<>();
        ModuleList<AttentionBlock> a = new ModuleList<>();
        for (int i = 0; i < numLayers; i++) {
            r.add(new ResnetBlock2D(i == 0 ? in : out, out, temb, groups, eps, dropout, 1, scaleShift, rng));
            a.add(new AttentionBlock(out, out / attentionHeadDim, attentionHeadDim, groups, eps, 1, rng));
        }
        attentions = child("attentions", a);
        resnets = child("resnets", r);
        downsampler = addDownsample ? child("downsamplers", new ModuleList<Downsample2D>()).add(new Downsample2D(out, out, downsamplePadding, rng)) : null;
    }

    @Override
    public Variable forward(Variable x, Variable temb, Variable context, List<Variable> skips) {
        for (int i = 0; i < resnets.size(); i++) {
            x = attentions.get(i).forward(resnets.get(i).forward(x, temb));
            skips.add(x);
        }
        if (downsampler != null) {
            x = downsampler.forward(x);
            skips.add(x);
        }
        return x;
    }
}
