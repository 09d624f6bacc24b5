package dev.distillery.models.diffusion;

/**
 * How {@code N} inference timesteps are picked from {@code T} training timesteps: diffusers'
 * {@code timestep_spacing}, as in {@code DDIMScheduler.set_timesteps} and {@code DDPMScheduler.set_timesteps}
 * (see also Lin et al. 2023, "Common diffusion noise schedules and sample steps are flawed", Table 2). All grids are
 * returned descending (sampling order).
 */
public enum TimestepSpacing {
    /**
     * {@code ratio = T / N} (integer division); {@code t_k = k * ratio + steps_offset}, k = N-1 .. 0. The only spacing
     * that adds {@code steps_offset}. SD 1.x: T = 1000, N = 50, offset 1 gives 981, 961, ..., 1.
     */
    LEADING("leading"),
    /** {@code round(arange(T, 0, -T / N)) - 1} with a float ratio: always starts at T - 1 (999, 979, ..., 19). */
    TRAILING("trailing"),
    /** {@code round(linspace(0, T - 1, N))}, reversed: 999, ..., 0. */
    LINSPACE("linspace");

    private final String configName;

    TimestepSpacing(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static TimestepSpacing fromConfig(String name) {
        for (TimestepSpacing s : values()) if (s.configName.equals(name)) return s;
        throw new IllegalArgumentException("unknown timestep_spacing '" + name + "' (known: leading, trailing, linspace)");
    }

    /**
     * The {@code numInference} timesteps, descending, as numpy computes them in diffusers (numpy's {@code round} is
     * round-half-to-even, which {@link Math#rint} matches).
     *
     * @throws IllegalArgumentException when {@code numInference} is not in [1, numTrain] or a timestep would fall
     *                                  outside [0, numTrain) (e.g. leading with N = T and steps_offset 1)
     */
    public int[] timesteps(int numTrain, int numInference, int stepsOffset) {
        if (numInference < 1 || numInference > numTrain)
            throw new IllegalArgumentException("number of inference steps " + numInference + " must be in [1, " + numTrain + "]");
        int[] ts;
        switch (this) {
            case LEADING -> {
                int ratio = numTrain / numInference;
                ts = new int[numInference];
                for (int k = 0; k < numInference; k++) ts[k] = (numInference - 1 - k) * ratio + stepsOffset;
            }
            case TRAILING -> {
                double ratio = (double) numTrain / numInference;
                int n = (int) Math.ceil(numTrain / ratio); // numpy arange length: ceil((stop - start) / step)
                ts = new int[n];
                for (int k = 0; k < n; k++) ts[k] = (int) Math.rint(numTrain - k * ratio) - 1;
            }
            case LINSPACE -> {
                ts = new int[numInference];
                double step = numInference > 1 ? (numTrain - 1.0) / (numInference - 1) : 0;
                for (int k = 0; k < numInference; k++) {
                    int i = numInference - 1 - k;
                    double v = i == numInference - 1 && numInference > 1 ? numTrain - 1 : i * step; // numpy sets the endpoint exactly
                    ts[k] = (int) Math.rint(v);
                }
            }
            default -> throw new AssertionError(this);
        }
        for (int t : ts)
            if (t < 0 || t >= numTrain)
                throw new IllegalArgumentException(configName + " spacing with " + numInference + " steps and steps_offset " + stepsOffset
                        + " gives timestep " + t + ", outside [0, " + numTrain + ")");
        return ts;
    }
}
