package dev.distillery.models.diffusion;

/**
 * diffusers' {@code beta_schedule} values; {@link NoiseSchedule#fromConfig} builds the betas with the formulas of
 * {@code DDPMScheduler.__init__} / {@code DDIMScheduler.__init__}.
 */
public enum BetaSchedule {
    /** {@code linspace(beta_start, beta_end, T)} (Ho et al. 2020: 1e-4 .. 0.02). */
    LINEAR("linear"),
    /** {@code linspace(sqrt(beta_start), sqrt(beta_end), T)^2} (Stable Diffusion: 0.00085 .. 0.012). */
    SCALED_LINEAR("scaled_linear"),
    /** Nichol and Dhariwal 2021 cosine alpha_bar, betas clipped at 0.999; ignores beta_start and beta_end. */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2"),
    /** {@code sigmoid(linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start} (GeoDiff). */
    SIGMOID("sigmoid");

    private final String configName;

    BetaSchedule(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static BetaSchedule fromConfig(String name) {
        for (BetaSchedule b : values()) if (b.configName.equals(name)) return b;
        throw new IllegalArgumentException("unknown beta_schedule '" + name + "' (known: linear, scaled_linear, squaredcos_cap_v2, sigmoid)");
    }
}
