package dev.distillery.tensor.backend;

import dev.distillery.tensor.Tensor;

/** Values plus the I64 flat indices they came from (max pooling: index into the input's H*W plane). */
public record ValuesIndices(Tensor values, Tensor indices) {}
