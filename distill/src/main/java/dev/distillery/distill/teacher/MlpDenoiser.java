package dev.distillery.distill.teacher;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.TimestepEmbedding;
import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The raw network F of a small EDM denoiser on flat vectors (2-D toys, 8x8 digits as 64-vectors):
 * {@code h = SiLU(W_x (c_in x) + W_e emb(c_noise))}, then {@code depth - 1} more SiLU layers of {@code width} units
 * and a linear output of {@code dim}, where emb is the sinusoidal embedding of c_noise = ln(sigma)/4 (frequencies
 * {@link #EMB_SCALE} down to {@link #EMB_SCALE}/{@link #EMB_MAX_PERIOD}). The position and the noise level get
 * separate input projections (added): concatenating 2 coordinates with a much larger embedding gives the coordinates
 * small initial weights and trains far slower. Wrapped by {@link EdmPreconditioning} into D(x; sigma).
 */
public final class MlpDenoiser extends Module {
    public static final double EMB_SCALE = 4, EMB_MAX_PERIOD = 100;
    private final int dim, width, depth, embDim;
    private final Linear inX, inEmb;
    private final List<Linear> layers = new ArrayList<>();

    /** A 2-D denoiser (the toys). */
    public MlpDenoiser(int width, int depth, int embDim, Rng rng) {
        this(2, width, depth, embDim, rng);
    }

    public MlpDenoiser(int dim, int width, int depth, int embDim, Rng rng) {
        if (dim < 1 || width < 1 || depth < 1 || embDim < 2)
            throw new IllegalArgumentException("MlpDenoiser needs dim >= 1, width >= 1, depth >= 1, embDim >= 2; got " + dim + ", " + width + ", " + depth + ", " + embDim);
        this.dim = dim;
        this.width = width;
        this.depth = depth;
        this.embDim = embDim;
        inX = child("in_x", new Linear(dim, width, true, rng));
        inEmb = child("in_emb", new Linear(embDim, width, false, rng));
        for (int i = 1; i < depth; i++) layers.add(child("layer" + i, new Linear(width, width, true, rng)));
        layers.add(child("out", new Linear(width, dim, true, rng)));
    }

    public int dim() {
        return dim;
    }

    /** A network of the same shape (weights from {@code rng}; load a state dict to copy weights). */
    public MlpDenoiser sameShape(Rng rng) {
        return new MlpDenoiser(dim, width, depth, embDim, rng);
    }

    /** Sinusoidal features [B, embDim] of the per-sample c_noise values, on the device of this network's weights. */
    public Tensor embed(double[] cNoise) {
        return TimestepEmbedding.sinusoidal(Tensor.of(cNoise, cNoise.length).to(DType.F32).to(device()), embDim, true, 0, EMB_SCALE, EMB_MAX_PERIOD);
    }

    /** Where this network's weights are (see {@link #to}). */
    public Device device() {
        return inX.weight.device();
    }

    /** F(xIn; cNoise) for xIn = c_in x of shape [B, dim] and one c_noise per row. */
    public Variable forward(Variable xIn, double[] cNoise) {
        return layers.get(layers.size() - 1).forward(hidden(xIn, cNoise));
    }

    /** The last hidden activation [B, width] of {@link #forward} (what its linear output layer reads), with the graph. */
    public Variable hidden(Variable xIn, double[] cNoise) {
        Variable h = inX.forward(xIn).add(inEmb.forward(Variable.constant(embed(cNoise)))).silu();
        for (int i = 0; i < layers.size() - 1; i++) h = layers.get(i).forward(h).silu();
        return h;
    }

    /**
     * The preconditioned denoiser D(x; sigma) for samplers (runs under {@link NoGrad}). It evaluates on the device of
     * the weights and answers on the device of {@code x} (no transfer when they agree).
     */
    public Denoiser denoiser(EdmPreconditioning precond) {
        Denoiser raw = (xIn, cNoise) -> {
            double[] c = new double[xIn.size(0)];
            java.util.Arrays.fill(c, cNoise);
            try (var g = NoGrad.enter()) {
                return forward(Variable.constant(xIn.to(DType.F32).to(device())), c).value().to(xIn.device());
            }
        };
        return precond.wrap(raw);
    }
}
