package dev.distillery.models.diffusion;

import dev.distillery.tensor.Tensor;

/**
 * A diffusion model as the samplers see it: a function of the noisy sample {@code x} and its noise level.
 *
 * <p>Two conventions, fixed by the sampler that calls it:
 * <ul>
 *   <li>VP samplers ({@link DdpmSampler}, {@link DdimSampler}, {@link FewStepSampler#vp}): {@code t} is the
 *       (diffusers) timestep in [0, T), {@code x = sqrt(a_t) x0 + sqrt(1 - a_t) eps}, and the output is the
 *       {@link PredictionType} of the sampler's config (eps, v or x0).</li>
 *   <li>EDM samplers ({@link EdmSampler}, {@link FewStepSampler#edm}): {@code t} is sigma,
 *       {@code x = x0 + sigma n}, and the output is the denoised estimate {@code D(x; sigma) ~ E[x0 | x]} (Karras
 *       et al. 2022). {@link Denoisers} adapts one convention to the other.</li>
 * </ul>
 * {@code x} has a leading batch dimension and every sample shares the same {@code t}. The conditioning (text
 * embeddings, class labels) is captured by the implementation; {@link Guidance} combines a conditional and an
 * unconditional one. Samplers call it under {@link dev.distillery.autograd.NoGrad}.
 */
@FunctionalInterface
public interface Denoiser {
    /** The model output at {@code (x, t)}: same shape as {@code x}. */
    Tensor predict(Tensor x, double t);
}
