package dev.distillery.tensor.backend;

import dev.distillery.tensor.Tensor;

/** One parameter's tensors for {@link Backend#adamSteps}: as {@link Backend#adamStep}'s arguments of the same names. */
public record AdamTensors(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq) {}
