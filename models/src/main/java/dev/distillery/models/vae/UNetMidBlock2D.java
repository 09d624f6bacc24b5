package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.unet.AttentionBlock;
import dev.distillery.models.unet.ResnetBlock2D;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code UNetMidBlock2D} as the VAE builds it (one layer, no time embedding):
 * {@code resnets.0 -> attentions.0 -> resnets.1}. The attention is single-head over all channels
 * ({@code attention_head_dim = channels}) with its own {@code group_norm} and a residual connection; without
 * {@code mid_block_add_attention} it is skipped (and has no weights).
 */
public final class UNetMidBlock2D extends Module {
    public final ModuleList<AttentionBlock> attentions;
    public final ModuleList<ResnetBlock2D> resnets;

    public UNetMidBlock2D(int channels, int groups, double eps, boolean addAttention, Rng rng) {
        // diffusers registers attentions before resnets, so state dicts list them first.
        attentions = child("attentions", new ModuleList<>());
        resnets = child("resnets", new ModuleList<>());
        resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps, 0, 1, rng));
        if (addAttention) attentions.add(new AttentionBlock(channels, 1, channels, groups, eps, 1, rng));
        resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps, 0, 1, rng));
    }

    public Variable forward(Variable x) {
        x = resnets.get(0).forward(x, null);
        if (attentions.size() > 0) x = attentions.get(0).forward(x);
        return resnets.get(1).forward(x, null);
    }
}
