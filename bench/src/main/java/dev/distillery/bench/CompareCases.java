package dev.distillery.bench;

import dev.distillery.bench.Specs.ConvPass;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Java side of {@code bench/compare}: case name to {@link Spec}. The PyTorch side registers the same names in
 * {@code bench/peers/torch_cases.py} (its {@code CASES} dict); a case added here must be added there too
 * ({@code CompareCasesTest} checks the names match).
 */
public final class CompareCases {
    private CompareCases() {}

    /** A named case with a one-line description (shown by {@code --list}). */
    public record Case(String name, String description, Spec spec) {}

    private static final Map<String, Case> CASES = new LinkedHashMap<>();

    static {
        for (int n : new int[]{256, 512, 1024, 2048})
            add("gemm-" + n, "[" + n + "," + n + "] x [" + n + "," + n + "] F32 matmul", Specs.Gemm.square(n));
        add("conv-fwd-64x32", "conv2d forward, x [32,64,32,32], w [64,64,3,3], pad 1, bias",
                Specs.Conv.same3x3(32, 64, 32, ConvPass.FORWARD));
        add("conv-fwdbwd-64x32", "conv2d forward + grad input + grad weight + grad bias, x [32,64,32,32], 3x3 pad 1",
                Specs.Conv.same3x3(32, 64, 32, ConvPass.FORWARD_BACKWARD));
        add("conv-fwdbwd-128x16", "conv2d forward + grad input + grad weight + grad bias, x [32,128,16,16], 3x3 pad 1",
                Specs.Conv.same3x3(32, 128, 16, ConvPass.FORWARD_BACKWARD));
        add("groupnorm", "group_norm forward, x [32,64,32,32], 32 groups, affine, eps 1e-5",
                new Specs.GroupNorm(32, 64, 32, 32, 32));
        add("attention-fwdbwd", "softmax(q k^T/8) v and its hand-written backward, q,k,v [8,4,256,64]",
                new Specs.Attention(8, 4, 256, 64, true));
        add("silu-16m", "silu over 16M (2^24) floats", new Specs.Silu(1 << 24));
        add("resblock-attn-step", "ResnetBlock2D(64->64, temb 256) + AttentionBlock(4 heads x 16) at [16,64,16,16]: forward, MSE, backward, AdamW",
                new TrainStepSpecs.ResBlockAttnStep(16, 64, 16, 256, 4, 32));
        add("unet-fwd", "UNet2DModel 32x32x1, channels (64,128,128), 2 layers/block, attention at 16x16 and 8x8 (heads of 8), batch 64: forward, no grad",
                ModelSpecs.UNetCase.small(64, false));
        add("unet-step", "the unet-fwd UNet at batch 64: forward, MSE to a fixed noise target, backward, AdamW",
                ModelSpecs.UNetCase.small(64, true));
        add("unet-step-tiny", "UNet2DModel 16x16x1, channels (32,64,64), 1 layer/block, attention at 8x8 and 4x4 (heads of 8), batch 8: "
                + "forward, MSE to a fixed noise target, backward, AdamW (sized for bench/device-compare on an OpenCL CPU device)",
                ModelSpecs.UNetCase.tiny(8, true));
        add("unet-train-tiny", "the unet-step-tiny step as a training loop runs it: gradient clipping to norm 1 before AdamW, an EMA of the "
                + "weights (decay 0.999) after", new ModelSpecs.UNetTrainCase(ModelSpecs.UNetCase.tiny(8, true)));
        add("textenc-fwd", "CLIP text encoder ClipTextConfig.small() (width 256, 4 layers x 4 heads, 77 tokens), batch 64: forward, no grad",
                ModelSpecs.TextEncCase.small(64, false));
        add("textenc-step", "the textenc-fwd encoder at batch 64: forward, MSE of the last hidden state to a fixed target, backward, AdamW",
                ModelSpecs.TextEncCase.small(64, true));
        add("teacher-train-fmnist", "one EDM training step of the default fmnist teacher (class-conditional UNet (32,48,64), 949k parameters) at batch 64: "
                + "sigma ~ lognormal, EDM-preconditioned forward, weighted MSE, backward, AdamW", new EdmTeacherStepSpec(64));
        add("disback-iter-fmnist", "one Diff-Instruct distillation iteration of the default fmnist teacher (949k-parameter UNet) at batch 64: "
                + "fake DSM step on fresh one-step samples, then the generator step (DI loss against the teacher), Adam(0, 0.999) for both",
                new DisBackIterSpec(64));
        add("launch-overhead", "256 chained elementwise ops (x * 0.999, x + 0.001) on 1024 floats: per-op overhead, one kernel launch each on a device",
                new Specs.LaunchChain(256, 1024));
        // Later cases go here, and under the same name in torch_cases.py.
    }

    private static void add(String name, String description, Spec spec) {
        if (CASES.putIfAbsent(name, new Case(name, description, spec)) != null)
            throw new IllegalStateException("duplicate compare case " + name);
    }

    /** All cases in registration order. */
    public static Map<String, Case> all() {
        return Collections.unmodifiableMap(CASES);
    }

    /** The case called {@code name}; the error lists the known names. */
    public static Case get(String name) {
        Case c = CASES.get(name);
        if (c == null) throw new IllegalArgumentException("unknown case '" + name + "'; known cases: " + String.join(" ", CASES.keySet()));
        return c;
    }
}
