package dev.distillery.models.diffusion;

import dev.distillery.tensor.Tensor;

/**
 * Result of one VP sampler step (diffusers' {@code DDIMSchedulerOutput} / {@code DDPMSchedulerOutput}): the sample
 * at the next level and the model's x0 estimate used to get there (after clipping or thresholding).
 */
public record StepOutput(Tensor prevSample, Tensor predOriginalSample) {}
