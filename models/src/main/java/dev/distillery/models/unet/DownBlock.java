package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;

import java.util.List;

/** An encoder block of a UNet ({@code down_blocks.i}): resnets (with attention), then an optional downsampler. */
public abstract sealed class DownBlock extends Module permits DownBlock2D, AttnDownBlock2D, CrossAttnDownBlock2D {
    /**
     * Runs the block and appends each intermediate output (one per resnet, and the downsampled one) to
     * {@code skips}, which the decoder consumes from the end.
     *
     * @param temb    time embedding [B, temb]
     * @param context cross-attention context [B, L, D], ignored by blocks without cross-attention
     */
    public abstract Variable forward(Variable x, Variable temb, Variable context, List<Variable> skips);
}
