package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Embedding;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * diffusers' {@code UNet2DModel}: an unconditional or class-conditional UNet (DDPM/ADM-style pixel or latent
 * models) with diffusers' state-dict names ({@code conv_in, time_embedding.linear_1, class_embedding,
 * down_blocks.*, up_blocks.*, mid_block, conv_norm_out, conv_out}), so its checkpoints load with
 * {@link #loadStateDict}.
 *
 * <p>Built: positional time embedding; class conditioning by an embedding table ({@code num_class_embeds}),
 * {@code class_embed_type} "timestep" or "identity"; blocks DownBlock2D, AttnDownBlock2D, UpBlock2D, AttnUpBlock2D
 * with conv down/upsampling; UNetMidBlock2D; resnet_time_scale_shift "default" or "scale_shift"; act_fn silu.
 * Other options fail at construction, naming the option.
 */
public final class UNet2DModel extends Module {
    public final UNet2DConfig config;
    public final Conv2d convIn;
    public final TimestepMlp timeEmbedding;
    /** The class embedding: an {@link Embedding}, a {@link TimestepMlp} ("timestep"), or null (none, or "identity"). */
    public final Module classEmbedding;
    public final ModuleList<DownBlock> downBlocks;
    public final ModuleList<UpBlock> upBlocks;
    public final UNetMidBlock2D midBlock;
    public final GroupNorm convNormOut;
    public final Conv2d convOut;

    public UNet2DModel(UNet2DConfig config, Rng rng) {
        this.config = config;
        List<Integer> ch = config.blockOutChannels();
        int n = ch.size();
        if (config.downBlockTypes().size() != config.upBlockTypes().size())
            throw new IllegalArgumentException("Must provide the same number of `down_block_types` as `up_block_types`: " + config.downBlockTypes() + " vs "
                    + config.upBlockTypes());
        if (n != config.downBlockTypes().size())
            throw new IllegalArgumentException("Must provide the same number of `block_out_channels` as `down_block_types`: " + ch + " vs " + config.downBlockTypes());
        if (!config.timeEmbeddingType().equals("positional"))
            throw new UnsupportedOperationException("time_embedding_type '" + config.timeEmbeddingType() + "' is not supported (positional)");
        if (!config.actFn().equals("silu") && !config.actFn().equals("swish"))
            throw new UnsupportedOperationException("act_fn '" + config.actFn() + "' is not supported by the UNet blocks (silu)");
        boolean scaleShift = scaleShift(config.resnetTimeScaleShift());
        int temb = config.timeEmbedDim();
        int groups = config.normNumGroups();
        double eps = config.normEps();

        convIn = child("conv_in", new Conv2d(config.inChannels(), ch.get(0), 3, 1, 1, true, rng));
        timeEmbedding = child("time_embedding", new TimestepMlp(ch.get(0), temb, rng));
        String cet = config.classEmbedType();
        if (cet == null && config.numClassEmbeds() != null) classEmbedding = child("class_embedding", new Embedding(config.numClassEmbeds(), temb, rng));
        else if ("timestep".equals(cet)) classEmbedding = child("class_embedding", new TimestepMlp(ch.get(0), temb, rng));
        else if (cet == null || cet.equals("identity")) classEmbedding = null;
        else throw new UnsupportedOperationException("class_embed_type '" + cet + "' is not supported by UNet2DModel (None, timestep, identity)");

        downBlocks = child("down_blocks", new ModuleList<>());
        upBlocks = child("up_blocks", new ModuleList<>()); // registered before mid_block, as in diffusers' module order
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            boolean last = i == n - 1;
            int headDim = config.attentionHeadDim() != null ? config.attentionHeadDim() : out;
            String type = stripUNetRes(config.downBlockTypes().get(i));
            if (!config.downsampleType().equals("conv") && !last)
                throw new UnsupportedOperationException("downsample_type '" + config.downsampleType() + "' is not supported (conv)");
            downBlocks.add(switch (type) {
                case "DownBlock2D" -> new DownBlock2D(in, out, temb, config.layersPerBlock(), groups, eps, config.dropout(), scaleShift, !last,
                        config.downsamplePadding(), rng);
                case "AttnDownBlock2D" -> new AttnDownBlock2D(in, out, temb, config.layersPerBlock(), groups, eps, config.dropout(), scaleShift, headDim,
                        !last, config.downsamplePadding(), rng);
                default -> throw new UnsupportedOperationException("down block type '" + type + "' is not supported by UNet2DModel (DownBlock2D, AttnDownBlock2D)");
            });
        }
        int last = ch.get(n - 1);
        int attnGroups = config.attnNormNumGroups() != null ? config.attnNormNumGroups() : scaleShift ? 0 : groups;
        midBlock = child("mid_block", new UNetMidBlock2D(last, temb, 1, groups, attnGroups, eps, config.dropout(), scaleShift, config.addAttention(),
                config.attentionHeadDim() != null ? config.attentionHeadDim() : last, config.midBlockScaleFactor(), rng));

        out = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int prevOut = out;
            out = ch.get(n - 1 - i);
            int in = ch.get(Math.max(n - 2 - i, 0));
            boolean lastUp = i == n - 1;
            int headDim = config.attentionHeadDim() != null ? config.attentionHeadDim() : out;
            String type = stripUNetRes(config.upBlockTypes().get(i));
            if (!config.upsampleType().equals("conv") && !lastUp)
                throw new UnsupportedOperationException("upsample_type '" + config.upsampleType() + "' is not supported (conv)");
            upBlocks.add(switch (type) {
                case "UpBlock2D" -> new UpBlock2D(in, prevOut, out, temb, config.layersPerBlock() + 1, groups, eps, config.dropout(), scaleShift, !lastUp, rng);
                case "AttnUpBlock2D" -> new AttnUpBlock2D(in, prevOut, out, temb, config.layersPerBlock() + 1, groups, eps, config.dropout(), scaleShift,
                        headDim, !lastUp, rng);
                default -> throw new UnsupportedOperationException("up block type '" + type + "' is not supported by UNet2DModel (UpBlock2D, AttnUpBlock2D)");
            });
        }
        convNormOut = child("conv_norm_out", new GroupNorm(groups, ch.get(0), eps, true));
        convOut = child("conv_out", new Conv2d(ch.get(0), config.outChannels(), 3, 1, 1, true, rng));
    }

    static boolean scaleShift(String resnetTimeScaleShift) {
        return switch (resnetTimeScaleShift) {
            case "default" -> false;
            case "scale_shift" -> true;
            default -> throw new UnsupportedOperationException("resnet_time_scale_shift '" + resnetTimeScaleShift + "' is not supported (default, scale_shift)");
        };
    }

    static String stripUNetRes(String type) {
        return type.startsWith("UNetRes") ? type.substring(7) : type;
    }

    /** Unconditional forward. */
    public Variable forward(Variable sample, Tensor timesteps) {
        return forward(sample, timesteps, null);
    }

    /**
     * @param sample      [B, in_channels, H, W], H and W divisible by 2^(levels - 1)
     * @param timesteps   a scalar, one value, or [B] (any numeric dtype)
     * @param classLabels I64 class ids [B] for an embedding table, timesteps [B] for class_embed_type "timestep",
     *                    an F32 embedding [B, temb] for "identity"; null when the model is unconditional
     * @return the prediction [B, out_channels, H, W]
     */
    public Variable forward(Variable sample, Tensor timesteps, Tensor classLabels) {
        Encoded e = encode(sample, timesteps, classLabels);
        Variable x = e.mid;
        for (UpBlock block : upBlocks) x = block.forward(x, e.skips, e.emb, null, null);
        return convOut.forward(convNormOut.forwardSilu(x));
    }

    /**
     * The bottleneck features: the mid block's output {@code [B, C_last, H / 2^(levels-1), W / 2^(levels-1)]} of the
     * same pass {@link #forward} makes (conv_in, down blocks, mid block), with the graph, for heads that read the
     * UNet's features (e.g. a GAN discriminator on a score network, spec disback.md §2.4). Arguments as {@link #forward}.
     */
    public Variable midFeatures(Variable sample, Tensor timesteps, Tensor classLabels) {
        return encode(sample, timesteps, classLabels).mid;
    }

    /** The encoder half of a pass: the mid block's output, the conditioning embedding and the skip activations. */
    private record Encoded(Variable mid, Variable emb, List<Variable> skips) {}

    private Encoded encode(Variable sample, Tensor timesteps, Tensor classLabels) {
        int b = sample.size(0);
        if (config.centerInputSample()) sample = sample.mul(2).sub(1);
        Device device = sample.device();
        Tensor tEmb = UNetOps.timestepFeatures(UNetOps.timestepValues(timesteps, b), config.blockOutChannels().get(0), config.flipSinToCos(), config.freqShift())
                .to(device);
        Variable emb = timeEmbedding.forward(Variable.constant(tEmb));
        boolean identity = "identity".equals(config.classEmbedType());
        if (classEmbedding != null || identity) {
            if (classLabels == null) throw new IllegalArgumentException("class_labels should be provided when doing class conditioning");
            Variable classEmb;
            if (classEmbedding instanceof Embedding table) classEmb = table.forward(classLabels.to(DType.I64));
            else if (classEmbedding instanceof TimestepMlp mlp)
                classEmb = mlp.forward(Variable.constant(UNetOps.timestepFeatures(UNetOps.timestepValues(classLabels, b), config.blockOutChannels().get(0),
                        config.flipSinToCos(), config.freqShift()).to(device)));
            else classEmb = Variable.constant(classLabels);
            emb = emb.add(classEmb);
        } else if (classLabels != null) {
            throw new IllegalArgumentException("class_embedding needs to be initialized in order to use class conditioning");
        }

        Variable x = convIn.forward(sample);
        List<Variable> skips = new ArrayList<>();
        skips.add(x);
        for (DownBlock block : downBlocks) x = block.forward(x, emb, null, skips);
        return new Encoded(midBlock.forward(x, emb, null), emb, skips);
    }

    /**
     * This UNet as a sampler's {@link Denoiser} (VP convention: t is the diffusers timestep, the output is what the
     * model predicts), with fixed class labels (or null when unconditional).
     */
    public Denoiser asDenoiser(Tensor classLabels) {
        return (x, t) -> forward(Variable.constant(x), Tensor.scalar(t, DType.F64), classLabels).value();
    }

    // ----------------------------------------------------------------------------------------- attention maps

    /** Every attention by dotted state-dict path ({@code down_blocks.1.attentions.0}, {@code mid_block.attentions.0}). */
    public Map<String, Attention> attentionModules() {
        return AttentionMaps.find(this);
    }

    /** Keeps the probabilities of exactly the named attentions on later forwards (others stop keeping). */
    public void keepAttentionMaps(Collection<String> names) {
        AttentionMaps.keep(this, names);
    }

    /** Keeps the probabilities of the attentions whose path matches (others stop keeping). */
    public void keepAttentionMaps(Predicate<String> which) {
        AttentionMaps.keep(this, which);
    }

    /** The kept probabilities [B, heads, Lq, Lk] of the last forward, by attention path. */
    public Map<String, Variable> attentionMaps() {
        return AttentionMaps.maps(this);
    }
}
