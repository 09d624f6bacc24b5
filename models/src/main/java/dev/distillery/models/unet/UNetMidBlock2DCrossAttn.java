package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code UNetMidBlock2DCrossAttn}: {@code resnets.0}, then {@code numLayers} pairs of
 * ({@link Transformer2DModel}, resnet). Registered as {@code attentions}, {@code resnets}.
 */
public final class UNetMidBlock2DCrossAttn extends MidBlock {
    public final ModuleList<Transformer2DModel> attentions;
    public final ModuleList<ResnetBlock2D> resnets;

    /** @param transformerLayers transformer depth of each of the {@code numLayers} attentions */
    public UNetMidBlock2DCrossAttn(int in, int temb, int numLayers, int[] transformerLayers, int groups, double eps, double dropout,
                                   boolean scaleShift, int numHeads, double outputScaleFactor, int crossAttentionDim, boolean useLinearProjection,
                                   Rng rng) {
        if (transformerLayers.length < numLayers)
            throw new IllegalArgumentException("UNetMidBlock2DCrossAttn: " + transformerLayers.length + " transformer depths for " + numLayers + " layers");
        ModuleList<ResnetBlock2D> r = new ModuleList<>();
        ModuleList<Transformer2DModel> a = new ModuleList<>();
        r.add(new ResnetBlock2D(in, in, temb, groups, eps, dropout, outputScaleFactor, scaleShift, rng));
        for (int i = 0; i < numLayers; i++) {
            a.add(new Transformer2DModel(numHeads, in / numHeads, in, transformerLayers[i], crossAttentionDim, groups, useLinearProjection, false, 0, rng));
            r.add(new ResnetBlock2D(in, in, temb, groups, eps, dropout, outputScaleFactor, scaleShift, rng));
        }
        attentions = child("attentions", a);
        resnets = child("resnets", r);
    }

    @Override
    public Variable forward(Variable x, Variable temb, Variable context) {
        x = resnets.get(0).forward(x, temb);
        for (int i = 0; i < attentions.size(); i++) x = resnets.get(i + 1).forward(attentions.get(i).forward(x, context), temb);
        return x;
    }
}
