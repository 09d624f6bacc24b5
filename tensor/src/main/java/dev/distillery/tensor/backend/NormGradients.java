package dev.distillery.tensor.backend;

import dev.distillery.tensor.Tensor;

/**
 * The gradients of a layer or group norm: {@code input} of the input's shape; {@code weight} and {@code bias} of the
 * affine parameters' shape ([normSize] for layer norm, [C] for group norm), or null when they were not asked for.
 */
public record NormGradients(Tensor input, Tensor weight, Tensor bias) {}
