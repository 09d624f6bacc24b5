package dev.distillery.tensor.backend;

/** Elementwise comparisons; results are BOOL tensors. */
public enum CompareOp {
    EQ, NE, LT, LE, GT, GE
}
