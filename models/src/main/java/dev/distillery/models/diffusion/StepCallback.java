package dev.distillery.models.diffusion;

import dev.distillery.tensor.Tensor;

/** Progress report from a sampler, after each step. */
@FunctionalInterface
public interface StepCallback {
    /**
     * @param step  0-based index of the step just taken
     * @param total number of steps
     * @param t     the step's timestep (VP samplers) or sigma (EDM samplers) at which the model was evaluated
     * @param x     the sample after the step
     * @param x0    the model's estimate of the clean sample at this step
     */
    void onStep(int step, int total, double t, Tensor x, Tensor x0);

    /** Does nothing. */
    StepCallback NONE = (step, total, t, x, x0) -> {};
}
