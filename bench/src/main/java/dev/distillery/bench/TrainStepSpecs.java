package dev.distillery.bench;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.models.unet.AttentionBlock;
import dev.distillery.models.unet.ResnetBlock2D;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/** Whole training steps (forward, loss, backward, optimiser) of small networks, for side-by-side timing. */
public final class TrainStepSpecs {
    private TrainStepSpecs() {}

    /** A ResnetBlock2D followed by an AttentionBlock, trained on an MSE loss with AdamW. */
    static final class ResAttn extends Module {
        final ResnetBlock2D resnet;
        final AttentionBlock attn;

        ResAttn(int channels, int temb, int heads, int groups, Rng rng) {
            resnet = child("resnet", new ResnetBlock2D(channels, channels, temb, groups, 1e-6, 0, 1, rng));
            attn = child("attn", new AttentionBlock(channels, heads, channels / heads, groups, 1e-6, 1, rng));
        }

        Variable forward(Variable x, Variable t) {
            return attn.forward(resnet.forward(x, t));
        }
    }

    /**
     * One step at batch {@code n}, {@code channels} at {@code size}x{@code size}: y = attn(resnet(x, temb));
     * loss = mean((y - target)^2); backward; AdamW(lr 1e-4). FLOPs count the convolutions and attention matmuls
     * (forward x3 for the step).
     */
    public record ResBlockAttnStep(int n, int channels, int size, int temb, int heads, int groups) implements Spec {
        @Override
        public double flops() {
            double hw = (double) size * size;
            double convs = 2 * (2.0 * n * channels * channels * 9 * hw);
            double proj = 4 * (2.0 * n * hw * channels * channels);
            double attn = 2 * (2.0 * n * hw * hw * channels);
            return 3 * (convs + proj + attn);
        }

        @Override
        public double bytes() {
            return 0;
        }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            ResAttn model = new ResAttn(channels, temb, heads, groups, rng);
            Optimizer opt = Adam.adamW(model.namedParameters(), 1e-4, 0.9, 0.999, 1e-8, 0.01);
            Tensor x = Tensor.randn(rng, DType.F32, n, channels, size, size);
            Tensor t = Tensor.randn(rng, DType.F32, n, temb);
            Tensor target = Tensor.randn(rng, DType.F32, n, channels, size, size);
            return () -> {
                opt.zeroGrad();
                Variable loss = model.forward(Variable.constant(x), Variable.constant(t)).mseLoss(Variable.constant(target));
                loss.backward();
                opt.step();
                return loss.value();
            };
        }
    }
}
