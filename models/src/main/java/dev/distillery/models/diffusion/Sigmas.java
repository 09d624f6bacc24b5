package dev.distillery.models.diffusion;

/**
 * Noise-level grids for the variance-exploding / EDM view {@code x = x0 + sigma n} (Karras et al. 2022, "Elucidating
 * the design space of diffusion-based generative models", hereafter EDM).
 */
public final class Sigmas {
    private Sigmas() {}

    /** EDM defaults: sigma_min 0.002, sigma_max 80, rho 7, sigma_data 0.5. */
    public static final double EDM_SIGMA_MIN = 0.002, EDM_SIGMA_MAX = 80, EDM_RHO = 7, EDM_SIGMA_DATA = 0.5;

    /**
     * EDM eq. (5): {@code sigma_i = (sigma_max^(1/rho) + i / (n - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho} for
     * i = 0 .. n-1 (descending, sigma_0 = sigma_max, sigma_{n-1} = sigma_min), followed by {@code sigma_n = 0}: n + 1
     * values, n sampler steps (k-diffusion {@code get_sigmas_karras}).
     */
    public static double[] karras(int n, double sigmaMin, double sigmaMax, double rho) {
        if (n < 1) throw new IllegalArgumentException("karras: need at least one step, got " + n);
        if (!(sigmaMin > 0 && sigmaMax >= sigmaMin && rho > 0))
            throw new IllegalArgumentException("karras: need 0 < sigma_min <= sigma_max and rho > 0, got " + sigmaMin + ", " + sigmaMax + ", " + rho);
        double[] s = new double[n + 1];
        double minInv = Math.pow(sigmaMin, 1 / rho), maxInv = Math.pow(sigmaMax, 1 / rho);
        for (int i = 0; i < n; i++) {
            double ramp = n == 1 ? 0 : (double) i / (n - 1);
            s[i] = Math.pow(maxInv + ramp * (minInv - maxInv), rho);
        }
        s[n] = 0;
        return s;
    }

    /** {@link #karras} with the EDM defaults (0.002, 80, rho 7). */
    public static double[] karras(int n) {
        return karras(n, EDM_SIGMA_MIN, EDM_SIGMA_MAX, EDM_RHO);
    }

    /**
     * The same n Karras levels in ascending order and without the trailing 0: index 0 is sigma_min. This is the
     * training grid DMD2-EDM draws noise levels from (1000 points, 0.002 .. 80, rho 7).
     */
    public static double[] karrasAscending(int n, double sigmaMin, double sigmaMax, double rho) {
        double[] d = karras(n, sigmaMin, sigmaMax, rho);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = d[n - 1 - i];
        return a;
    }

    /**
     * The VE noise levels of the given (descending) VP timesteps, {@code sigma_t = sqrt((1 - a_t) / a_t)}, followed by
     * a trailing 0 (as diffusers' {@code EulerDiscreteScheduler} without Karras sigmas). Use with
     * {@link Denoisers#vpAsEdm} to run the EDM samplers on a VP model.
     */
    public static double[] fromTimesteps(NoiseSchedule schedule, int[] timesteps) {
        double[] s = new double[timesteps.length + 1];
        for (int i = 0; i < timesteps.length; i++) s[i] = schedule.sigma(timesteps[i]);
        return s;
    }

    /**
     * Karras levels spanning a VP schedule's own range, [sigma(0), sigma(T-1)] (diffusers
     * {@code use_karras_sigmas=True}), with the trailing 0.
     */
    public static double[] karras(NoiseSchedule schedule, int n, double rho) {
        return karras(n, schedule.sigmaMin(), schedule.sigmaMax(), rho);
    }
}
