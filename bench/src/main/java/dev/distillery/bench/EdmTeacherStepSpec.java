package dev.distillery.bench;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.distill.score.EdmLoss;
import dev.distillery.distill.score.EdmUNetNet;
import dev.distillery.distill.teacher.ImageTeacherConfig;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.unet.UNet2DConfig;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.List;

/**
 * One EDM training step of the default Fashion-MNIST teacher ({@code train-teacher --dataset fmnist}): the
 * class-conditional 32x32 UNet of {@link ImageTeacherConfig#defaultUNetConfig()} in {@link EdmUNetNet}, a batch of
 * {@code batch} fixed images in [-1, 1] with fixed labels (some the null label), and per step: ln sigma ~ N(-1.2, 1.2^2),
 * fresh noise, the {@link EdmLoss} forward, backward and AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay),
 * as the trainer does (without its clipping and EMA). The PyTorch peer ({@code teacher_train_step} in
 * {@code bench/peers/torch_cases.py}) builds the same architecture and checks the same parameter count.
 */
public record EdmTeacherStepSpec(int batch) implements Spec {
    /** Parameters of the default fmnist UNet; both sides check their model against it. */
    public static final long PARAMETERS = 949_185;
    public static final double SIGMA_DATA = 0.5, P_MEAN = -1.2, P_STD = 1.2, LR = 1e-3;

    public UNet2DConfig config() {
        return ImageTeacherConfig.defaultUNetConfig();
    }

    /** FLOPs of one forward of the UNet at this batch (convolutions, linear layers, attention matmuls). */
    public double forwardFlops() {
        UNet2DConfig c = config();
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size();
        boolean[] down = new boolean[n], up = new boolean[n];
        for (int i = 0; i < n; i++) {
            down[i] = c.downBlockTypes().get(i).startsWith("Attn");
            up[i] = c.upBlockTypes().get(i).startsWith("Attn");
        }
        return ModelSpecs.unetForwardFlops(batch, 32, 1, ch, c.layersPerBlock(), down, up);
    }

    /** A training step: forward and backward, 3 forwards. */
    @Override
    public double flops() {
        return 3 * forwardFlops();
    }

    @Override
    public double bytes() {
        return 0;
    }

    /**
     * The default fmnist teacher with random weights drawn from {@code rng}: the UNet of {@link #config()} in EDM
     * preconditioning (sigma_data {@value #SIGMA_DATA}, {@link EdmUNetNet#DEFAULT_C_NOISE_SCALE}) on 32x32 samples.
     * Checks the parameter count the fmnist cases and their PyTorch peers agree on ({@link #PARAMETERS}).
     */
    public static EdmUNetNet teacherNet(Rng rng) {
        UNet2DModel unet = new UNet2DModel(ImageTeacherConfig.defaultUNetConfig(), rng);
        if (unet.parameterCount() != PARAMETERS)
            throw new IllegalStateException("the default fmnist UNet has " + unet.parameterCount() + " parameters; the fmnist cases (and their PyTorch peers) expect "
                    + PARAMETERS);
        return new EdmUNetNet(unet, new EdmPreconditioning(SIGMA_DATA), EdmUNetNet.DEFAULT_C_NOISE_SCALE, 32, 32);
    }

    @Override
    public Workload prepare(DType dtype, long seed) {
        Rng rng = new Rng(seed);
        EdmUNetNet net = teacherNet(rng);
        UNet2DModel unet = net.unet();
        Adam opt = Adam.adamW(unet.namedParameters(), LR, 0.9, 0.999, 1e-8, 0);
        Tensor x0 = Tensor.rand(rng, DType.F32, batch, 1, 32, 32).mul(2f).sub(1f);
        long[] ids = new long[batch];
        for (int i = 0; i < batch; i++) ids[i] = i % (net.classes() + 1);
        Tensor labels = Tensor.ofLongs(ids, batch);
        Rng noise = rng.fork(2), sigma = rng.fork(3);
        return () -> {
            opt.zeroGrad();
            Variable loss = EdmLoss.loss(net, x0, labels, P_MEAN, P_STD, noise, sigma);
            loss.backward();
            opt.step();
            return loss.value();
        };
    }
}
