package dev.distillery.distill.data;

import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * Seeded samplers of 2-D toy distributions, as {@code [n, 2]} F32 tensors:
 * <ul>
 *   <li>{@link #ring8}: 8 equal Gaussians (std {@link #RING_STD}) on a circle of radius {@link #RING_RADIUS}; its
 *       exact noised score and denoiser are {@link #ring8Mixture()};</li>
 *   <li>{@link #swissRoll}: {@code t = 1.5 pi (1 + 2u)}, {@code (t cos t, t sin t) / 5} plus Gaussian noise
 *       (scikit-learn's {@code make_swiss_roll} in the plane, scaled to about [-3, 3]);</li>
 *   <li>{@link #checkerboard}: uniform on the 8 dark cells of a 4x4 checkerboard over [-2, 2]^2 (cell (i, j) is
 *       filled when i + j is even), so each coordinate is uniform on [-2, 2].</li>
 * </ul>
 */
public final class Toy2d {
    public static final double RING_RADIUS = 2.0;
    public static final double RING_STD = 0.1;
    public static final double SWISS_ROLL_NOISE = 0.05;

    public enum Kind { RING8, SWISS_ROLL, CHECKERBOARD }

    private Toy2d() {}

    public static Tensor sample(Kind kind, Rng rng, int n) {
        return switch (kind) {
            case RING8 -> ring8(rng, n);
            case SWISS_ROLL -> swissRoll(rng, n);
            case CHECKERBOARD -> checkerboard(rng, n);
        };
    }

    /** The ring of 8 Gaussians as a mixture, with exact scores and denoisers. */
    public static GaussianMixture ring8Mixture() {
        return GaussianMixture.ring(8, RING_RADIUS, RING_STD);
    }

    public static Tensor ring8(Rng rng, int n) {
        return ring8Mixture().sample(rng, n);
    }

    public static Tensor swissRoll(Rng rng, int n) {
        long first = rng.advance(3L * n);
        float[] out = new float[2 * n];
        for (int i = 0; i < n; i++) {
            double t = 1.5 * Math.PI * (1 + 2 * Rng.uniform(rng.seed(), first + 3L * i));
            out[2 * i] = (float) (t * Math.cos(t) / 5 + SWISS_ROLL_NOISE * Rng.normal(rng.seed(), first + 3L * i + 1));
            out[2 * i + 1] = (float) (t * Math.sin(t) / 5 + SWISS_ROLL_NOISE * Rng.normal(rng.seed(), first + 3L * i + 2));
        }
        return Tensor.of(out, n, 2);
    }

    public static Tensor checkerboard(Rng rng, int n) {
        long first = rng.advance(3L * n);
        float[] out = new float[2 * n];
        for (int i = 0; i < n; i++) {
            int cell = Math.min(7, (int) (8 * Rng.uniform(rng.seed(), first + 3L * i)));
            int row = cell / 2;                       // 0..3
            int col = 2 * (cell % 2) + (row % 2);     // i + j even
            out[2 * i] = (float) (-2 + col + Rng.uniform(rng.seed(), first + 3L * i + 1));
            out[2 * i + 1] = (float) (-2 + row + Rng.uniform(rng.seed(), first + 3L * i + 2));
        }
        return Tensor.of(out, n, 2);
    }

    /** {@code n} points of {@code kind} drawn once with {@code seed}, as a dataset of {@code [2]} samples (no labels). */
    public static Dataset dataset(Kind kind, int n, long seed) {
        float[] pts = sample(kind, new Rng(seed), n).toFloatArray();
        return new Dataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Sample get(int i) {
                return new Sample(Tensor.of(new float[]{pts[2 * i], pts[2 * i + 1]}, 2), Sample.NO_LABEL);
            }
        };
    }
}
