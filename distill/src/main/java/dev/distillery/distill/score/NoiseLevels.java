package dev.distillery.distill.score;

import dev.distillery.models.diffusion.Sigmas;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * How a score-distillation loss draws its noise levels (spec disback.md §2.2):
 * <ul>
 *   <li>{@link LogNormal}: {@code ln sigma ~ N(mean, std^2)}; Diff-Instruct and EDM use mean -1.2, std 1.2.</li>
 *   <li>{@link KarrasGrid}: an index drawn uniformly from {@code [lo, hi]} (inclusive) of an ascending Karras grid;
 *       DMD2-EDM uses 1000 points from 0.002 to 80 (rho 7), {@code [20, 980]} for the generator and
 *       {@code [0, 999]} for the fake score.</li>
 * </ul>
 */
public sealed interface NoiseLevels {
    /** {@code n} noise levels, one per sample. */
    double[] sample(Rng rng, int n);

    /** A compact text form that {@link #parse} reads back: {@code lognormal:MEAN,STD} or {@code karras:POINTS,LO,HI}. */
    String describe();

    /** Reads {@link #describe()}'s form; errors name the text. */
    static NoiseLevels parse(String text) {
        String[] kv = text.trim().split(":", 2);
        try {
            String[] a = kv.length == 2 ? kv[1].split(",") : new String[0];
            return switch (kv[0].toLowerCase(java.util.Locale.ROOT)) {
                case "lognormal" -> {
                    if (a.length != 2) throw new IllegalArgumentException("expected lognormal:MEAN,STD");
                    yield new LogNormal(Double.parseDouble(a[0]), Double.parseDouble(a[1]));
                }
                case "karras" -> {
                    if (a.length != 3) throw new IllegalArgumentException("expected karras:POINTS,LO,HI");
                    yield KarrasGrid.dmd2(Integer.parseInt(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]));
                }
                default -> throw new IllegalArgumentException("unknown kind '" + kv[0] + "' (lognormal:MEAN,STD or karras:POINTS,LO,HI)");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("noise levels '" + text + "': bad number (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("noise levels '" + text + "': " + e.getMessage());
        }
    }

    record LogNormal(double mean, double std) implements NoiseLevels {
        public LogNormal {
            if (!(std > 0) || !Double.isFinite(mean)) throw new IllegalArgumentException("LogNormal noise levels need a finite mean and std > 0, got " + mean + ", " + std);
        }

        @Override
        public String describe() {
            return "lognormal:" + mean + "," + std;
        }

        @Override
        public double[] sample(Rng rng, int n) {
            double[] z = Tensor.randn(rng, DType.F64, n).toDoubleArray();
            for (int i = 0; i < n; i++) z[i] = Math.exp(mean + std * z[i]);
            return z;
        }
    }

    /** Uniform over the indices {@code lo..hi} of an ascending grid. */
    record KarrasGrid(double[] ascending, int lo, int hi) implements NoiseLevels {
        public KarrasGrid {
            if (lo < 0 || hi >= ascending.length || lo > hi)
                throw new IllegalArgumentException("KarrasGrid: index range [" + lo + ", " + hi + "] outside a grid of " + ascending.length);
            for (int i = 1; i < ascending.length; i++)
                if (!(ascending[i] > ascending[i - 1])) throw new IllegalArgumentException("KarrasGrid: grid is not ascending at index " + i);
            ascending = ascending.clone();
        }

        /** The DMD2-EDM grid: {@code points} values from 0.002 to 80 with rho 7, ascending. */
        public static KarrasGrid dmd2(int points, int lo, int hi) {
            return new KarrasGrid(Sigmas.karrasAscending(points, Sigmas.EDM_SIGMA_MIN, Sigmas.EDM_SIGMA_MAX, Sigmas.EDM_RHO), lo, hi);
        }

        /** Only grids made by {@link #dmd2} describe themselves exactly (points, lo, hi). */
        @Override
        public String describe() {
            return "karras:" + ascending.length + "," + lo + "," + hi;
        }

        @Override
        public double[] sample(Rng rng, int n) {
            long[] idx = Tensor.randint(rng, lo, hi + 1L, n).toLongArray();
            double[] s = new double[n];
            for (int i = 0; i < n; i++) s[i] = ascending[(int) idx[i]];
            return s;
        }
    }
}
