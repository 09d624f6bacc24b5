package dev.distillery.distill.teacher;

import java.util.Locale;

/**
 * What a teacher is trained to predict ({@code train-teacher --objective}, recorded in {@code config.json} as
 * {@code objective}; a config without the field is {@link #EDM}).
 */
public enum TeacherObjective {
    /** EDM (Karras et al. 2022): the preconditioned denoiser D(x; sigma), {@link dev.distillery.distill.score.EdmLoss}. */
    EDM("edm"),
    /**
     * DDPM epsilon prediction (Ho et al. 2020): the raw network predicts the noise from (x_t, t) on a discrete VP
     * schedule, {@link dev.distillery.distill.score.DdpmEpsLoss}; seen as an EDM denoiser through
     * {@link dev.distillery.distill.score.DdpmEpsNet}.
     */
    DDPM_EPS("ddpm-eps");

    private final String configName;

    TeacherObjective(String configName) {
        this.configName = configName;
    }

    /** The name on the command line and in config.json. */
    public String configName() {
        return configName;
    }

    /** Parses a {@code --objective} value; the error names the flag. */
    public static TeacherObjective of(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        for (TeacherObjective o : values()) if (o.configName.equals(n)) return o;
        throw new IllegalArgumentException("--objective: unknown objective '" + name + "' (expected edm or ddpm-eps)");
    }
}
