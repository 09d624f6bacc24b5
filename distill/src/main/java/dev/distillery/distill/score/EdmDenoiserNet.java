package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.Tensor;

/**
 * A trainable denoiser in the EDM convention, the one network type every score-distillation method works with (teacher,
 * generator, fake score, degradation-path nodes): {@code D(x; sigma) ~ E[x0 | x0 + sigma n = x]}, with one sigma per
 * sample and optional conditioning (class labels, or prompt embeddings for {@link EdmTextUNetNet}). The score is {@code (D - x) / sigma^2}.
 *
 * <p>{@link #denoise} is differentiable with respect to {@code x} and to the module's parameters; it builds a graph
 * only where gradients are enabled (use {@link NoGrad} otherwise). Implementations: {@link EdmMlpNet} (flat vectors),
 * pixel UNets ({@link EdmUNetNet}, {@link DdpmEpsNet}) and text-conditional UNets ({@link EdmTextUNetNet}).
 */
public interface EdmDenoiserNet {
    /** The module holding the parameters (its state-dict keys are the checkpoint keys). */
    Module module();

    /** The EDM preconditioning (sigma_data) the network was trained with. */
    EdmPreconditioning preconditioning();

    /** The shape of one sample, without the batch dimension. */
    int[] sampleShape();

    /**
     * D(x; sigma).
     *
     * @param x     [B, sampleShape...]
     * @param sigma one noise level per sample, length B, all > 0
     * @param cond  conditioning per sample (I64 class labels [B], F32 prompt embeddings [B, L, D]), or null when unconditional
     */
    Variable denoise(Variable x, double[] sigma, Tensor cond);

    /**
     * The network's bottleneck features at (x; sigma, cond), with the graph, from the same preconditioned input that
     * {@link #denoise} gives the raw network ({@code c_in x} and its noise-level input): what the optional GAN head
     * reads ({@link GanHead}, spec disback.md §2.4 L_gan). A UNet's mid-block output [B, C, h, w]; an MLP's last
     * hidden activation [B, width]. Networks without a defined bottleneck throw {@link UnsupportedOperationException}.
     */
    default Variable features(Variable x, double[] sigma, Tensor cond) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no bottleneck features for the GAN head "
                + "(--gan-generator-weight / --gan-discriminator-weight need an EDM MLP or UNet fake score)");
    }

    /** Number of classes of a class-conditional network (conditioning = I64 labels 0..classes-1); 0 when unconditional. */
    default int classes() {
        return 0;
    }

    /** The "no label" id used for classifier-free guidance by class-conditional networks. */
    default long nullLabel() {
        throw new IllegalStateException(getClass().getSimpleName() + " is unconditional and has no null label");
    }

    /** A network of the same architecture holding a copy of this one's weights (no shared storage). */
    EdmDenoiserNet copy();

    /** Where the weights are: the device of the first parameter ({@link Module#to} moves them all together). */
    default dev.distillery.tensor.Device device() {
        var it = module().namedParameters().values().iterator();
        return it.hasNext() ? it.next().device() : dev.distillery.tensor.Device.CPU;
    }

    /** {@link #copy()} moved to this network's {@link #device()} (the CPU copy itself when that is the host). */
    default EdmDenoiserNet copyOnDevice() {
        EdmDenoiserNet c = copy();
        c.module().to(device());
        return c;
    }

    /** This network as a sampler's {@link Denoiser} (EDM convention, shared sigma), with fixed conditioning. */
    default Denoiser asDenoiser(Tensor cond) {
        return (x, s) -> {
            double[] sig = new double[x.size(0)];
            java.util.Arrays.fill(sig, s);
            try (var g = NoGrad.enter()) {
                return denoise(Variable.constant(x), sig, cond).value();
            }
        };
    }

    /** Copies the weights of {@code from} (same architecture) into this network. */
    default void loadWeightsFrom(EdmDenoiserNet from) {
        module().loadStateDict(from.module().stateDict(), true);
    }

    /** Per-sample values as a tensor [B, 1, ..., 1] of {@code like}'s dtype, on its device, that broadcasts against {@code like} [B, ...]. */
    static Tensor perSample(double[] v, Tensor like) {
        int[] shape = new int[like.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = v.length;
        return Tensor.of(v, shape).to(like.dtype()).to(like.device());
    }
}
