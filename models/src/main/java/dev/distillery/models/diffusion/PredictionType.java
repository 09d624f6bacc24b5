package dev.distillery.models.diffusion;

/**
 * What a VP (DDPM-family) model outputs, named as diffusers' {@code prediction_type}. With
 * {@code x_t = sqrt(a) x0 + sqrt(1 - a) eps} ({@code a} = alpha_bar_t):
 * <ul>
 *   <li>{@link #EPSILON} ({@code "epsilon"}): the noise {@code eps} (Ho et al. 2020);</li>
 *   <li>{@link #V_PREDICTION} ({@code "v_prediction"}): {@code v = sqrt(a) eps - sqrt(1 - a) x0} (Salimans and
 *       Ho 2022, "Progressive distillation");</li>
 *   <li>{@link #SAMPLE} ({@code "sample"}): the clean sample {@code x0} directly.</li>
 * </ul>
 * {@link Predictions} converts between them.
 */
public enum PredictionType {
    EPSILON("epsilon"), V_PREDICTION("v_prediction"), SAMPLE("sample");

    private final String configName;

    PredictionType(String configName) {
        this.configName = configName;
    }

    /** The {@code scheduler_config.json} spelling. */
    public String configName() {
        return configName;
    }

    /** Parses a {@code prediction_type} value. */
    public static PredictionType fromConfig(String name) {
        for (PredictionType p : values()) if (p.configName.equals(name)) return p;
        throw new IllegalArgumentException("unknown prediction_type '" + name + "' (known: epsilon, v_prediction, sample)");
    }
}
