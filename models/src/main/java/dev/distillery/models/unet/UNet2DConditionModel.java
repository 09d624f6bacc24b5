package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Embedding;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * diffusers' {@code UNet2DConditionModel}: the text-conditioned UNet of Stable Diffusion 1.x/2.x and SDXL, with
 * diffusers' state-dict names and shapes (checked against diffusers for SD 1.5, SD 2.1 and SDXL base), so their
 * checkpoints load with {@link #loadStateDict}. Build one without allocating weights with
 * {@code Init.shapeOnly(() -> new UNet2DConditionModel(config, rng))}.
 *
 * <p>Built: positional time embedding (with LCM's {@code time_cond_proj_dim}); blocks CrossAttnDownBlock2D,
 * DownBlock2D, AttnDownBlock2D, CrossAttnUpBlock2D, UpBlock2D, AttnUpBlock2D; mid blocks UNetMidBlock2DCrossAttn,
 * UNetMidBlock2D or none; Transformer2DModel with conv or linear projections, any transformer depth per block
 * (also per layer, with reverse_transformer_layers_per_block), only_cross_attention; class embeddings (table,
 * "timestep", "identity", "projection", "simple_projection", concatenated or added); SDXL's
 * {@code addition_embed_type="text_time"}; {@code encoder_hid_dim} text projection; ControlNet residuals.
 * Other options fail at construction, naming the option.
 */
public final class UNet2DConditionModel extends Module {
    /**
     * The inputs besides sample, timestep and text context; all optional.
     *
     * @param classLabels                  class ids (I64 [B]) for an embedding table, timesteps [B] for class_embed_type
     *                                     "timestep", or an F32 [B, D] input for "identity"/"projection"/"simple_projection"
     * @param textEmbeds                   SDXL's pooled text embedding [B, P] ({@code added_cond_kwargs["text_embeds"]})
     * @param timeIds                      SDXL's micro-conditioning [B, k] ({@code added_cond_kwargs["time_ids"]}: original
     *                                     size, crop top-left, target size)
     * @param timestepCond                 LCM's guidance-scale embedding [B, time_cond_proj_dim]
     * @param downBlockAdditionalResiduals ControlNet residuals, one per encoder output (conv_in's first), or null
     * @param midBlockAdditionalResidual   ControlNet mid residual, or null
     */
    public record Conditions(Tensor classLabels, Variable textEmbeds, Tensor timeIds, Variable timestepCond,
                             List<Variable> downBlockAdditionalResiduals, Variable midBlockAdditionalResidual) {
        public Conditions {
            downBlockAdditionalResiduals = downBlockAdditionalResiduals == null ? null : Collections.unmodifiableList(new ArrayList<>(downBlockAdditionalResiduals));
        }

        public static Conditions none() {
            return new Conditions(null, null, null, null, null, null);
        }

        /** SDXL's added conditions: pooled text embedding and time ids. */
        public static Conditions sdxl(Variable textEmbeds, Tensor timeIds) {
            return new Conditions(null, textEmbeds, timeIds, null, null, null);
        }

        public Conditions withClassLabels(Tensor labels) {
            return new Conditions(labels, textEmbeds, timeIds, timestepCond, downBlockAdditionalResiduals, midBlockAdditionalResidual);
        }

        public Conditions withTimestepCond(Variable cond) {
            return new Conditions(classLabels, textEmbeds, timeIds, cond, downBlockAdditionalResiduals, midBlockAdditionalResidual);
        }

        public Conditions withControlResiduals(List<Variable> down, Variable mid) {
            return new Conditions(classLabels, textEmbeds, timeIds, timestepCond, down, mid);
        }
    }

    public final UNet2DConditionConfig config;
    public final Conv2d convIn;
    public final TimestepMlp timeEmbedding;
    /** {@code encoder_hid_proj} ("text_proj"), or null. */
    public final Linear encoderHidProj;
    /** An {@link Embedding}, {@link TimestepMlp} or {@link Linear}; null without one or for "identity". */
    public final Module classEmbedding;
    /** SDXL's {@code add_embedding} ("text_time"), or null. */
    public final TimestepMlp addEmbedding;
    public final ModuleList<DownBlock> downBlocks;
    public final ModuleList<UpBlock> upBlocks;
    /** The mid block, or null with {@code mid_block_type} None. */
    public final MidBlock midBlock;
    /** {@code conv_norm_out}, or null with {@code norm_num_groups} None. */
    public final GroupNorm convNormOut;
    public final Conv2d convOut;
    private final int numUpsamplers;

    public UNet2DConditionModel(UNet2DConditionConfig config, Rng rng) {
        this.config = config;
        List<Integer> ch = config.blockOutChannels();
        int n = config.downBlockTypes().size();
        List<Integer> heads = config.numHeadsPerBlock(); // rejects num_attention_heads, as diffusers does
        if (n != config.upBlockTypes().size())
            throw new IllegalArgumentException("Must provide the same number of `down_block_types` as `up_block_types`: " + config.downBlockTypes() + " vs "
                    + config.upBlockTypes());
        if (ch.size() != n)
            throw new IllegalArgumentException("Must provide the same number of `block_out_channels` as `down_block_types`: " + ch + " vs " + config.downBlockTypes());
        List<Boolean> onlyCross = config.onlyCrossAttention().expand(n, "only_cross_attention");
        List<Integer> crossDim = config.crossAttentionDim().expand(n, "cross_attention_dim");
        List<Integer> layers = config.layersPerBlock().expand(n, "layers_per_block");
        List<TransformerDepth> depth = config.transformerLayersPerBlock().expand(n, "transformer_layers_per_block");
        List<Integer> headDims = config.attentionHeadDim().expand(n, "attention_head_dim"); // head width of AttnDown/UpBlock2D
        if (config.reverseTransformerLayersPerBlock() == null && !config.transformerLayersPerBlock().scalar())
            for (TransformerDepth d : depth)
                if (d.perLayer() != null) throw new IllegalArgumentException("Must provide 'reverse_transformer_layers_per_block` if using asymmetrical UNet.");
        if (config.reverseTransformerLayersPerBlock() != null && config.reverseTransformerLayersPerBlock().size() != n)
            throw new IllegalArgumentException("reverse_transformer_layers_per_block has " + config.reverseTransformerLayersPerBlock().size() + " entries for "
                    + n + " up blocks");
        if (!config.timeEmbeddingType().equals("positional"))
            throw new UnsupportedOperationException("time_embedding_type '" + config.timeEmbeddingType() + "' is not supported (positional)");
        if (!config.actFn().equals("silu") && !config.actFn().equals("swish"))
            throw new UnsupportedOperationException("act_fn '" + config.actFn() + "' is not supported by the UNet blocks (silu)");
        if (config.dualCrossAttention()) throw new UnsupportedOperationException("dual_cross_attention is not supported");
        if (!config.attentionType().equals("default")) throw new UnsupportedOperationException("attention_type '" + config.attentionType() + "' is not supported (default)");
        if (config.normNumGroups() == null) throw new UnsupportedOperationException("norm_num_groups None is not supported (the resnets need groups)");
        boolean scaleShift = UNet2DModel.scaleShift(config.resnetTimeScaleShift());
        int groups = config.normNumGroups();
        double eps = config.normEps(), dropout = config.dropout();
        int temb = config.timeEmbedDim();

        convIn = child("conv_in", new Conv2d(config.inChannels(), ch.get(0), config.convInKernel(), 1, (config.convInKernel() - 1) / 2, true, rng));
        timeEmbedding = child("time_embedding", new TimestepMlp(ch.get(0), temb, config.timeCondProjDim() != null ? config.timeCondProjDim() : 0,
                config.actFn(), config.timestepPostAct(), rng));

        String hidType = config.encoderHidDimType();
        if (hidType == null && config.encoderHidDim() != null) hidType = "text_proj";
        if (config.encoderHidDim() == null && hidType != null)
            throw new IllegalArgumentException("`encoder_hid_dim` has to be defined when `encoder_hid_dim_type` is set to " + hidType + ".");
        if (hidType == null) encoderHidProj = null;
        else if (hidType.equals("text_proj")) encoderHidProj = child("encoder_hid_proj", new Linear(config.encoderHidDim(), scalar(config.crossAttentionDim(),
                "cross_attention_dim"), true, rng));
        else throw new UnsupportedOperationException("encoder_hid_dim_type '" + hidType + "' is not supported (text_proj)");

        String cet = config.classEmbedType();
        Integer projDim = config.projectionClassEmbeddingsInputDim();
        if (cet == null && config.numClassEmbeds() != null) classEmbedding = child("class_embedding", new Embedding(config.numClassEmbeds(), temb, rng));
        else if (cet == null || cet.equals("identity")) classEmbedding = null;
        else if (cet.equals("timestep")) classEmbedding = child("class_embedding", new TimestepMlp(ch.get(0), temb, 0, config.actFn(), null, rng));
        else if (cet.equals("projection")) classEmbedding = child("class_embedding", new TimestepMlp(requireProjDim(projDim, cet), temb, rng));
        else if (cet.equals("simple_projection")) classEmbedding = child("class_embedding", new Linear(requireProjDim(projDim, cet), temb, true, rng));
        else throw new UnsupportedOperationException("class_embed_type '" + cet + "' is not supported");

        String aet = config.additionEmbedType();
        if (aet == null) addEmbedding = null;
        else if (aet.equals("text_time")) {
            if (config.additionTimeEmbedDim() == null) throw new IllegalArgumentException("addition_embed_type 'text_time' needs addition_time_embed_dim");
            addEmbedding = child("add_embedding", new TimestepMlp(requireProjDim(projDim, "text_time addition embedding"), temb, rng));
        } else throw new UnsupportedOperationException("addition_embed_type '" + aet + "' is not supported (text_time)");
        if (config.timeEmbeddingActFn() != null) UNetOps.checkActivation("time_embedding_act_fn", config.timeEmbeddingActFn());

        int blockTemb = config.classEmbeddingsConcat() ? 2 * temb : temb;
        downBlocks = child("down_blocks", new ModuleList<>());
        upBlocks = child("up_blocks", new ModuleList<>()); // registered before mid_block, as in diffusers' module order
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            boolean last = i == n - 1;
            String type = UNet2DModel.stripUNetRes(config.downBlockTypes().get(i));
            downBlocks.add(switch (type) {
                case "DownBlock2D" -> new DownBlock2D(in, out, blockTemb, layers.get(i), groups, eps, dropout, scaleShift, !last, config.downsamplePadding(), rng);
                case "CrossAttnDownBlock2D" -> new CrossAttnDownBlock2D(in, out, blockTemb, layers.get(i),
                        depth.get(i).forLayers(layers.get(i), "down_blocks." + i), groups, eps, dropout, scaleShift, heads.get(i), crossDim.get(i),
                        config.useLinearProjection(), onlyCross.get(i), !last, config.downsamplePadding(), rng);
                case "AttnDownBlock2D" -> new AttnDownBlock2D(in, out, blockTemb, layers.get(i), groups, eps, dropout, scaleShift, headDims.get(i), !last,
                        config.downsamplePadding(), rng);
                default -> throw new UnsupportedOperationException("down block type '" + type + "' is not supported (CrossAttnDownBlock2D, DownBlock2D, AttnDownBlock2D)");
            });
        }

        int top = ch.get(n - 1);
        String mid = config.midBlockType();
        if (mid == null) midBlock = null;
        else if (mid.equals("UNetMidBlock2DCrossAttn"))
            midBlock = child("mid_block", new UNetMidBlock2DCrossAttn(top, blockTemb, 1, depth.get(n - 1).forLayers(1, "mid_block"), groups, eps, dropout,
                    scaleShift, heads.get(n - 1), config.midBlockScaleFactor(), crossDim.get(n - 1), config.useLinearProjection(), rng));
        else if (mid.equals("UNetMidBlock2D"))
            midBlock = child("mid_block", new UNetMidBlock2D(top, blockTemb, 0, groups, 0, eps, dropout, scaleShift, false, top,
                    config.midBlockScaleFactor(), rng));
        else throw new UnsupportedOperationException("mid_block_type '" + mid + "' is not supported (UNetMidBlock2DCrossAttn, UNetMidBlock2D, None)");

        int ups = 0;
        out = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i; // index into the per-block lists, reversed
            boolean last = i == n - 1;
            int prevOut = out;
            out = ch.get(r);
            int in = ch.get(Math.max(r - 1, 0));
            if (!last) ups++;
            int numLayers = layers.get(r) + 1;
            TransformerDepth d = config.reverseTransformerLayersPerBlock() != null
                    ? TransformerDepth.perLayer(config.reverseTransformerLayersPerBlock().get(i)) : depth.get(r);
            String type = UNet2DModel.stripUNetRes(config.upBlockTypes().get(i));
            upBlocks.add(switch (type) {
                case "UpBlock2D" -> new UpBlock2D(in, prevOut, out, blockTemb, numLayers, groups, eps, dropout, scaleShift, !last, rng);
                case "CrossAttnUpBlock2D" -> new CrossAttnUpBlock2D(in, prevOut, out, blockTemb, numLayers, d.forLayers(numLayers, "up_blocks." + i), groups,
                        eps, dropout, scaleShift, heads.get(r), crossDim.get(r), config.useLinearProjection(), onlyCross.get(r), !last, rng);
                // diffusers passes attention_head_dim[i] here, not reversed
                case "AttnUpBlock2D" -> new AttnUpBlock2D(in, prevOut, out, blockTemb, numLayers, groups, eps, dropout, scaleShift, headDims.get(i), !last, rng);
                default -> throw new UnsupportedOperationException("up block type '" + type + "' is not supported (CrossAttnUpBlock2D, UpBlock2D, AttnUpBlock2D)");
            });
        }
        numUpsamplers = ups;
        convNormOut = child("conv_norm_out", new GroupNorm(groups, ch.get(0), eps, true));
        convOut = child("conv_out", new Conv2d(ch.get(0), config.outChannels(), config.convOutKernel(), 1, (config.convOutKernel() - 1) / 2, true, rng));
    }

    private static int scalar(PerBlock<Integer> v, String field) {
        if (!v.scalar()) throw new UnsupportedOperationException(field + " must be a single value here, got " + v);
        return v.values().get(0);
    }

    private static int requireProjDim(Integer projDim, String what) {
        if (projDim == null) throw new IllegalArgumentException(what + " requires `projection_class_embeddings_input_dim` be set");
        return projDim;
    }

    /** Text-conditioned forward (SD 1.x/2.x). */
    public Variable forward(Variable sample, Tensor timesteps, Variable encoderHiddenStates) {
        return forward(sample, timesteps, encoderHiddenStates, Conditions.none());
    }

    /**
     * @param sample              [B, in_channels, H, W]
     * @param timesteps           a scalar, one value, or [B] (any numeric dtype)
     * @param encoderHiddenStates the text context [B, L, cross_attention_dim] (or [B, L, encoder_hid_dim] with a projection)
     * @param cond                the other conditions (SDXL's text_embeds/time_ids, class labels, ...)
     * @return the prediction [B, out_channels, H, W]
     */
    public Variable forward(Variable sample, Tensor timesteps, Variable encoderHiddenStates, Conditions cond) {
        int b = sample.size(0);
        int factor = 1 << numUpsamplers;
        boolean forwardUpsampleSize = sample.size(2) % factor != 0 || sample.size(3) % factor != 0;
        if (config.centerInputSample()) sample = sample.mul(2).sub(1);
        int ch0 = config.blockOutChannels().get(0);

        Device device = sample.device();
        Tensor tEmb = UNetOps.timestepFeatures(UNetOps.timestepValues(timesteps, b), ch0, config.flipSinToCos(), config.freqShift()).to(device);
        Variable emb = timeEmbedding.forward(Variable.constant(tEmb), cond.timestepCond());

        String cet = config.classEmbedType();
        if (classEmbedding != null || "identity".equals(cet)) {
            Tensor labels = cond.classLabels();
            if (labels == null) throw new IllegalArgumentException("class_labels should be provided when num_class_embeds > 0");
            Variable classEmb;
            if (classEmbedding instanceof Embedding table) classEmb = table.forward(labels.to(DType.I64));
            else if ("timestep".equals(cet))
                classEmb = ((TimestepMlp) classEmbedding).forward(Variable.constant(UNetOps.timestepFeatures(UNetOps.timestepValues(labels, b), ch0,
                        config.flipSinToCos(), config.freqShift()).to(device)));
            else if (classEmbedding instanceof TimestepMlp mlp) classEmb = mlp.forward(Variable.constant(labels));
            else if (classEmbedding instanceof Linear linear) classEmb = linear.forward(Variable.constant(labels));
            else classEmb = Variable.constant(labels);
            emb = config.classEmbeddingsConcat() ? Variable.concat(List.of(emb, classEmb), -1) : emb.add(classEmb);
        }

        if (addEmbedding != null) {
            if (cond.textEmbeds() == null)
                throw new IllegalArgumentException("addition_embed_type 'text_time' requires `text_embeds` (the pooled text embedding) in the conditions");
            if (cond.timeIds() == null) throw new IllegalArgumentException("addition_embed_type 'text_time' requires `time_ids` in the conditions");
            Tensor ids = cond.timeIds();
            double[] flat = ids.toDoubleArray();
            Tensor timeEmbeds = UNetOps.timestepFeatures(flat, config.additionTimeEmbedDim(), config.flipSinToCos(), config.freqShift())
                    .reshape(cond.textEmbeds().size(0), -1).to(device);
            Variable addEmbeds = Variable.concat(List.of(cond.textEmbeds(), Variable.constant(timeEmbeds)), -1);
            emb = emb.add(addEmbedding.forward(addEmbeds));
        }
        if (config.timeEmbeddingActFn() != null) emb = UNetOps.activation(config.timeEmbeddingActFn(), emb);

        Variable context = encoderHiddenStates;
        if (encoderHidProj != null) context = encoderHidProj.forward(context);

        Variable x = convIn.forward(sample);
        List<Variable> skips = new ArrayList<>();
        skips.add(x);
        for (DownBlock block : downBlocks) x = block.forward(x, emb, context, skips);
        List<Variable> down = cond.downBlockAdditionalResiduals();
        if (down != null) {
            if (down.size() != skips.size())
                throw new IllegalArgumentException(down.size() + " ControlNet down residuals for " + skips.size() + " encoder outputs");
            for (int i = 0; i < skips.size(); i++) skips.set(i, skips.get(i).add(down.get(i)));
        }
        if (midBlock != null) x = midBlock.forward(x, emb, context);
        if (cond.midBlockAdditionalResidual() != null) x = x.add(cond.midBlockAdditionalResidual());

        for (int i = 0; i < upBlocks.size(); i++) {
            UpBlock block = upBlocks.get(i);
            int[] upsampleSize = null;
            if (i < upBlocks.size() - 1 && forwardUpsampleSize) {
                Variable next = skips.get(skips.size() - block.numResnets() - 1);
                upsampleSize = new int[]{next.size(2), next.size(3)};
            }
            x = block.forward(x, skips, emb, context, upsampleSize);
        }
        if (convNormOut != null) x = UNetOps.activation(config.actFn(), convNormOut.forward(x));
        return convOut.forward(x);
    }

    /**
     * This UNet as a sampler's {@link Denoiser} (VP convention: t is the diffusers timestep, the output is what the
     * model predicts), conditioned on a fixed context and conditions; the batch of the context must match the
     * sampler's.
     */
    public Denoiser asDenoiser(Variable encoderHiddenStates, Conditions cond) {
        return (x, t) -> forward(Variable.constant(x), Tensor.scalar(t, DType.F64), encoderHiddenStates, cond).value();
    }

    // ----------------------------------------------------------------------------------------- attention maps

    /**
     * Every attention by dotted state-dict path, e.g. {@code down_blocks.1.attentions.0.transformer_blocks.0.attn2}
     * (cross-attention, maps [B, heads, HW, text tokens]) or {@code ...attn1} (self-attention, [B, heads, HW, HW]).
     */
    public Map<String, Attention> attentionModules() {
        return AttentionMaps.find(this);
    }

    /** Keeps the probabilities of exactly the named attentions on later forwards (others stop keeping). */
    public void keepAttentionMaps(Collection<String> names) {
        AttentionMaps.keep(this, names);
    }

    /** Keeps the probabilities of the attentions whose path matches (others stop keeping), e.g. {@code p -> p.endsWith("attn2")}. */
    public void keepAttentionMaps(Predicate<String> which) {
        AttentionMaps.keep(this, which);
    }

    /** The kept probabilities [B, heads, Lq, Lk] of the last forward, by attention path. */
    public Map<String, Variable> attentionMaps() {
        return AttentionMaps.maps(this);
    }
}
