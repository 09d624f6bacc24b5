package dev.distillery.distill.disback;

import java.util.Locale;

/**
 * What plays the target and how the fake score starts (spec disback.md §6A):
 * <ul>
 *   <li>{@link #BASELINE}: plain score distillation (B0): target = teacher throughout, fake score = copy of the teacher.</li>
 *   <li>{@link #DISBACK}: target = P[j(k)] walking back to the teacher, fake score = P[N] (paper mode, invariant 9).</li>
 *   <li>{@link #WARM_FAKE}: ablation A1: fake score = P[N], target = teacher throughout. Separates the effect of
 *       the path from that of a better-initialised fake score.</li>
 * </ul>
 */
public enum DistillMethod {
    BASELINE, DISBACK, WARM_FAKE;

    /** Whether Stage 1 (the degradation path) is needed. */
    public boolean needsPath() {
        return this != BASELINE;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static DistillMethod parse(String s) {
        for (DistillMethod m : values()) if (m.cliName().equals(s.toLowerCase(Locale.ROOT).replace('_', '-'))) return m;
        throw new IllegalArgumentException("--method: unknown method '" + s + "' (expected baseline, disback or warm-fake)");
    }
}
