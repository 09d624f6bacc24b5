package dev.distillery.autograd.optim;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.Tensor;

import java.util.Collection;

/** Gradient clipping by global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales every gradient by {@code min(1, maxNorm / (norm + 1e-6))} where norm is the L2 norm of all gradients
     * together; returns that norm (before clipping), so callers can log it and detect NaN.
     */
    public static double clipGradNorm(Collection<Parameter> params, double maxNorm) {
        double sq = 0;
        for (Parameter p : params) if (p.grad() != null) sq += p.grad().square().sum().item();
        double norm = Math.sqrt(sq);
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
            for (Parameter p : params) if (p.grad() != null) p.setGrad(p.grad().mul(scale));
        return norm;
    }
}
