package dev.distillery.tensor.backend;

/**
 * Elementwise ops of one input. Some take scalar parameters {@code p0, p1}:
 * {@code ADD_SCALAR: x + p0}, {@code MUL_SCALAR: x * p0}, {@code POW_SCALAR: x^p0}, {@code RSUB_SCALAR: p0 - x},
 * {@code CLAMP: min(max(x, p0), p1)} (use ±infinity for a one-sided clamp), {@code LEAKY_RELU: x > 0 ? x : p0 * x}.
 */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, ABS, TANH, SIGMOID, SILU, GELU_TANH, GELU_ERF, RELU, SQUARE, SIN, COS, RECIPROCAL, SIGN,
    ADD_SCALAR, MUL_SCALAR, POW_SCALAR, RSUB_SCALAR, CLAMP, LEAKY_RELU
}
