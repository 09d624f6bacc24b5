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

    /**
     * The mid block as diffusers' VAE {@code Encoder}/{@code Decoder} build it: one layer, no time embedding,
     * {@code resnets.0 -> attentions.0 -> resnets.1}, the attention single-head over all channels
     * ({@code attention_head_dim = channels}) with its own {@code group_norm} of {@code groups} groups; without
     * {@code addAttention} it is left out (and has no weights). Call {@link #forward} with null temb and context.
     */
    public static UNetMidBlock2D withoutTimeEmbedding(int channels, int groups, double eps, boolean addAttention, Rng rng) {
        return new UNetMidBlock2D(channels, 0, 1, groups, groups, eps, 0, false, addAttention, channels, 1, rng);
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
