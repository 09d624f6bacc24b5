package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code Transformer2DModel} on continuous input (the UNets' spatial transformer):
 * <pre>
 *   h = norm(x)                                   GroupNorm(norm_num_groups, eps 1e-6)
 *   h = proj_in(h) as [B, HW, inner]               1x1 conv, or a linear after flattening (use_linear_projection)
 *   h = transformer_blocks[i](h, context)
 *   y = proj_out(h) as [B, C, H, W] + x
 * </pre>
 * inner = heads * headDim, which the UNets make equal to the channel count.
 */
public final class Transformer2DModel extends Module {
    public final GroupNorm norm;
    /** {@code proj_in} / {@code proj_out}: a {@link Linear} or a 1x1 {@link Conv2d}. */
    public final Module projIn, projOut;
    public final ModuleList<BasicTransformerBlock> transformerBlocks;
    private final boolean linearProjection;
    private final int inner;

    public Transformer2DModel(int heads, int headDim, int inChannels, int numLayers, int crossAttentionDim, int normNumGroups,
                              boolean useLinearProjection, boolean onlyCrossAttention, double dropout, Rng rng) {
        inner = heads * headDim;
        linearProjection = useLinearProjection;
        norm = child("norm", new GroupNorm(normNumGroups, inChannels, 1e-6, true));
        projIn = child("proj_in", useLinearProjection ? new Linear(inChannels, inner, true, rng) : new Conv2d(inChannels, inner, 1, 1, 0, true, rng));
        transformerBlocks = child("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < numLayers; i++)
            transformerBlocks.add(new BasicTransformerBlock(inner, heads, headDim, crossAttentionDim, onlyCrossAttention, dropout, rng));
        projOut = child("proj_out", useLinearProjection ? new Linear(inner, inChannels, true, rng) : new Conv2d(inner, inChannels, 1, 1, 0, true, rng));
    }

    /** @param x [B, C, H, W]; @param context [B, L, crossAttentionDim] or null */
    public Variable forward(Variable x, Variable context) {
        int b = x.size(0), c = x.size(1), hh = x.size(2), ww = x.size(3);
        Variable h = norm.forward(x);
        if (linearProjection) {
            h = ((Linear) projIn).forward(h.permute(0, 2, 3, 1).reshape(b, hh * ww, c));
        } else {
            h = ((Conv2d) projIn).forward(h);
            h = h.permute(0, 2, 3, 1).reshape(b, hh * ww, inner);
        }
        for (BasicTransformerBlock block : transformerBlocks) h = block.forward(h, context);
        if (linearProjection) {
            h = ((Linear) projOut).forward(h).reshape(b, hh, ww, c).permute(0, 3, 1, 2);
        } else {
            h = ((Conv2d) projOut).forward(h.reshape(b, hh, ww, inner).permute(0, 3, 1, 2).contiguous());
        }
        return h.add(x);
    }
}
