package dev.distillery.models.text;

import dev.distillery.autograd.Variable;

/**
 * The MLP activations a CLIP text config may name in {@code hidden_act}, as transformers' {@code ACT2FN} defines
 * them.
 */
public enum ClipTextActivation {
    /** {@code x * sigmoid(1.702 x)}: OpenAI CLIP's (and SD 1.x's text encoder's) approximation of GELU. */
    QUICK_GELU("quick_gelu"),
    /** Exact GELU, {@code x * Phi(x)} (OpenCLIP ViT-bigG, SDXL's second encoder). */
    GELU("gelu"),
    /** The tanh approximation of GELU ({@code gelu_new}, {@code gelu_pytorch_tanh}, {@code gelu_fast}). */
    GELU_TANH("gelu_pytorch_tanh"),
    RELU("relu"),
    /** {@code silu} / {@code swish}. */
    SILU("silu");

    private final String configName;

    ClipTextActivation(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static ClipTextActivation fromConfig(String name) {
        return switch (name) {
            case "quick_gelu" -> QUICK_GELU;
            case "gelu" -> GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "relu" -> RELU;
            case "silu", "swish" -> SILU;
            default -> throw new IllegalArgumentException("unsupported hidden_act '" + name
                    + "' (supported: quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, swish)");
        };
    }

    public Variable apply(Variable x) {
        return switch (this) {
            case QUICK_GELU -> x.mul(x.mul(1.702).sigmoid());
            case GELU -> x.gelu();
            case GELU_TANH -> x.geluTanh();
            case RELU -> x.relu();
            case SILU -> x.silu();
        };
    }
}
