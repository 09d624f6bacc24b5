package dev.distillery.bench;

/**
 * One measured unit of work with its inputs already made: {@link #run()} performs the op (or the op sequence) once
 * and returns what it computed, so callers (JMH, {@link CompareRunner}) can keep it alive and check it.
 */
@FunctionalInterface
public interface Workload {
    /** Runs the work once; returns its outputs (a Tensor, a Tensor[] or a record of tensors). */
    Object run();
}
