package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/**
 * diffusers' {@code CrossAttnDownBlock2D}: each resnet is followed by a {@link Transformer2DModel} with
 * {@code numHeads} heads of {@code out / numHeads} and {@code transformerLayers[i]} transformer blocks; then
 * {@code downsamplers.0} unless last. Registered as {@code attentions}, {@code resnets}, {@code downsamplers}.
 */
public final class CrossAttnDownBlock2D extends DownBlock {
    public final ModuleList<Transformer2DModel> attentions;
    public final ModuleList<ResnetBlock2D> resnets;
    /** The downsampler, or null in the last block. */
    public final Downsample2D downsampler;

    /** @param transformerLayers transformer depth of each of the {@code numLayers} attentions */
    public CrossAttnDownBlock2D(int in, int out, int temb, int numLayers, int[] transformerLayers, int groups, double eps, double dropout,
                                boolean scaleShift, int numHeads, int crossAttentionDim, boolean useLinearProjection, boolean onlyCrossAttention,
                                boolean addDownsample, int downsamplePadding, Rng rng) {
        if (transformerLayers.length < numLayers)
            throw new IllegalArgumentException("CrossAttnDownBlock2D: " + transformerLayers.length + " transformer depths for " + numLayers + " layers");
        ModuleList<ResnetBlock2D> r = new ModuleList<>();
        ModuleList<Transformer2DModel> a = new ModuleList<>();
        for (int i = 0; i < numLayers; i++) {
            r.add(new ResnetBlock2D(i == 0 ? in : out, out, temb, groups, eps, dropout, 1, scaleShift, rng));
            a.add(new Transformer2DModel(numHeads, out / numHeads, out, transformerLayers[i], crossAttentionDim, groups, useLinearProjection,
                    onlyCrossAttention, 0, rng));
        }
        attentions = child("attentions", a);
        resnets = child("resnets", r);
        downsampler = addDownsample ? child("downsamplers", new ModuleList<Downsample2D>()).add(new Downsample2D(out, out, downsamplePadding, rng)) : null;
    }

    @Override
    public Variable forward(Variable x, Variable temb, Variable context, List<Variable> skips) {
        for (int i = 0; i < resnets.size(); i++) {
            x = attentions.get(i).forward(resnets.get(i).forward(x, temb), context);
            skips.add(x);
        }
        if (downsampler != null) {
            x = downsampler.forward(x);
            skips.add(x);
        }
        return x;
    }
}
