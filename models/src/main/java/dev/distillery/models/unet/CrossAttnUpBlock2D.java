package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/**
 * diffusers' {@code CrossAttnUpBlock2D}: as {@link UpBlock2D} with a {@link Transformer2DModel} after each
 * resnet. Registered as {@code attentions}, {@code resnets}, {@code upsamplers}.
 */
public final class CrossAttnUpBlock2D extends UpBlock {
    public final ModuleList<Transformer2DModel> attentions;
    public final ModuleList<ResnetBlock2D> resnets;
    /** The upsampler, or null in the last block. */
    public final Upsample2D upsampler;

    /** @param transformerLayers transformer depth of each of the {@code numLayers} attentions */
    public CrossAttnUpBlock2D(int in, int prevOut, int out, int temb, int numLayers, int[] transformerLayers, int groups, double eps, double dropout,
                              boolean scaleShift, int numHeads, int crossAttentionDim, boolean useLinearProjection, boolean onlyCrossAttention,
                              boolean addUpsample, Rng rng) {
        if (transformerLayers.length < numLayers)
            throw new IllegalArgumentException("CrossAttnUpBlock2D: " + transformerLayers.length + " transformer depths for " + numLayers + " layers");
        ModuleList<ResnetBlock2D> r = new ModuleList<>();
        ModuleList<Transformer2DModel> a = new ModuleList<>();
        for (int i = 0; i < numLayers; i++) {
            r.add(new ResnetBlock2D(UpBlock2D.resnetIn(i, numLayers, in, prevOut, out), out, temb, groups, eps, dropout, 1, scaleShift, rng));
            a.add(new Transformer2DModel(numHeads, out / numHeads, out, transformerLayers[i], crossAttentionDim, groups, useLinearProjection,
                    onlyCrossAttention, 0, rng));
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
        for (int i = 0; i < resnets.size(); i++) x = attentions.get(i).forward(resnets.get(i).forward(popSkip(x, skips), temb), context);
        return upsampler == null ? x : upsampler.forward(x, upsampleSize);
    }
}
