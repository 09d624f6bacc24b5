package dev.distillery.autograd.optim;

/** A learning rate as a function of the step (1-based: the step about to be taken). */
@FunctionalInterface
public interface LrSchedule {
    double at(long step);

    /** {@code base} after a linear warm-up from 0 over {@code warmupSteps}. */
    static LrSchedule constantWithWarmup(double base, long warmupSteps) {
        return step -> warmupSteps > 0 && step < warmupSteps ? base * step / warmupSteps : base;
    }

    /**
     * Linear warm-up, then cosine decay from {@code base} to {@code min} at {@code totalSteps} (held after that):
     * lr = min + (base - min) (1 + cos(pi (step - warmup) / (total - warmup))) / 2.
     */
    static LrSchedule cosine(double base, double min, long warmupSteps, long totalSteps) {
        if (totalSteps <= warmupSteps) throw new IllegalArgumentException("cosine schedule: total steps " + totalSteps + " must exceed warm-up " + warmupSteps);
        return step -> {
            if (warmupSteps > 0 && step < warmupSteps) return base * step / warmupSteps;
            double progress = Math.min(1, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
            return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }
}
