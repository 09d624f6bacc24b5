package dev.distillery.bench;

import org.openjdk.jmh.annotations.Param;

/** Group norm forward (affine, eps 1e-5) of {@code nchw} = NxCxHxW in {@code groups} groups. Reports GB/s (read x, write y). */
public class GroupNormBench extends BenchBase {
    @Param("32x64x32x32")
    public String nchw;

    @Param("32")
    public int groups;

    @Override
    public Spec spec() {
        int[] d = dims(nchw, 4);
        return new Specs.GroupNorm(d[0], d[1], d[2], d[3], groups);
    }
}
