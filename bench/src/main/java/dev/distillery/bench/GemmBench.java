package dev.distillery.bench;

import org.openjdk.jmh.annotations.Param;

/**
 * Matmul: square F32 GEMMs and the small UNet's real matmul shapes.
 * <ul>
 *   <li>{@code square-N}: [N, N] x [N, N].</li>
 *   <li>{@code attn-qkT}: attention scores q k^T at the 16x16 level, batch 8 x 4 heads, 256 tokens, head dim 64:
 *       [32, 256, 64] x [32, 64, 256], the right operand a transposed view of k [32, 256, 64].</li>
 *   <li>{@code attn-pv}: the attention output p v: [32, 256, 256] x [32, 256, 64].</li>
 *   <li>{@code linear-16k-512-128}: a projection over batch 64 x 256 tokens: [16384, 512] x [512, 128].</li>
 * </ul>
 * Any other {@code BxMxKxN} (batched, plain B) is accepted too: {@code -p shape=4x128x128x128}.
 */
public class GemmBench extends BenchBase {
    @Param({"square-256", "square-512", "square-1024", "square-2048", "attn-qkT", "attn-pv", "linear-16k-512-128"})
    public String shape;

    @Override
    public Spec spec() {
        return spec(shape);
    }

    public static Specs.Gemm spec(String shape) {
        if (shape.startsWith("square-")) return Specs.Gemm.square(Integer.parseInt(shape.substring("square-".length())));
        return switch (shape) {
            case "attn-qkT" -> new Specs.Gemm(32, 256, 64, 256, true);
            case "attn-pv" -> new Specs.Gemm(32, 256, 256, 64, false);
            case "linear-16k-512-128" -> new Specs.Gemm(1, 64 * 256, 512, 128, false);
            default -> {
                int[] d = dims(shape, 4);
                yield new Specs.Gemm(d[0], d[1], d[2], d[3], false);
            }
        };
    }
}
