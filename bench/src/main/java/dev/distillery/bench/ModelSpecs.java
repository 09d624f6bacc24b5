package dev.distillery.bench;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.autograd.optim.GradClip;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.models.text.ClipTextConfig;
import dev.distillery.models.text.ClipTextModel;
import dev.distillery.models.unet.UNet2DConfig;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Whole-model cases: the forward, or one training step (forward, MSE, backward, AdamW), of the project's small
 * pixel UNet ({@link UNet2DModel}) and of its from-scratch CLIP text encoder ({@link ClipTextModel} with
 * {@link ClipTextConfig#small()}).
 *
 * <p>The PyTorch twins are {@code bench/peers/torch_models.py} (the same architectures with the same state-dict
 * names, written in plain PyTorch: no diffusers or transformers) driven by {@code unet()} and {@code textenc()} in
 * {@code torch_cases.py}. {@link ExportCase} writes one of these cases' weights, inputs and results at a tiny size
 * so that {@code torch_cases.py --check-against} can show the two compute the same function.
 *
 * <p>FLOPs count the convolutions, linear layers and attention matmuls (2 per multiply-add; norms, activations,
 * embeddings and the optimiser are not counted); a training step counts 3x its forward.
 */
public final class ModelSpecs {
    private ModelSpecs() {}

    /** AdamW as every training-step case uses it (and torch.optim.AdamW in the peer). */
    static final double LR = 1e-4, BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8, WEIGHT_DECAY = 0.01;

    /** Timesteps are uniform integers on [0, NUM_TRAIN_TIMESTEPS), as a DDPM training step draws them. */
    static final int NUM_TRAIN_TIMESTEPS = 1000;

    static Optimizer adamW(Module model) {
        return Adam.adamW(model.namedParameters(), LR, BETA1, BETA2, EPS, WEIGHT_DECAY);
    }

    // ------------------------------------------------------------------------------------------ UNet

    /** Gradient clipping norm and EMA decay of {@link UNetTrainCase} (and of the PyTorch peer's twin). */
    static final double CLIP_NORM = 1.0, EMA_DECAY = 0.999;

    /**
     * {@link UNetCase}'s training step (its {@code step} must be true) with what a training loop adds around it, as
     * {@code EdmTeacherLoop} and {@code ScoreDistiller} do: gradient clipping to global norm {@link #CLIP_NORM} before
     * AdamW and an EMA of the weights (decay {@link #EMA_DECAY}) after. On a device these touch every parameter once
     * more per step, so they show what per-parameter work costs in launches.
     */
    public record UNetTrainCase(UNetCase unet) implements Spec {
        public UNetTrainCase {
            if (!unet.step()) throw new IllegalArgumentException("UNetTrainCase: the UNet case must be a training step");
        }

        @Override
        public double flops() {
            return unet.flops();
        }

        @Override
        public double bytes() {
            return 0;
        }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Prepared p = unet.make(seed);
            UNet2DModel model = (UNet2DModel) p.model();
            Variable x = Variable.constant(p.inputs().get("sample")), target = Variable.constant(p.inputs().get("target"));
            Tensor t = p.inputs().get("timesteps");
            Optimizer opt = adamW(model);
            Ema ema = new Ema(model, EMA_DECAY);
            return () -> {
                opt.zeroGrad();
                Variable loss = model.forward(x, t).mseLoss(target);
                loss.backward();
                GradClip.clipGradNorm(model.namedParameters().values(), CLIP_NORM);
                opt.step();
                ema.update();
                return loss.value();
            };
        }
    }

    /**
     * A 3-level {@link UNet2DModel}: down blocks (DownBlock2D, AttnDownBlock2D, AttnDownBlock2D), up blocks
     * (AttnUpBlock2D, AttnUpBlock2D, UpBlock2D), the default UNetMidBlock2D (resnet, attention, resnet), SiLU,
     * positional time embedding (flip_sin_to_cos, freq_shift 0, width 4 x channels[0]), conv down/upsampling,
     * norm eps 1e-5; attention has channels / headDim heads of headDim. Inputs: x [batch, inOut, size, size] ~ N(0, 1)
     * (the noisy sample), integer timesteps [batch] on [0, 1000) and, for the step, a target noise of x's shape
     * ~ N(0, 1) (epsilon prediction: loss = mean((unet(x, t) - target)^2)).
     *
     * @param step false: the forward under {@link NoGrad}; true: forward, MSE, backward, AdamW (lr 1e-4, wd 0.01)
     */
    public record UNetCase(int batch, int size, int inOut, List<Integer> channels, int layersPerBlock, int headDim, int groups, boolean step)
            implements Spec {
        public UNetCase {
            channels = List.copyOf(channels);
            if (channels.size() != 3) throw new IllegalArgumentException("UNetCase: three levels of block_out_channels, got " + channels);
        }

        /**
         * The project's small pixel UNet: 32x32, 1 channel in and out, block_out_channels (64, 128, 128),
         * layers_per_block 2, attention at 16x16 and 8x8 (and in the 8x8 mid block) with diffusers' default
         * attention_head_dim 8 (so 16 heads of 8 at 128 channels), norm_num_groups 32.
         */
        public static UNetCase small(int batch, boolean step) {
            return new UNetCase(batch, 32, 1, List.of(64, 128, 128), 2, 8, 32, step);
        }

        /**
         * A tiny UNet for device benchmarks that must finish in seconds on an OpenCL CPU device: 16x16, 1 channel,
         * block_out_channels (32, 64, 64), one layer per block, heads of 8, 8 groups.
         */
        public static UNetCase tiny(int batch, boolean step) {
            return new UNetCase(batch, 16, 1, List.of(32, 64, 64), 1, 8, 8, step);
        }

        /** The diffusers config this case builds. */
        public UNet2DConfig config() {
            return unetConfig(size, inOut, channels, layersPerBlock, headDim, groups);
        }

        @Override
        public double flops() {
            return (step ? 3 : 1) * unetForwardFlops(this);
        }

        @Override
        public double bytes() {
            return 0;
        }

        /** The model (weights drawn from {@code seed}), then the inputs, in that order from the same generator. */
        public Prepared make(long seed) {
            Rng rng = new Rng(seed);
            UNet2DModel model = new UNet2DModel(config(), rng);
            Tensor x = BenchDevice.put(Tensor.randn(rng, DType.F32, batch, inOut, size, size));
            Tensor t = BenchDevice.put(Tensor.randint(rng, 0, NUM_TRAIN_TIMESTEPS, batch));
            Tensor target = BenchDevice.put(Tensor.randn(rng, DType.F32, batch, inOut, size, size));
            model.to(BenchDevice.device()); // weights move once, before timing (a no-op on the CPU)
            return new Prepared(model, Map.of("sample", x, "timesteps", t, "target", target), this::work);
        }

        private Workload work(Module m, Map<String, Tensor> in) {
            UNet2DModel model = (UNet2DModel) m;
            Variable x = Variable.constant(in.get("sample")), target = Variable.constant(in.get("target"));
            Tensor t = in.get("timesteps");
            if (!step) return () -> {
                try (var ng = NoGrad.enter()) {
                    return model.forward(x, t).value();
                }
            };
            Optimizer opt = adamW(model);
            return () -> {
                opt.zeroGrad();
                Variable loss = model.forward(x, t).mseLoss(target);
                loss.backward();
                opt.step();
                return loss.value();
            };
        }

        @Override
        public Workload prepare(DType dtype, long seed) {
            return make(seed).workload();
        }

        /** The architecture as JSON (diffusers config keys), for the PyTorch peer's consistency check. */
        public String archJson() {
            return "{\"sample_size\": " + size + ", \"in_channels\": " + inOut + ", \"out_channels\": " + inOut
                    + ", \"block_out_channels\": " + channels + ", \"layers_per_block\": " + layersPerBlock
                    + ", \"attention_head_dim\": " + headDim + ", \"norm_num_groups\": " + groups + ", \"norm_eps\": 1e-05"
                    + ", \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\", \"AttnDownBlock2D\"]"
                    + ", \"up_block_types\": [\"AttnUpBlock2D\", \"AttnUpBlock2D\", \"UpBlock2D\"]}";
        }
    }

    /** diffusers' UNet2DModel config for {@link UNetCase}: its defaults except the fields named here. */
    public static UNet2DConfig unetConfig(int size, int inOut, List<Integer> channels, int layersPerBlock, int headDim, int groups) {
        UNet2DConfig d = UNet2DConfig.defaults();
        return new UNet2DConfig("UNet2DModel", List.of(size), inOut, inOut, d.centerInputSample(), d.timeEmbeddingType(), d.freqShift(),
                d.flipSinToCos(), List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), List.of("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
                channels, layersPerBlock, d.midBlockScaleFactor(), d.downsamplePadding(), d.downsampleType(), d.upsampleType(), d.dropout(),
                d.actFn(), headDim, groups, d.attnNormNumGroups(), d.normEps(), d.resnetTimeScaleShift(), d.addAttention(),
                d.classEmbedType(), d.numClassEmbeds(), d.numTrainTimesteps(), Map.of());
    }

    /** Forward FLOPs of {@link UNetCase}'s UNet, walking the same block structure as UNet2DModel builds. */
    static double unetForwardFlops(UNetCase c) {
        return unetForwardFlops(c.batch(), c.size(), c.inOut(), c.channels(), c.layersPerBlock(), new boolean[]{false, true, true},
                new boolean[]{true, true, false});
    }

    /**
     * Forward FLOPs of a UNet2DModel with the given attention per down and up block (the mid block always has one);
     * a class embedding table adds none.
     */
    static double unetForwardFlops(int batch, int size, int inOut, List<Integer> ch, int layers, boolean[] downAttn, boolean[] upAttn) {
        double b = batch;
        int n = ch.size(), temb = 4 * ch.get(0);
        double f = 2 * b * ((double) ch.get(0) * temb + (double) temb * temb); // time_embedding linear_1, linear_2
        int s = size;
        f += conv(b, inOut, ch.get(0), 3, s);                                   // conv_in
        int out = ch.get(0);
        java.util.ArrayDeque<Integer> skips = new java.util.ArrayDeque<>();
        skips.push(out);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            for (int l = 0; l < layers; l++) {
                f += resnet(b, l == 0 ? in : out, out, temb, s);
                if (downAttn[i]) f += attention(b, out, s);
                skips.push(out);
            }
            if (i < n - 1) {
                s /= 2;
                f += conv(b, out, out, 3, s); // stride 2: output size s
                skips.push(out);
            }
        }
        int last = ch.get(n - 1);
        f += 2 * resnet(b, last, last, temb, s) + attention(b, last, s); // mid block
        out = last;
        for (int i = 0; i < n; i++) {
            int prevOut = out;
            out = ch.get(n - 1 - i);
            for (int l = 0; l <= layers; l++) {
                int cin = (l == 0 ? prevOut : out) + skips.pop();
                f += resnet(b, cin, out, temb, s);
                if (upAttn[i]) f += attention(b, out, s);
            }
            if (i < n - 1) {
                s *= 2;
                f += conv(b, out, out, 3, s);
            }
        }
        return f + conv(b, ch.get(0), inOut, 3, s); // conv_out
    }

    private static double conv(double b, int cin, int cout, int k, int outSize) {
        return 2 * b * cout * (double) outSize * outSize * cin * k * k;
    }

    private static double resnet(double b, int cin, int cout, int temb, int s) {
        double f = conv(b, cin, cout, 3, s) + conv(b, cout, cout, 3, s) + 2 * b * temb * cout;
        return cin != cout ? f + conv(b, cin, cout, 1, s) : f;
    }

    private static double attention(double b, int c, int s) {
        double hw = (double) s * s;
        return 4 * (2 * b * hw * c * c) + 2 * (2 * b * hw * hw * c);
    }

    // ------------------------------------------------------------------------------------------ CLIP text encoder

    /**
     * A {@link ClipTextModel} on fixed token ids [batch, max_position_embeddings] uniform over the vocabulary; the
     * result is the last hidden state (after final_layer_norm). The step fits it to a fixed target of its shape
     * ~ N(0, 1) with MSE and AdamW (every parameter, the token table included, as torch's dense embedding gradient).
     */
    public record TextEncCase(int batch, ClipTextConfig config, boolean step) implements Spec {
        /** {@link ClipTextConfig#small()}: width 256, 4 layers of 4 heads, MLP 1024, exact GELU, 77 tokens. */
        public static TextEncCase small(int batch, boolean step) {
            return new TextEncCase(batch, ClipTextConfig.small(), step);
        }

        public int seq() {
            return config.maxPositionEmbeddings();
        }

        @Override
        public double flops() {
            double tokens = (double) batch * seq(), d = config.hiddenSize(), ff = config.intermediateSize(), l = seq();
            double layer = 4 * (2 * tokens * d * d) + 2 * (2 * tokens * l * d) + 2 * (2 * tokens * d * ff);
            return (step ? 3 : 1) * config.numHiddenLayers() * layer;
        }

        @Override
        public double bytes() {
            return 0;
        }

        /** The model (weights drawn from {@code seed}), then the ids and the target, from the same generator. */
        public Prepared make(long seed) {
            Rng rng = new Rng(seed);
            ClipTextModel model = new ClipTextModel(config, rng);
            Tensor ids = Tensor.randint(rng, 0, config.vocabSize(), batch, seq());
            Tensor target = Tensor.randn(rng, DType.F32, batch, seq(), config.hiddenSize());
            return new Prepared(model, Map.of("ids", ids, "target", target), this::work);
        }

        private Workload work(Module m, Map<String, Tensor> in) {
            ClipTextModel model = (ClipTextModel) m;
            Tensor ids = in.get("ids");
            Variable target = Variable.constant(in.get("target"));
            if (!step) return () -> {
                try (var ng = NoGrad.enter()) {
                    return model.forward(ids).lastHiddenState().value();
                }
            };
            Optimizer opt = adamW(model);
            return () -> {
                opt.zeroGrad();
                Variable loss = model.forward(ids).lastHiddenState().mseLoss(target);
                loss.backward();
                opt.step();
                return loss.value();
            };
        }

        @Override
        public Workload prepare(DType dtype, long seed) {
            return make(seed).workload();
        }
    }

    // ------------------------------------------------------------------------------------------ shared

    /** Makes a case's work over a model and its named inputs (optimiser state, if any, is made here). */
    @FunctionalInterface
    public interface WorkFactory {
        Workload make(Module model, Map<String, Tensor> inputs);
    }

    /**
     * A model case made ready: the model, its named inputs, and how to make the timed work over them. Each
     * {@link #workload()} call makes a fresh work (a step case: a fresh optimiser) over the same model.
     */
    public record Prepared(Module model, Map<String, Tensor> inputs, WorkFactory factory) {
        public Workload workload() {
            return factory.make(model, inputs);
        }
    }
}
