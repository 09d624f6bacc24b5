package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Tensor;

/**
 * The "real score" of score distillation: the denoiser the generator is pulled toward, evaluated without gradient.
 * The baseline uses the teacher throughout; DisBack swaps in the nodes of its degradation path.
 */
public interface TargetScore {
    /** D_target(x_t; sigma) under {@link NoGrad}. */
    Tensor denoise(Tensor xt, double[] sigma, Tensor cond);

    /** A fixed network, optionally with classifier-free guidance (teacher only; spec disback.md §2.2, invariant 14). */
    static TargetScore of(EdmDenoiserNet net, Guidance guidance) {
        return (xt, sigma, cond) -> guided(net, guidance, xt, sigma, cond);
    }

    /**
     * {@code D_u + w (D_c - D_u)} when conditioned and {@code w != 1}; the plain conditional prediction otherwise
     * (w = 1 is exactly D_c, w = 0 exactly D_u).
     */
    static Tensor guided(EdmDenoiserNet net, Guidance guidance, Tensor xt, double[] sigma, Tensor cond) {
        try (var g = NoGrad.enter()) {
            Variable x = Variable.constant(xt);
            if (cond == null || guidance == null || guidance.scale() == 1) return net.denoise(x, sigma, cond).value();
            Tensor u = net.denoise(x, sigma, guidance.unconditional().apply(cond)).value();
            if (guidance.scale() == 0) return u;
            Tensor c = net.denoise(x, sigma, cond).value();
            return u.add(c.sub(u).mul(guidance.scale()));
        }
    }

    /** Classifier-free guidance: scale w and the map from a batch's conditioning to its "null" conditioning. */
    record Guidance(double scale, java.util.function.UnaryOperator<Tensor> unconditional) {
        /** Class labels: the null condition is the extra label id {@code nullLabel} for every sample. */
        public static Guidance classLabels(double scale, long nullLabel) {
            return new Guidance(scale, c -> {
                long[] ids = new long[c.size(0)];
                java.util.Arrays.fill(ids, nullLabel);
                return Tensor.ofLongs(ids, ids.length).to(c.device());
            });
        }
    }
}
