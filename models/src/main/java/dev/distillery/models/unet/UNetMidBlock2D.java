package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code UNetMidBlock2D}: {@code resnets.0}, then {@code numLayers} pairs of (spatial self-attention
 * {@link AttentionBlock}, resnet); attentions are left out with {@code addAttention=false}. Registered as
 * {@code attentions}, {@code resnets}.
 */
public final class UNetMidBlock2D extends MidBlock {
    /** The attentions (empty without attention). */
    public final ModuleList<AttentionBlock> attentions;
    public final ModuleList<ResnetBlock2D> resnets;

    /**
     * @param attnGroups       group-norm groups of the attentions, or 0 for none
     * @param attentionHeadDim head width; heads = in / attentionHeadDim
     */
    public UNetMidBlock2D(int in, int temb, int numLayers, int groups, int attnGroups, double eps, double dropout, boolean scaleShift,
                          boolean addAttention, int attentionHeadDim, double outputScaleFactor, Rng rng) {
        ModuleList<ResnetBlock2D> r = new ModuleList<>();
        ModuleList<AttentionBlock> a = new ModuleList<>();
        r.add(new ResnetBlock2D(in, in, temb, groups, eps, dropout, outputScaleFactor, scaleShift, rng));
        for (int i = 0; i < numLayers; i++) {
            if (addAttention) a.add(new AttentionBlock(in, in / attentionHeadDim, attentionHeadDim, attnGroups, eps, outputScaleFactor, rng));
            r.add(new ResnetBlock2D(in, in, temb, groups, eps, dropout, outputScaleFactor, scaleShift, rng));
        }
        attentions = child("attentions", a);
        resnets = child("resnets", r);
    }

    @Override
    public Variable forward(Variable x, Variable temb, Variable context) {
        x = resnets.get(0).forward(x, temb);
        for (int i = 1; i < resnets.size(); i++) {
            if (attentions.size() > 0) x = attentions.get(i - 1).forward(x);
            x = resnets.get(i).forward(x, temb);
        }
        return x;
    }
}
