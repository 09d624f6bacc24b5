package dev.distillery.models.vae;

import dev.distillery.models.config.ConfigJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of a diffusers {@code AutoencoderKL} {@code config.json} ({@code vae/config.json}), with diffusers'
 * constructor defaults. Keys this record does not model ({@code _diffusers_version}, ...) are kept, as parsed JSON
 * values, in {@link #extras()}.
 *
 * @param className            {@code _class_name} ("AutoencoderKL"), or null
 * @param inChannels           {@code in_channels} (3)
 * @param outChannels          {@code out_channels} (3)
 * @param downBlockTypes       {@code down_block_types} (["DownEncoderBlock2D"]); only DownEncoderBlock2D is supported
 * @param upBlockTypes         {@code up_block_types} (["UpDecoderBlock2D"]); only UpDecoderBlock2D is supported
 * @param blockOutChannels     {@code block_out_channels} ([64]); one entry per level
 * @param layersPerBlock       {@code layers_per_block} (1); the decoder has one more resnet per level
 * @param actFn                {@code act_fn} ("silu"); only silu / swish is supported
 * @param latentChannels       {@code latent_channels} (4)
 * @param normNumGroups        {@code norm_num_groups} (32)
 * @param sampleSize           {@code sample_size} (32); of a [h, w] list the first entry (tiling only; unused here)
 * @param scalingFactor        {@code scaling_factor} (0.18215)
 * @param shiftFactor          {@code shift_factor} (null = none; SD3 0.0609, FLUX 0.1159)
 * @param latentsMean          {@code latents_mean} per latent channel, or null
 * @param latentsStd           {@code latents_std} per latent channel, or null
 * @param forceUpcast          {@code force_upcast} (true); informational (everything here runs in float32)
 * @param useQuantConv         {@code use_quant_conv} (true)
 * @param usePostQuantConv     {@code use_post_quant_conv} (true)
 * @param midBlockAddAttention {@code mid_block_add_attention} (true)
 * @param extras               every other key, in file order, as {@link dev.distillery.tensor.io.Json} values
 */
public record AutoencoderKLConfig(
        String className,
        int inChannels,
        int outChannels,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        List<Integer> blockOutChannels,
        int layersPerBlock,
        String actFn,
        int latentChannels,
        int normNumGroups,
        int sampleSize,
        double scalingFactor,
        Double shiftFactor,
        List<Double> latentsMean,
        List<Double> latentsStd,
        boolean forceUpcast,
        boolean useQuantConv,
        boolean usePostQuantConv,
        boolean midBlockAddAttention,
        Map<String, Object> extras) {

    public AutoencoderKLConfig {
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        latentsMean = latentsMean == null ? null : List.copyOf(latentsMean);
        latentsStd = latentsStd == null ? null : List.copyOf(latentsStd);
        extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
        int levels = blockOutChannels.size();
        if (levels == 0) throw new IllegalArgumentException("block_out_channels is empty");
        if (downBlockTypes.size() != levels || upBlockTypes.size() != levels)
            throw new IllegalArgumentException("down_block_types (" + downBlockTypes.size() + ") and up_block_types (" + upBlockTypes.size()
                    + ") must have one entry per block_out_channels entry (" + levels + ")");
        for (String t : downBlockTypes)
            if (!t.equals("DownEncoderBlock2D")) throw new IllegalArgumentException("unsupported down block type '" + t + "' (supported: DownEncoderBlock2D)");
        for (String t : upBlockTypes)
            if (!t.equals("UpDecoderBlock2D")) throw new IllegalArgumentException("unsupported up block type '" + t + "' (supported: UpDecoderBlock2D)");
        if (!actFn.equals("silu") && !actFn.equals("swish")) throw new IllegalArgumentException("unsupported act_fn '" + actFn + "' (supported: silu, swish)");
        if (inChannels < 1 || outChannels < 1 || latentChannels < 1 || layersPerBlock < 1 || normNumGroups < 1)
            throw new IllegalArgumentException("in/out/latent channels, layers_per_block and norm_num_groups must be >= 1");
        for (int c : blockOutChannels)
            if (c < 1 || c % normNumGroups != 0)
                throw new IllegalArgumentException("block_out_channels " + blockOutChannels + " must be positive multiples of norm_num_groups " + normNumGroups);
        if (!(scalingFactor > 0) || !Double.isFinite(scalingFactor)) throw new IllegalArgumentException("scaling_factor must be > 0, got " + scalingFactor);
        if ((latentsMean == null) != (latentsStd == null)) throw new IllegalArgumentException("latents_mean and latents_std must be given together");
        if (latentsMean != null && (latentsMean.size() != latentChannels || latentsStd.size() != latentChannels))
            throw new IllegalArgumentException("latents_mean / latents_std need " + latentChannels + " entries (latent_channels)");
    }

    /** Number of resolution levels; the latent is {@code 2^(levels-1)} times smaller than the image per side. */
    public int levels() {
        return blockOutChannels.size();
    }

    /** Image side / latent side: 8 for Stable Diffusion's VAE. */
    public int downsampleFactor() {
        return 1 << (levels() - 1);
    }

    /** diffusers' {@code AutoencoderKL()} constructor defaults. */
    public static AutoencoderKLConfig defaults() {
        return new AutoencoderKLConfig(null, 3, 3, List.of("DownEncoderBlock2D"), List.of("UpDecoderBlock2D"), List.of(64), 1, "silu", 4, 32, 32,
                0.18215, null, null, null, true, true, true, true, Map.of());
    }

    /**
     * Stable Diffusion 1.x's VAE ({@code vae/config.json} of SD 1.5): 4 levels of [128, 256, 512, 512], 2 layers per
     * block, 32 groups, 4 latent channels, scaling_factor 0.18215; 83.65M parameters.
     */
    public static AutoencoderKLConfig stableDiffusion() {
        List<String> down = List.of("DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D");
        List<String> up = List.of("UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D");
        return new AutoencoderKLConfig("AutoencoderKL", 3, 3, down, up, List.of(128, 256, 512, 512), 2, "silu", 4, 32, 512,
                0.18215, null, null, null, true, true, true, true, Map.of());
    }

    /** The same architecture with other latent scaling (SDXL's VAE: 0.13025, no shift). */
    public AutoencoderKLConfig withScaling(double scaling, Double shift) {
        return new AutoencoderKLConfig(className, inChannels, outChannels, downBlockTypes, upBlockTypes, blockOutChannels, layersPerBlock, actFn,
                latentChannels, normNumGroups, sampleSize, scaling, shift, latentsMean, latentsStd, forceUpcast, useQuantConv, usePostQuantConv,
                midBlockAddAttention, extras);
    }

    // ------------------------------------------------------------------------------------------ JSON

    /** Reads a diffusers {@code config.json}. */
    public static AutoencoderKLConfig load(Path file) throws IOException {
        return ConfigJson.load(file, AutoencoderKLConfig::fromJson);
    }

    /** Parses the text of a {@code config.json}. */
    public static AutoencoderKLConfig parse(String json) {
        return ConfigJson.parse(json, "VAE config", AutoencoderKLConfig::fromJson);
    }

    /** Builds a config from a parsed JSON object; absent keys (and JSON null) take diffusers' defaults. */
    public static AutoencoderKLConfig fromJson(Object root) {
        ConfigJson r = new ConfigJson(root, "VAE config", ConfigJson.Nulls.DEFAULT);
        AutoencoderKLConfig d = defaults();
        return new AutoencoderKLConfig(
                r.string("_class_name", d.className),
                r.integer("in_channels", d.inChannels),
                r.integer("out_channels", d.outChannels),
                r.strings("down_block_types", d.downBlockTypes),
                r.strings("up_block_types", d.upBlockTypes),
                r.ints("block_out_channels", d.blockOutChannels),
                r.integer("layers_per_block", d.layersPerBlock),
                r.string("act_fn", d.actFn),
                r.integer("latent_channels", d.latentChannels),
                r.integer("norm_num_groups", d.normNumGroups),
                sampleSize(r.raw("sample_size"), d.sampleSize),
                r.number("scaling_factor", d.scalingFactor),
                r.nullableNumber("shift_factor", d.shiftFactor),
                r.numbers("latents_mean", d.latentsMean),
                r.numbers("latents_std", d.latentsStd),
                r.bool("force_upcast", d.forceUpcast),
                r.bool("use_quant_conv", d.useQuantConv),
                r.bool("use_post_quant_conv", d.usePostQuantConv),
                r.bool("mid_block_add_attention", d.midBlockAddAttention),
                r.extras());
    }

    /** {@code sample_size}: an integer, or of a non-empty [h, w] list the first entry; {@code def} when absent. */
    private static int sampleSize(Object v, int def) {
        if (v == null) return def;
        return v instanceof List<?> l && !l.isEmpty() ? ConfigJson.asInt("sample_size[0]", l.get(0)) : ConfigJson.asInt("sample_size", v);
    }

    @Override
    public String toString() {
        return "AutoencoderKLConfig[" + (className == null ? "" : className + ", ") + inChannels + " -> " + latentChannels + " latent ch, blocks "
                + blockOutChannels + " x " + layersPerBlock + ", " + normNumGroups + " groups, scaling " + scalingFactor
                + (shiftFactor != null ? ", shift " + shiftFactor : "") + (latentsMean != null ? ", latents_mean/std" : "")
                + (midBlockAddAttention ? "" : ", no mid attention") + "]";
    }
}
