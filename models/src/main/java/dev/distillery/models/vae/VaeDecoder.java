package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.unet.UNetMidBlock2D;
import dev.distillery.tensor.Rng;

/**
 * diffusers' VAE {@code Decoder} ({@code norm_type="group"}): {@code conv_in}, {@code mid_block}, {@code up_blocks}
 * over the reversed channels with {@code layers_per_block + 1} resnets each and an upsampler on every level but the
 * last, {@code conv_norm_out}, SiLU, {@code conv_out}. As in diffusers, {@code up_blocks} is registered before
 * {@code mid_block}, so state dicts list it first.
 */
public final class VaeDecoder extends Module {
    public final Conv2d convIn, convOut;
    public final ModuleList<UpDecoderBlock2D> upBlocks;
    public final UNetMidBlock2D midBlock;
    public final GroupNorm convNormOut;

    public VaeDecoder(AutoencoderKLConfig c, Rng rng) {
        int groups = c.normNumGroups(), levels = c.levels();
        int first = c.blockOutChannels().get(0), last = c.blockOutChannels().get(levels - 1);
        double eps = VaeEncoder.EPS;
        convIn = child("conv_in", new Conv2d(c.latentChannels(), last, 3, 1, 1, true, rng));
        upBlocks = child("up_blocks", new ModuleList<>());
        midBlock = child("mid_block", UNetMidBlock2D.withoutTimeEmbedding(last, groups, eps, c.midBlockAddAttention(), rng));
        int out = last;
        for (int i = 0; i < levels; i++) {
            int prev = out;
            out = c.blockOutChannels().get(levels - 1 - i);
            upBlocks.add(new UpDecoderBlock2D(prev, out, c.layersPerBlock() + 1, groups, eps, i < levels - 1, rng));
        }
        convNormOut = child("conv_norm_out", new GroupNorm(groups, first, eps, true));
        convOut = child("conv_out", new Conv2d(first, c.outChannels(), 3, 1, 1, true, rng));
    }

    /** [N, latent, h, w] to [N, out, h * f, w * f]. */
    public Variable forward(Variable z) {
        Variable h = midBlock.forward(convIn.forward(z), null, null);
        for (UpDecoderBlock2D b : upBlocks) h = b.forward(h);
        return convOut.forward(convNormOut.forwardSilu(h));
    }
}
