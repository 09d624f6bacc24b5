package dev.distillery.tensor.backend;

import dev.distillery.tensor.Tensor;

/**
 * The gradients of a layer's weight and bias (Linear, conv2d): {@code weight} of the weight's shape, {@code bias} of
 * the bias's shape, or null when it was not asked for.
 */
public record ParamGradients(Tensor weight, Tensor bias) {}
