package dev.distillery.bench;

import org.openjdk.jmh.annotations.Param;

/**
 * The UNet's 3x3 "same" convolutions, batch 32: {@code 64x32} is 64 -> 64 channels at 32x32, {@code 128x16} is
 * 128 -> 128 at 16x16 (any {@code CxS} works). {@code pass}: forward (with bias), backwardInput, backwardWeight,
 * or forwardBackward (all three plus the bias gradient).
 */
public class Conv2dBench extends BenchBase {
    @Param({"64x32", "128x16"})
    public String layer;

    @Param({"forward", "backwardInput", "backwardWeight"})
    public String pass;

    @Override
    public Spec spec() {
        int[] d = dims(layer, 2);
        return Specs.Conv.same3x3(32, d[0], d[1], Specs.ConvPass.parse(pass));
    }
}
