package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.LayerNorm;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code BasicTransformerBlock} as the UNets build it ({@code norm_type="layer_norm"}, GEGLU
 * feed-forward, no attention biases except the output projections):
 * <pre>
 *   x = attn1(norm1(x)) + x                      self-attention (cross-attention to the context with only_cross_attention)
 *   x = attn2(norm2(x), context) + x             cross-attention (present when cross_attention_dim is set)
 *   x = ff(norm3(x)) + x
 * </pre>
 * Names: {@code norm1, attn1, norm2, attn2, norm3, ff}; attention maps of {@code attn1}/{@code attn2} can be kept
 * with {@link Attention#keepAttentionMaps}.
 */
public final class BasicTransformerBlock extends Module {
    public final LayerNorm norm1, norm2, norm3;
    public final Attention attn1, attn2;
    public final FeedForward ff;
    private final boolean onlyCrossAttention;

    /**
     * @param crossAttentionDim context width, or 0 for a block without cross-attention
     */
    public BasicTransformerBlock(int dim, int heads, int headDim, int crossAttentionDim, boolean onlyCrossAttention, double dropout, Rng rng) {
        if (onlyCrossAttention && crossAttentionDim <= 0)
            throw new IllegalArgumentException("BasicTransformerBlock: only_cross_attention needs a cross_attention_dim");
        this.onlyCrossAttention = onlyCrossAttention;
        norm1 = child("norm1", new LayerNorm(dim, 1e-5, true));
        attn1 = child("attn1", new Attention(dim, onlyCrossAttention ? crossAttentionDim : dim, heads, headDim, false, rng));
        if (crossAttentionDim > 0) {
            norm2 = child("norm2", new LayerNorm(dim, 1e-5, true));
            attn2 = child("attn2", new Attention(dim, crossAttentionDim, heads, headDim, false, rng));
        } else {
            norm2 = null;
            attn2 = null;
        }
        norm3 = child("norm3", new LayerNorm(dim, 1e-5, true));
        ff = child("ff", new FeedForward(dim, dropout, rng));
    }

    /**
     * @param x       [B, L, dim]
     * @param context [B, Lc, crossAttentionDim], or null (then attn2 attends to x itself, as diffusers does)
     */
    public Variable forward(Variable x, Variable context) {
        x = attn1.forward(norm1.forward(x), onlyCrossAttention ? context : null, false).add(x);
        if (attn2 != null) x = attn2.forward(norm2.forward(x), context, false).add(x);
        return ff.forward(norm3.forward(x)).add(x);
    }
}
