package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;

/** The bottleneck block of a UNet ({@code mid_block}). */
public abstract sealed class MidBlock extends Module permits UNetMidBlock2D, UNetMidBlock2DCrossAttn {
    /** @param context cross-attention context, ignored by blocks without cross-attention */
    public abstract Variable forward(Variable x, Variable temb, Variable context);
}
