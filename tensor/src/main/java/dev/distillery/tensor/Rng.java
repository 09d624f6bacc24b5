package dev.distillery.tensor;

/**
 * A seeded, counter-based random generator. Draw {@code i} of a call depends only on {@code (seed, offset + i)},
 * never on thread scheduling, so random tensors are identical for any thread count and any backend. The state is
 * two longs, saved with checkpoints so a resumed run continues the same stream.
 *
 * <p>Bits come from the SplitMix64 finaliser applied to a Weyl sequence keyed by the mixed seed (the
 * generator behind {@link java.util.SplittableRandom}); normals use Box-Muller on two such draws.
 */
public final class Rng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private final long seed;
    private long offset;

    public Rng(long seed) {
        this(seed, 0);
    }

    public Rng(long seed, long offset) {
        this.seed = seed;
        this.offset = offset;
    }

    public long seed() {
        return seed;
    }

    /** Number of draws consumed so far. */
    public long offset() {
        return offset;
    }

    /** Reserves {@code n} draws and returns the offset of the first. */
    public synchronized long advance(long n) {
        long first = offset;
        offset += n;
        return first;
    }

    /** An independent generator for another purpose (data order, dropout) derived from this seed. */
    public Rng fork(long stream) {
        return new Rng(mix64(seed ^ mix64(stream + GOLDEN)), 0);
    }

    /** 64 random bits for draw {@code counter} of stream {@code seed}. */
    public static long bits(long seed, long counter) {
        return mix64(mix64(seed) + counter * GOLDEN);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public static double uniform(long seed, long counter) {
        return (bits(seed, counter) >>> 11) * 0x1.0p-53;
    }

    /** Standard normal for draw {@code counter} (Box-Muller on draws 2c and 2c+1 of a derived stream). */
    public static double normal(long seed, long counter) {
        long s = seed ^ 0x5DEECE66DL;
        double u1 = 1.0 - uniform(s, 2 * counter); // (0, 1], so log is finite
        double u2 = uniform(s, 2 * counter + 1);
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
