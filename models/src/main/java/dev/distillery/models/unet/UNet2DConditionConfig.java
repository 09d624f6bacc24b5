package dev.distillery.models.unet;

import dev.distillery.models.config.ConfigJson;
import dev.distillery.tensor.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A diffusers {@code UNet2DConditionModel} {@code config.json} (Stable Diffusion 1.x/2.x, SDXL, ...), with the
 * defaults of diffusers 0.25's constructor. Absent keys take the defaults; JSON null means Python's None (null for
 * the fields that may be None, false for booleans); keys this record does not model are kept in {@link #extras()}.
 * Fields that diffusers accepts as one value or one value per block are {@link PerBlock}s, as written.
 *
 * <p><b>Heads.</b> As in diffusers, {@code attention_head_dim} is, for the cross-attention blocks, the <em>number
 * of heads</em> (the SD 1.x naming accident, diffusers issue 2011): {@link #numHeadsPerBlock()} is
 * {@code attention_head_dim} per block, and each head is {@code channels / heads} wide (SD 1.5: 8 heads of 40, 80,
 * 160; SDXL: 5, 10, 20 heads of 64). Setting {@code num_attention_heads} is an error, as in diffusers. The decoder
 * takes the per-block head counts reversed.
 *
 * @param className                         {@code _class_name}, or null
 * @param sampleSize                        {@code sample_size} (None): one value or {h, w}, or null
 * @param inChannels                        {@code in_channels} (4)
 * @param outChannels                       {@code out_channels} (4)
 * @param centerInputSample                 {@code center_input_sample} (false)
 * @param flipSinToCos                      {@code flip_sin_to_cos} (true)
 * @param freqShift                         {@code freq_shift} (0)
 * @param downBlockTypes                    {@code down_block_types} (CrossAttnDownBlock2D x3, DownBlock2D)
 * @param midBlockType                      {@code mid_block_type} ("UNetMidBlock2DCrossAttn"; null: no mid block)
 * @param upBlockTypes                      {@code up_block_types} (UpBlock2D, CrossAttnUpBlock2D x3)
 * @param onlyCrossAttention                {@code only_cross_attention} (false)
 * @param blockOutChannels                  {@code block_out_channels} (320, 640, 1280, 1280)
 * @param layersPerBlock                    {@code layers_per_block} (2)
 * @param downsamplePadding                 {@code downsample_padding} (1)
 * @param midBlockScaleFactor               {@code mid_block_scale_factor} (1)
 * @param dropout                           {@code dropout} (0)
 * @param actFn                             {@code act_fn} ("silu")
 * @param normNumGroups                     {@code norm_num_groups} (32)
 * @param normEps                           {@code norm_eps} (1e-5)
 * @param crossAttentionDim                 {@code cross_attention_dim} (1280)
 * @param transformerLayersPerBlock         {@code transformer_layers_per_block} (1)
 * @param reverseTransformerLayersPerBlock  {@code reverse_transformer_layers_per_block} (None)
 * @param encoderHidDim                     {@code encoder_hid_dim} (None)
 * @param encoderHidDimType                 {@code encoder_hid_dim_type} (None; "text_proj" when encoder_hid_dim is set)
 * @param attentionHeadDim                  {@code attention_head_dim} (8): heads of the cross-attention blocks, see above
 * @param numAttentionHeads                 {@code num_attention_heads} (None; setting it is an error, as in diffusers)
 * @param dualCrossAttention                {@code dual_cross_attention} (false)
 * @param useLinearProjection               {@code use_linear_projection} (false): proj_in/proj_out are linears, not 1x1 convs
 * @param classEmbedType                    {@code class_embed_type} (None)
 * @param additionEmbedType                 {@code addition_embed_type} (None; "text_time" for SDXL)
 * @param additionTimeEmbedDim              {@code addition_time_embed_dim} (None; 256 for SDXL)
 * @param numClassEmbeds                    {@code num_class_embeds} (None)
 * @param upcastAttention                   {@code upcast_attention} (false; no effect in F32)
 * @param resnetTimeScaleShift              {@code resnet_time_scale_shift} ("default")
 * @param resnetSkipTimeAct                 {@code resnet_skip_time_act} (false; used by block types not built here)
 * @param resnetOutScaleFactor              {@code resnet_out_scale_factor} (1.0; used by block types not built here)
 * @param timeEmbeddingType                 {@code time_embedding_type} ("positional")
 * @param timeEmbeddingDim                  {@code time_embedding_dim} (None: 4 * block_out_channels[0])
 * @param timeEmbeddingActFn                {@code time_embedding_act_fn} (None)
 * @param timestepPostAct                   {@code timestep_post_act} (None)
 * @param timeCondProjDim                   {@code time_cond_proj_dim} (None)
 * @param convInKernel                      {@code conv_in_kernel} (3)
 * @param convOutKernel                     {@code conv_out_kernel} (3)
 * @param projectionClassEmbeddingsInputDim {@code projection_class_embeddings_input_dim} (None; 2816 for SDXL)
 * @param attentionType                     {@code attention_type} ("default")
 * @param classEmbeddingsConcat             {@code class_embeddings_concat} (false)
 * @param midBlockOnlyCrossAttention        {@code mid_block_only_cross_attention} (None)
 * @param crossAttentionNorm                {@code cross_attention_norm} (None)
 * @param additionEmbedTypeNumHeads         {@code addition_embed_type_num_heads} (64)
 * @param extras                            every other key, in file order, as {@link dev.distillery.tensor.io.Json} values
 */
public record UNet2DConditionConfig(
        String className,
        List<Integer> sampleSize,
        int inChannels,
        int outChannels,
        boolean centerInputSample,
        boolean flipSinToCos,
        double freqShift,
        List<String> downBlockTypes,
        String midBlockType,
        List<String> upBlockTypes,
        PerBlock<Boolean> onlyCrossAttention,
        List<Integer> blockOutChannels,
        PerBlock<Integer> layersPerBlock,
        int downsamplePadding,
        double midBlockScaleFactor,
        double dropout,
        String actFn,
        Integer normNumGroups,
        double normEps,
        PerBlock<Integer> crossAttentionDim,
        PerBlock<TransformerDepth> transformerLayersPerBlock,
        List<List<Integer>> reverseTransformerLayersPerBlock,
        Integer encoderHidDim,
        String encoderHidDimType,
        PerBlock<Integer> attentionHeadDim,
        PerBlock<Integer> numAttentionHeads,
        boolean dualCrossAttention,
        boolean useLinearProjection,
        String classEmbedType,
        String additionEmbedType,
        Integer additionTimeEmbedDim,
        Integer numClassEmbeds,
        boolean upcastAttention,
        String resnetTimeScaleShift,
        boolean resnetSkipTimeAct,
        double resnetOutScaleFactor,
        String timeEmbeddingType,
        Integer timeEmbeddingDim,
        String timeEmbeddingActFn,
        String timestepPostAct,
        Integer timeCondProjDim,
        int convInKernel,
        int convOutKernel,
        Integer projectionClassEmbeddingsInputDim,
        String attentionType,
        boolean classEmbeddingsConcat,
        Boolean midBlockOnlyCrossAttention,
        String crossAttentionNorm,
        int additionEmbedTypeNumHeads,
        Map<String, Object> extras) {

    public UNet2DConditionConfig {
        sampleSize = sampleSize == null ? null : List.copyOf(sampleSize);
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        Objects.requireNonNull(onlyCrossAttention, "only_cross_attention");
        Objects.requireNonNull(layersPerBlock, "layers_per_block");
        Objects.requireNonNull(crossAttentionDim, "cross_attention_dim");
        Objects.requireNonNull(transformerLayersPerBlock, "transformer_layers_per_block");
        Objects.requireNonNull(actFn, "act_fn");
        Objects.requireNonNull(resnetTimeScaleShift, "resnet_time_scale_shift");
        Objects.requireNonNull(timeEmbeddingType, "time_embedding_type");
        Objects.requireNonNull(attentionType, "attention_type");
        if (reverseTransformerLayersPerBlock != null) {
            List<List<Integer>> copy = new ArrayList<>();
            for (List<Integer> l : reverseTransformerLayersPerBlock) copy.add(List.copyOf(l));
            reverseTransformerLayersPerBlock = Collections.unmodifiableList(copy);
        }
        extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    /** diffusers' UNet2DConditionModel constructor defaults (Stable Diffusion 1.x's layout with cross_attention_dim 1280). */
    public static UNet2DConditionConfig defaults() {
        return new UNet2DConditionConfig(null, null, 4, 4, false, true, 0,
                List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"), "UNetMidBlock2DCrossAttn",
                List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"), PerBlock.of(false),
                List.of(320, 640, 1280, 1280), PerBlock.of(2), 1, 1, 0, "silu", 32, 1e-5, PerBlock.of(1280), PerBlock.of(TransformerDepth.of(1)),
                null, null, null, PerBlock.of(8), null, false, false, null, null, null, null, false, "default", false, 1.0, "positional", null,
                null, null, null, 3, 3, null, "default", false, null, null, 64, Map.of());
    }

    /** Reads a {@code config.json}; errors name the file and the key. */
    public static UNet2DConditionConfig load(Path file) throws IOException {
        return ConfigJson.load(file, UNet2DConditionConfig::fromJson);
    }

    /** Parses the text of a {@code config.json}. */
    public static UNet2DConditionConfig parse(String json) {
        return ConfigJson.parse(json, "UNet2DConditionModel config", UNet2DConditionConfig::fromJson);
    }

    /** Builds a config from a parsed JSON object. */
    public static UNet2DConditionConfig fromJson(Object root) {
        ConfigJson r = new ConfigJson(root, "UNet2DConditionModel config");
        UNet2DConditionConfig d = defaults();
        return new UNet2DConditionConfig(
                r.nullableString("_class_name", null),
                r.intOrInts("sample_size", null),
                r.integer("in_channels", d.inChannels),
                r.integer("out_channels", d.outChannels),
                r.bool("center_input_sample", d.centerInputSample),
                r.bool("flip_sin_to_cos", d.flipSinToCos),
                r.number("freq_shift", d.freqShift),
                r.strings("down_block_types", d.downBlockTypes),
                r.nullableString("mid_block_type", d.midBlockType),
                r.strings("up_block_types", d.upBlockTypes),
                perBlockBool(r, "only_cross_attention", d.onlyCrossAttention),
                r.ints("block_out_channels", d.blockOutChannels),
                required("layers_per_block", perBlockInt(r, "layers_per_block", d.layersPerBlock)),
                r.integer("downsample_padding", d.downsamplePadding),
                r.number("mid_block_scale_factor", d.midBlockScaleFactor),
                r.number("dropout", d.dropout),
                r.string("act_fn", d.actFn),
                r.nullableInt("norm_num_groups", d.normNumGroups),
                r.number("norm_eps", d.normEps),
                required("cross_attention_dim", perBlockInt(r, "cross_attention_dim", d.crossAttentionDim)),
                transformerDepths(r, "transformer_layers_per_block", d.transformerLayersPerBlock),
                r.nestedInts("reverse_transformer_layers_per_block", null),
                r.nullableInt("encoder_hid_dim", null),
                r.nullableString("encoder_hid_dim_type", null),
                perBlockInt(r, "attention_head_dim", d.attentionHeadDim),
                perBlockInt(r, "num_attention_heads", null),
                r.bool("dual_cross_attention", d.dualCrossAttention),
                r.bool("use_linear_projection", d.useLinearProjection),
                r.nullableString("class_embed_type", null),
                r.nullableString("addition_embed_type", null),
                r.nullableInt("addition_time_embed_dim", null),
                r.nullableInt("num_class_embeds", null),
                r.bool("upcast_attention", d.upcastAttention),
                r.string("resnet_time_scale_shift", d.resnetTimeScaleShift),
                r.bool("resnet_skip_time_act", d.resnetSkipTimeAct),
                r.number("resnet_out_scale_factor", d.resnetOutScaleFactor),
                r.string("time_embedding_type", d.timeEmbeddingType),
                r.nullableInt("time_embedding_dim", null),
                r.nullableString("time_embedding_act_fn", null),
                r.nullableString("timestep_post_act", null),
                r.nullableInt("time_cond_proj_dim", null),
                r.integer("conv_in_kernel", d.convInKernel),
                r.integer("conv_out_kernel", d.convOutKernel),
                r.nullableInt("projection_class_embeddings_input_dim", null),
                r.string("attention_type", d.attentionType),
                r.bool("class_embeddings_concat", d.classEmbeddingsConcat),
                r.nullableBool("mid_block_only_cross_attention", null),
                r.nullableString("cross_attention_norm", null),
                r.integer("addition_embed_type_num_heads", d.additionEmbedTypeNumHeads),
                r.extras());
    }

    private static <T> T required(String key, T v) {
        if (v == null) throw new IllegalArgumentException("'" + key + "' must not be null");
        return v;
    }

    /** An integer or an array of integers, as written; null for a JSON null. */
    private static PerBlock<Integer> perBlockInt(ConfigJson r, String k, PerBlock<Integer> def) {
        Object v = r.raw(k);
        if (v == null) return def;
        if (v == Json.NULL) return null;
        if (v instanceof List<?>) return PerBlock.list(ConfigJson.asInts(k, v));
        if (v instanceof Json.Num) return PerBlock.of(ConfigJson.asInt(k, v));
        throw ConfigJson.typeError(k, "an integer or an array of integers", v);
    }

    /** A boolean or an array of booleans, as written; a JSON null is false (Python's None is falsy). */
    private static PerBlock<Boolean> perBlockBool(ConfigJson r, String k, PerBlock<Boolean> def) {
        Object v = r.raw(k);
        if (v == null) return def;
        if (v == Json.NULL) return PerBlock.of(false);
        if (v instanceof Boolean b) return PerBlock.of(b);
        if (!(v instanceof List<?> l)) throw ConfigJson.typeError(k, "a boolean or an array of booleans", v);
        List<Boolean> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof Boolean b)) throw ConfigJson.typeError(k + "[" + i + "]", "a boolean", l.get(i));
            out.add(b);
        }
        return PerBlock.list(out);
    }

    /** {@code transformer_layers_per_block}: an integer, or an array of integers and/or arrays of integers. */
    private static PerBlock<TransformerDepth> transformerDepths(ConfigJson r, String k, PerBlock<TransformerDepth> def) {
        Object v = r.raw(k);
        if (v == null) return def;
        if (v instanceof Json.Num) return PerBlock.of(TransformerDepth.of(ConfigJson.asInt(k, v)));
        if (!(v instanceof List<?> l)) throw ConfigJson.typeError(k, "an integer or an array", v);
        List<TransformerDepth> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            Object e = l.get(i);
            String ki = k + "[" + i + "]";
            out.add(e instanceof List<?> ? TransformerDepth.perLayer(ConfigJson.asInts(ki, e)) : TransformerDepth.of(ConfigJson.asInt(ki, e)));
        }
        return PerBlock.list(out);
    }

    /** The time embedding width: time_embedding_dim, or 4 * block_out_channels[0]. */
    public int timeEmbedDim() {
        return timeEmbeddingDim != null ? timeEmbeddingDim : blockOutChannels.get(0) * 4;
    }

    /**
     * The number of heads of each down block's transformers, diffusers' {@code num_attention_heads or
     * attention_head_dim} (an explicit num_attention_heads is rejected, as diffusers does).
     */
    public List<Integer> numHeadsPerBlock() {
        if (numAttentionHeads != null)
            throw new IllegalArgumentException("num_attention_heads cannot be set on UNet2DConditionModel (diffusers rejects it too, see diffusers issue "
                    + "2011): give the number of heads as attention_head_dim");
        if (attentionHeadDim == null) throw new IllegalArgumentException("attention_head_dim must not be null");
        return attentionHeadDim.expand(downBlockTypes.size(), "attention_head_dim");
    }
}
