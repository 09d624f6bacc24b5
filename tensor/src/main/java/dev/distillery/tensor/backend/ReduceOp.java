package dev.distillery.tensor.backend;

/**
 * Reductions over a set of dims. {@code VAR} uses a correction (1 = unbiased, as PyTorch's default;
 * 0 = population). {@code ARGMAX}/{@code ARGMIN} reduce one dim and return I64 indices (first occurrence wins).
 */
public enum ReduceOp {
    SUM, MEAN, MAX, MIN, VAR, LOGSUMEXP, ARGMAX, ARGMIN
}
