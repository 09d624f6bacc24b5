package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * A one-step generator built from a denoiser (spec disback.md §2.3, Diff-Instruct EDM form):
 * {@code G(z) = D_eta(sigma_init z; sigma_init)} with {@code z ~ N(0, I)}. Initialised from the teacher, its first
 * samples are the teacher's posterior means at sigma_init: blurred, collapsed toward the data mean. DMD2-EDM uses
 * sigma_init = 80, Diff-Instruct 1.0 ([UNVERIFIED] which value DisBack used; a config value here).
 */
public final class OneStepGenerator {
    private final EdmDenoiserNet net;
    private final double sigmaInit;

    public OneStepGenerator(EdmDenoiserNet net, double sigmaInit) {
        if (!(sigmaInit > 0)) throw new IllegalArgumentException("--sigma-init must be > 0, got " + sigmaInit);
        this.net = net;
        this.sigmaInit = sigmaInit;
    }

    public EdmDenoiserNet net() {
        return net;
    }

    public double sigmaInit() {
        return sigmaInit;
    }

    /** Standard normal latents for {@code n} samples, drawn on the host (the same stream on every device) and moved to the net's device. */
    public Tensor latents(Rng rng, int n) {
        int[] s = net.sampleShape(), shape = new int[s.length + 1];
        shape[0] = n;
        System.arraycopy(s, 0, shape, 1, s.length);
        return Tensor.randn(rng, DType.F32, shape).to(net.device());
    }

    /** G(z) with its graph (when gradients are enabled). */
    public Variable generate(Tensor z, Tensor cond) {
        double[] sigma = new double[z.size(0)];
        java.util.Arrays.fill(sigma, sigmaInit);
        return net.denoise(Variable.constant(z.mul(sigmaInit)), sigma, cond);
    }

    /** G(z) as a plain tensor (no graph). */
    public Tensor sample(Tensor z, Tensor cond) {
        try (var g = NoGrad.enter()) {
            return generate(z, cond).value();
        }
    }

    /**
     * {@code n} samples in chunks of {@code chunk} (bounded memory for evaluation), latents drawn from {@code rng}, generated
     * where the net's weights are and returned on the host.
     *
     * @param labels per-sample conditioning [n] (e.g. I64 class ids), or null when unconditional
     */
    public Tensor sample(Rng rng, int n, int chunk, Tensor labels) {
        if (labels != null && labels.size(0) != n) throw new IllegalArgumentException(labels.size(0) + " labels for " + n + " samples");
        java.util.List<Tensor> parts = new java.util.ArrayList<>();
        for (int start = 0; start < n; start += chunk) {
            int m = Math.min(chunk, n - start);
            parts.add(sample(latents(rng, m), labels == null ? null : labels.narrow(0, start, m).contiguous().to(net.device())).to(dev.distillery.tensor.Device.CPU));
        }
        return parts.size() == 1 ? parts.get(0) : Tensor.concat(parts, 0);
    }
}
