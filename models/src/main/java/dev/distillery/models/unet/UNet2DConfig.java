package dev.distillery.models.unet;

import dev.distillery.models.config.ConfigJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A diffusers {@code UNet2DModel} {@code config.json} (unconditional or class-conditional pixel/latent UNets), with
 * the defaults of diffusers 0.25's constructor. Absent keys take the defaults; JSON null means Python's None
 * (null for the fields that may be None, false for booleans); keys this record does not model
 * ({@code _diffusers_version}, ...) are kept, as parsed JSON values, in {@link #extras()}. The record accepts any
 * block-type and option strings; {@link UNet2DModel} rejects the ones it does not implement when it is built.
 *
 * @param className            {@code _class_name}, or null
 * @param sampleSize           {@code sample_size} (None): one value or {h, w}, or null
 * @param inChannels           {@code in_channels} (3)
 * @param outChannels          {@code out_channels} (3)
 * @param centerInputSample    {@code center_input_sample} (false): the input is mapped x -> 2x - 1
 * @param timeEmbeddingType    {@code time_embedding_type} ("positional"; "fourier" and "learned" are not built)
 * @param freqShift            {@code freq_shift} (0): the sinusoid's downscale_freq_shift
 * @param flipSinToCos         {@code flip_sin_to_cos} (true)
 * @param downBlockTypes       {@code down_block_types} (DownBlock2D, AttnDownBlock2D x3)
 * @param upBlockTypes         {@code up_block_types} (AttnUpBlock2D x3, UpBlock2D)
 * @param blockOutChannels     {@code block_out_channels} (224, 448, 672, 896)
 * @param layersPerBlock       {@code layers_per_block} (2)
 * @param midBlockScaleFactor  {@code mid_block_scale_factor} (1)
 * @param downsamplePadding    {@code downsample_padding} (1)
 * @param downsampleType       {@code downsample_type} ("conv")
 * @param upsampleType         {@code upsample_type} ("conv")
 * @param dropout              {@code dropout} (0)
 * @param actFn                {@code act_fn} ("silu")
 * @param attentionHeadDim     {@code attention_head_dim} (8): the width of one head (heads = channels / it); null
 *                             means one head over all channels
 * @param normNumGroups        {@code norm_num_groups} (32)
 * @param attnNormNumGroups    {@code attn_norm_num_groups} (None): groups of the mid-block attention's group norm;
 *                             None means norm_num_groups with resnet_time_scale_shift "default", else no group norm
 * @param normEps              {@code norm_eps} (1e-5)
 * @param resnetTimeScaleShift {@code resnet_time_scale_shift} ("default"; or "scale_shift")
 * @param addAttention         {@code add_attention} (true): attention in the mid block
 * @param classEmbedType       {@code class_embed_type} (None; "timestep", "identity")
 * @param numClassEmbeds       {@code num_class_embeds} (None): with class_embed_type None, an embedding table of
 *                             that many classes
 * @param numTrainTimesteps    {@code num_train_timesteps} (None; only used by the "learned" time embedding)
 * @param extras               every other key, in file order, as {@link dev.distillery.tensor.io.Json} values
 */
public record UNet2DConfig(
        String className,
        List<Integer> sampleSize,
        int inChannels,
        int outChannels,
        boolean centerInputSample,
        String timeEmbeddingType,
        double freqShift,
        boolean flipSinToCos,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        List<Integer> blockOutChannels,
        int layersPerBlock,
        double midBlockScaleFactor,
        int downsamplePadding,
        String downsampleType,
        String upsampleType,
        double dropout,
        String actFn,
        Integer attentionHeadDim,
        int normNumGroups,
        Integer attnNormNumGroups,
        double normEps,
        String resnetTimeScaleShift,
        boolean addAttention,
        String classEmbedType,
        Integer numClassEmbeds,
        Integer numTrainTimesteps,
        Map<String, Object> extras) {

    public UNet2DConfig {
        sampleSize = sampleSize == null ? null : List.copyOf(sampleSize);
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        Objects.requireNonNull(timeEmbeddingType, "time_embedding_type");
        Objects.requireNonNull(downsampleType, "downsample_type");
        Objects.requireNonNull(upsampleType, "upsample_type");
        Objects.requireNonNull(actFn, "act_fn");
        Objects.requireNonNull(resnetTimeScaleShift, "resnet_time_scale_shift");
        extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    /** diffusers' UNet2DModel constructor defaults. */
    public static UNet2DConfig defaults() {
        return new UNet2DConfig(null, null, 3, 3, false, "positional", 0, true,
                List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
                List.of("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
                List.of(224, 448, 672, 896), 2, 1, 1, "conv", "conv", 0, "silu", 8, 32, null, 1e-5, "default", true, null, null, null, Map.of());
    }

    /** Reads a {@code config.json}; errors name the file and the key. */
    public static UNet2DConfig load(Path file) throws IOException {
        return ConfigJson.load(file, UNet2DConfig::fromJson);
    }

    /** Parses the text of a {@code config.json}. */
    public static UNet2DConfig parse(String json) {
        return ConfigJson.parse(json, "UNet2DModel config", UNet2DConfig::fromJson);
    }

    /** Builds a config from a parsed JSON object. */
    public static UNet2DConfig fromJson(Object root) {
        ConfigJson r = new ConfigJson(root, "UNet2DModel config");
        UNet2DConfig d = defaults();
        return new UNet2DConfig(
                r.nullableString("_class_name", null),
                r.intOrInts("sample_size", null),
                r.integer("in_channels", d.inChannels),
                r.integer("out_channels", d.outChannels),
                r.bool("center_input_sample", d.centerInputSample),
                r.string("time_embedding_type", d.timeEmbeddingType),
                r.number("freq_shift", d.freqShift),
                r.bool("flip_sin_to_cos", d.flipSinToCos),
                r.strings("down_block_types", d.downBlockTypes),
                r.strings("up_block_types", d.upBlockTypes),
                r.ints("block_out_channels", d.blockOutChannels),
                r.integer("layers_per_block", d.layersPerBlock),
                r.number("mid_block_scale_factor", d.midBlockScaleFactor),
                r.integer("downsample_padding", d.downsamplePadding),
                r.string("downsample_type", d.downsampleType),
                r.string("upsample_type", d.upsampleType),
                r.number("dropout", d.dropout),
                r.string("act_fn", d.actFn),
                r.nullableInt("attention_head_dim", d.attentionHeadDim),
                r.integer("norm_num_groups", d.normNumGroups),
                r.nullableInt("attn_norm_num_groups", d.attnNormNumGroups),
                r.number("norm_eps", d.normEps),
                r.string("resnet_time_scale_shift", d.resnetTimeScaleShift),
                r.bool("add_attention", d.addAttention),
                r.nullableString("class_embed_type", d.classEmbedType),
                r.nullableInt("num_class_embeds", d.numClassEmbeds),
                r.nullableInt("num_train_timesteps", d.numTrainTimesteps),
                r.extras());
    }

    /** The time embedding width: 4 * block_out_channels[0]. */
    public int timeEmbedDim() {
        return blockOutChannels.get(0) * 4;
    }
}
