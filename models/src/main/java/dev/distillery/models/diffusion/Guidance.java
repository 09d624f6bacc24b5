package dev.distillery.models.diffusion;

import dev.distillery.tensor.Tensor;

import java.util.List;

/**
 * Classifier-free guidance (Ho and Salimans 2022) as a wrapper {@link Denoiser}:
 * {@code out = out_u + w (out_c - out_u)}, with diffusers' {@code guidance_scale} w (w = 1: the conditional model
 * alone; w = 0: the unconditional one; SD uses 7.5). The combination is affine in the output, so it means the same
 * for eps, v and x0 predictions and for EDM denoisers.
 */
public final class Guidance {
    private Guidance() {}

    /**
     * {@code u(x, t) + w (c(x, t) - u(x, t))}: two model calls per step. For w = 1 this returns {@code conditional}
     * itself and for w = 0 {@code unconditional} (one call, exactly equal to the formula's limit).
     */
    public static Denoiser cfg(Denoiser unconditional, Denoiser conditional, double w) {
        if (w == 1) return conditional;
        if (w == 0) return unconditional;
        return (x, t) -> {
            Tensor u = unconditional.predict(x, t);
            Tensor c = conditional.predict(x, t);
            return u.add(c.sub(u).mul(w));
        };
    }

    /**
     * CFG for a model that evaluates the unconditional and conditional branch in one batched call (diffusers'
     * {@code torch.cat([latents] * 2)}): {@code batched} receives x concatenated with itself along dim 0 and must
     * return [uncond; cond] outputs in that order.
     */
    public static Denoiser cfgBatched(Denoiser batched, double w) {
        return (x, t) -> {
            int n = x.size(0);
            Tensor out = batched.predict(Tensor.concat(List.of(x, x), 0), t);
            Tensor u = out.narrow(0, 0, n), c = out.narrow(0, n, n);
            return u.add(c.sub(u).mul(w));
        };
    }
}
