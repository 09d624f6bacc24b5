package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/**
 * Spatial self-attention over [N, C, H, W] as diffusers' {@code Attention} with {@code norm_num_groups} and
 * {@code residual_connection=True} (the UNet2DModel attention blocks, {@code _from_deprecated_attn_block}):
 * {@code y = (x + to_out(attn(group_norm(x) as [N, HW, C]))) / rescale_output_factor}.
 * Parameter names: {@code group_norm, to_q, to_k, to_v, to_out.0} (group_norm absent when built with 0 groups).
 */
public final class AttentionBlock extends Module {
    /** The group norm, or null when built without one. */
    public final GroupNorm groupNorm;
    public final Attention attention;
    private final double rescaleOutputFactor;

    /**
     * @param groups group-norm groups, or 0 for no group norm (diffusers' {@code norm_num_groups=None})
     */
    public AttentionBlock(int channels, int heads, int headDim, int groups, double eps, double rescaleOutputFactor, Rng rng) {
        groupNorm = groups > 0 ? child("group_norm", new GroupNorm(groups, channels, eps, true)) : null;
        attention = new Attention(channels, channels, heads, headDim, true, rng);
        // diffusers keeps group_norm and the projections at one level, so the projections are registered here.
        attention.children().forEach(this::child);
        this.rescaleOutputFactor = rescaleOutputFactor;
    }

    public Variable forward(Variable x) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        Variable s = (groupNorm != null ? groupNorm.forward(x) : x).reshape(n, c, h * w).transpose(1, 2);
        Variable a = attention.forward(s, null, false).transpose(1, 2).reshape(n, c, h, w);
        Variable y = x.add(a);
        return rescaleOutputFactor == 1 ? y : y.div(rescaleOutputFactor);
    }
}
