package dev.distillery.bench;

import dev.distillery.tensor.TensorScope;

import java.util.function.Function;

/**
 * One measured unit of work with its inputs already made: {@link #run()} performs the op (or the op sequence) once
 * and returns what it computed, so callers (JMH, {@link CompareRunner}) can keep it alive and check it.
 */
@FunctionalInterface
public interface Workload {
    /** Runs the work once; returns its outputs (a Tensor, a Tensor[] or a record of tensors). */
    Object run();

    /**
     * Runs once inside a {@link TensorScope}, so the arrays of everything the run computed go back to the
     * {@link dev.distillery.tensor.BufferPool} for the next run (as PyTorch's caching allocator reuses a freed output);
     * {@code read} sees the outputs before the scope releases them. With {@code -Ddistillery.pool=off} this is
     * {@code read.apply(run())}.
     */
    default <R> R runScoped(Function<Object, R> read) {
        try (TensorScope scope = TensorScope.open()) {
            return read.apply(run());
        }
    }

    /** {@link #runScoped} for timing: the outputs are dropped. */
    default void runScoped() {
        runScoped(r -> null);
    }
}
