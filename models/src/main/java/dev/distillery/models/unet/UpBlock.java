package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;

import java.util.List;

/**
 * A decoder block of a UNet ({@code up_blocks.i}): each resnet takes the running features concatenated (on
 * channels) with the encoder's latest unconsumed skip; then an optional upsampler.
 */
public abstract sealed class UpBlock extends Module permits UpBlock2D, AttnUpBlock2D, CrossAttnUpBlock2D {
    /** Number of resnets, i.e. of skips this block consumes. */
    public abstract int numResnets();

    /**
     * @param skips        the encoder outputs; this block removes the last {@link #numResnets()} of them
     * @param context      cross-attention context, ignored by blocks without cross-attention
     * @param upsampleSize explicit {h, w} for the upsampler, or null for x2
     */
    public abstract Variable forward(Variable x, List<Variable> skips, Variable temb, Variable context, int[] upsampleSize);

    static Variable popSkip(Variable x, List<Variable> skips) {
        if (skips.isEmpty()) throw new IllegalStateException("up block: no encoder skip left to consume");
        return Variable.concat(List.of(x, skips.removeLast()), 1);
    }
}
