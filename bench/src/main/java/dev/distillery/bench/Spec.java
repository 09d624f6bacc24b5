package dev.distillery.bench;

import dev.distillery.tensor.DType;

/**
 * The description of a benchmark case: its shapes, the work it does (for GFLOP/s and GB/s) and how to make its
 * inputs. Specs are cheap values; {@link #prepare} allocates. The same spec drives the JMH benchmarks, the
 * {@link CompareRunner} and the smoke tests, so a shape is written once on the Java side.
 */
public interface Spec {
    /** Floating-point operations per run (multiply-add = 2), or 0 where the op is memory bound. */
    double flops();

    /** Bytes a minimal implementation must read and write per run (F32 inputs and outputs), or 0 if not meaningful. */
    double bytes();

    /** Makes the inputs (seeded, deterministic) and returns the work over them. */
    Workload prepare(DType dtype, long seed);

    default Workload prepare() {
        return prepare(DType.F32, 42);
    }
}
