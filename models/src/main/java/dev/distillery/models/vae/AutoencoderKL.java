package dev.distillery.models.vae;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * diffusers' {@code AutoencoderKL} (the Stable Diffusion VAE) with diffusers' parameter names: {@code encoder.*}
 * ({@link VaeEncoder}), {@code decoder.*} ({@link VaeDecoder}), {@code quant_conv} and {@code post_quant_conv}
 * (1x1, unless the config turns them off).
 *
 * <pre>
 *   AutoencoderKL vae = AutoencoderKL.fromPretrained(Path.of("sd15/vae"));
 *   Variable z = vae.encodeLatents(image, rng);      // image in [-1, 1], [N, 3, H, W]; z [N, 4, H/8, W/8], scaled
 *   Variable x = vae.decodeLatents(z);               // back to image space
 * </pre>
 * {@link #encode} and {@link #decode} work on raw (unscaled) latents, as diffusers' methods of those names do; the
 * pipelines' latent scaling is {@link #scaleLatents} / {@link #unscaleLatents}.
 */
public final class AutoencoderKL extends Module {
    /** diffusers' weights file name inside a model directory. */
    public static final String WEIGHTS_FILE = "diffusion_pytorch_model.safetensors";

    public final AutoencoderKLConfig config;
    public final VaeEncoder encoder;
    public final VaeDecoder decoder;
    public final Conv2d quantConv, postQuantConv;

    public AutoencoderKL(AutoencoderKLConfig config, Rng rng) {
        this.config = config;
        encoder = child("encoder", new VaeEncoder(config, rng));
        decoder = child("decoder", new VaeDecoder(config, rng));
        int z = config.latentChannels();
        quantConv = config.useQuantConv() ? child("quant_conv", new Conv2d(2 * z, 2 * z, 1, 1, 0, true, rng)) : null;
        postQuantConv = config.usePostQuantConv() ? child("post_quant_conv", new Conv2d(z, z, 1, 1, 0, true, rng)) : null;
    }

    /** The posterior over raw latents for images [N, in_channels, H, W] (diffusers' {@code encode(x).latent_dist}). */
    public DiagonalGaussian encode(Variable x) {
        if (x.dim() != 4 || x.size(1) != config.inChannels())
            throw new IllegalArgumentException("AutoencoderKL.encode: expected [N, " + config.inChannels() + ", H, W], got " + Shapes.str(x.shape()));
        Variable h = encoder.forward(x);
        return new DiagonalGaussian(quantConv == null ? h : quantConv.forward(h));
    }

    /** Images [N, out_channels, h*f, w*f] from raw latents [N, latent_channels, h, w] (diffusers' {@code decode(z).sample}). */
    public Variable decode(Variable z) {
        if (z.dim() != 4 || z.size(1) != config.latentChannels())
            throw new IllegalArgumentException("AutoencoderKL.decode: expected [N, " + config.latentChannels() + ", h, w], got " + Shapes.str(z.shape()));
        return decoder.forward(postQuantConv == null ? z : postQuantConv.forward(z));
    }

    /** diffusers' {@code forward}: decode a posterior sample ({@code samplePosterior}, needs {@code rng}) or its mode. */
    public Variable forward(Variable x, boolean samplePosterior, Rng rng) {
        DiagonalGaussian p = encode(x);
        return decode(samplePosterior ? p.sample(rng) : p.mode());
    }

    /**
     * Raw latents to the diffusion model's scale, as diffusers' pipelines do: with {@code latents_mean}/{@code latents_std}
     * per channel {@code (z - mean_c) * scaling_factor / std_c}, else {@code (z - shift_factor) * scaling_factor}
     * (shift 0 when the config has none: SD's {@code z * 0.18215}).
     */
    public Variable scaleLatents(Variable z) {
        if (config.latentsMean() != null) return z.sub(channelConstant(config.latentsMean(), z)).mul(config.scalingFactor()).div(channelConstant(config.latentsStd(), z));
        Variable s = config.shiftFactor() == null ? z : z.sub(config.shiftFactor());
        return s.mul(config.scalingFactor());
    }

    /** Inverse of {@link #scaleLatents}: {@code z * std_c / scaling_factor + mean_c}, or {@code z / scaling_factor + shift_factor}. */
    public Variable unscaleLatents(Variable z) {
        if (config.latentsMean() != null) return z.mul(channelConstant(config.latentsStd(), z)).div(config.scalingFactor()).add(channelConstant(config.latentsMean(), z));
        Variable s = z.div(config.scalingFactor());
        return config.shiftFactor() == null ? s : s.add(config.shiftFactor());
    }

    private static Variable channelConstant(List<Double> values, Variable like) {
        double[] v = new double[values.size()];
        for (int i = 0; i < v.length; i++) v[i] = values.get(i);
        int[] shape = new int[like.dim()];
        Arrays.fill(shape, 1);
        shape[1] = v.length;
        return Variable.constant(Tensor.of(v, shape).to(like.dtype()).to(like.device()));
    }

    /** Scaled latents of images: {@code scaleLatents(encode(x).sample(rng))}, or of the posterior mode when {@code rng} is null. */
    public Variable encodeLatents(Variable x, Rng rng) {
        DiagonalGaussian p = encode(x);
        return scaleLatents(rng == null ? p.mode() : p.sample(rng));
    }

    /** Images from scaled latents: {@code decode(unscaleLatents(z))}. */
    public Variable decodeLatents(Variable z) {
        return decode(unscaleLatents(z));
    }

    /**
     * Builds the VAE from a diffusers directory ({@code config.json} plus {@value #WEIGHTS_FILE}, its sharded
     * {@code .index.json}, or a {@code model.safetensors}) and loads its weights strictly, converting F16/BF16 to F32.
     */
    public static AutoencoderKL fromPretrained(Path dir) throws IOException {
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.load(dir.resolve("config.json")), new Rng(0));
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights) && Files.isRegularFile(dir.resolve(WEIGHTS_FILE + ".index.json")))
            weights = dir.resolve(WEIGHTS_FILE + ".index.json");
        else if (!Files.isRegularFile(weights)) weights = dir;
        vae.loadStateDict(Safetensors.read(weights), true);
        return vae;
    }
}
