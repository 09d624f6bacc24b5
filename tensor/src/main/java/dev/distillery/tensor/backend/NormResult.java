package dev.distillery.tensor.backend;

import dev.distillery.tensor.Tensor;

/**
 * A normalisation's output plus the per-group statistics its backward pass needs: {@code mean} and
 * {@code rstd = 1/sqrt(var + eps)} (biased variance), each of shape [rows] for layer norm, [N, groups] for
 * group norm, in the input's dtype.
 */
public record NormResult(Tensor output, Tensor mean, Tensor rstd) {}
