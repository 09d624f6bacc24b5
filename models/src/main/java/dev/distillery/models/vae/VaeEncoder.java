package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.unet.UNetMidBlock2D;
import dev.distillery.tensor.Rng;

/**
 * diffusers' VAE {@code Encoder} (with {@code double_z}): {@code conv_in}, {@code down_blocks} (a downsampler on every
 * level but the last), {@code mid_block}, {@code conv_norm_out}, SiLU, {@code conv_out} to 2 x latent channels
 * (mean and log-variance). Norms use eps 1e-6.
 */
public final class VaeEncoder extends Module {
    static final double EPS = 1e-6;
    public final Conv2d convIn, convOut;
    public final ModuleList<DownEncoderBlock2D> downBlocks;
    public final UNetMidBlock2D midBlock;
    public final GroupNorm convNormOut;

    public VaeEncoder(AutoencoderKLConfig c, Rng rng) {
        int groups = c.normNumGroups(), levels = c.levels();
        int first = c.blockOutChannels().get(0), last = c.blockOutChannels().get(levels - 1);
        convIn = child("conv_in", new Conv2d(c.inChannels(), first, 3, 1, 1, true, rng));
        downBlocks = child("down_blocks", new ModuleList<>());
        int out = first;
        for (int i = 0; i < levels; i++) {
            int in = out;
            out = c.blockOutChannels().get(i);
            downBlocks.add(new DownEncoderBlock2D(in, out, c.layersPerBlock(), groups, EPS, i < levels - 1, rng));
        }
        midBlock = child("mid_block", UNetMidBlock2D.withoutTimeEmbedding(last, groups, EPS, c.midBlockAddAttention(), rng));
        convNormOut = child("conv_norm_out", new GroupNorm(groups, last, EPS, true));
        convOut = child("conv_out", new Conv2d(last, 2 * c.latentChannels(), 3, 1, 1, true, rng));
    }

    /** [N, in, H, W] to [N, 2 * latent, H / f, W / f] (f = 2^(levels-1)). */
    public Variable forward(Variable x) {
        Variable h = convIn.forward(x);
        for (DownEncoderBlock2D b : downBlocks) h = b.forward(h);
        h = midBlock.forward(h, null, null);
        return convOut.forward(convNormOut.forwardSilu(h));
    }
}
