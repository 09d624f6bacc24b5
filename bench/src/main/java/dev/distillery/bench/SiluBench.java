package dev.distillery.bench;

import org.openjdk.jmh.annotations.Param;

/** SiLU over {@code n} floats (default 16M = 2^24). Reports GB/s (read x, write y). */
public class SiluBench extends BenchBase {
    @Param("16777216")
    public int n;

    @Override
    public Spec spec() {
        return new Specs.Silu(n);
    }
}
