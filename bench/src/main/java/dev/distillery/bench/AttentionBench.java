package dev.distillery.bench;

import org.openjdk.jmh.annotations.Param;

/**
 * Softmax attention, {@code bhsd} = batch x heads x seq x dim (8 x 4 x 256 x 64: the UNet's 16x16 level):
 * {@code forward} is softmax(q k^T / sqrt(d)) v; {@code forwardBackward} adds dq, dk, dv by hand
 * ({@link Specs#attentionBackward}). GFLOP/s counts the matmuls only.
 */
public class AttentionBench extends BenchBase {
    @Param("8x4x256x64")
    public String bhsd;

    @Param({"forward", "forwardBackward"})
    public String pass;

    @Override
    public Spec spec() {
        int[] d = dims(bhsd, 4);
        boolean bwd = switch (pass) {
            case "forward" -> false;
            case "forwardBackward" -> true;
            default -> throw new IllegalArgumentException("pass must be forward or forwardBackward, got '" + pass + "'");
        };
        return new Specs.Attention(d[0], d[1], d[2], d[3], bwd);
    }
}
