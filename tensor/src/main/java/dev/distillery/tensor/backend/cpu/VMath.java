package dev.distillery.tensor.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised float transcendentals for the CPU kernels, written with plain lane arithmetic so they are fast and
 * give the same results everywhere.
 *
 * <ul>
 *   <li>{@link #exp}: Cephes-style range reduction and degree-6 polynomial; within 1 ulp over the whole float
 *   range, including subnormal results (scaled in two steps) and ±infinity/NaN inputs.</li>
 *   <li>{@link #log}, {@link #tanh}: Cephes logf / tanhf, about 1 ulp.</li>
 *   <li>{@link #erfcPos}: erfc for z >= 0 from Numerical Recipes' Chebyshev fit (relative error below 1.2e-7
 *   everywhere in exact arithmetic), used for GELU's normal CDF.</li>
 * </ul>
 *
 * <p>Only exactly rounded lane operations are used: no {@code reduceLanes(ADD)} (whose association may differ
 * between compiled and interpreted code) and no Vector API transcendentals (SVML intrinsics when compiled,
 * {@code Math} calls when interpreted). So a result never depends on JIT state, thread count or platform.
 *
 * <p>JIT notes: C2 must inline these helpers into the kernel loop, or the vectors they take and return are boxed
 * (orders of magnitude slower). Each Vector API call costs C2 a few hundred IR nodes while it parses, and it stops
 * inlining past a node budget, so the helpers keep their operation counts low and take constants from static
 * final vectors rather than broadcasting them; kernels call at most one exp-based helper per loop.
 */
final class VMath {
    private VMath() {}

    static final VectorSpecies<Float> F = VectorInfo.F;

    private static FloatVector c(float v) {
        return FloatVector.broadcast(F, v);
    }

    static final FloatVector ONE = c(1f), TWO = c(2f), HALF = c(0.5f);

    // exp
    private static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer in the low bits
    private static final int ROUND_MAGIC_BITS = 0x4B400000;
    private static final FloatVector LOG2E = c(1.44269504088896341f), MAGIC = c(ROUND_MAGIC);
    private static final FloatVector NEG_LN2_HI = c(-0.693359375f), NEG_LN2_LO = c(2.12194440e-4f);
    private static final FloatVector E0 = c(1.9875691500E-4f), E1 = c(1.3981999507E-3f), E2 = c(8.3334519073E-3f),
            E3 = c(4.1665795894E-2f), E4 = c(1.6666665459E-1f), E5 = c(5.0000001201E-1f);

    /** e^x for every lane (1 ulp). */
    static FloatVector exp(FloatVector x) {
        // Clamp so the exponent stays in [-150, 128]; the result still overflows to +inf above ~88.72 and
        // rounds to 0 below ~-103.97. NaN survives min/max and the polynomial.
        x = x.max(-104f).min(89f);
        FloatVector t = x.fma(LOG2E, MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector r = n.fma(NEG_LN2_HI, x);
        r = n.fma(NEG_LN2_LO, r);
        FloatVector p = r.fma(E0, E1);
        p = p.fma(r, E2);
        p = p.fma(r, E3);
        p = p.fma(r, E4);
        p = p.fma(r, E5);
        p = p.fma(r.mul(r), r).add(ONE);
        // 2^n as two factors 2^(n/2) * 2^(n - n/2), each a normal float, so subnormal results come out right.
        IntVector ni = t.reinterpretAsInts().sub(ROUND_MAGIC_BITS);
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = ni.sub(n1);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /** 1 / (1 + e^-x). */
    static FloatVector sigmoid(FloatVector x) {
        return ONE.div(exp(x.neg()).add(ONE));
    }

    /** x / (1 + e^-x). */
    static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(ONE));
    }

    private static final FloatVector GELU_K = c(0.044715f), NEG_2_SQRT_2_OVER_PI = c(-1.5957691216057308f);

    /** GELU with the tanh approximation, as x * sigmoid(2u) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3). */
    static FloatVector geluTanh(FloatVector x) {
        // -2u = x * (-2 sqrt(2/pi)) * (1 + 0.044715 x^2)
        FloatVector m2u = x.mul(NEG_2_SQRT_2_OVER_PI).mul(x.mul(x).fma(GELU_K, ONE));
        return x.div(exp(m2u).add(ONE));
    }

    private static final FloatVector R0 = c(0.17087277f), R1 = c(-0.82215223f), R2 = c(1.48851587f), R3 = c(-1.13520398f),
            R4 = c(0.27886807f), R5 = c(-0.18628806f), R6 = c(0.09678418f), R7 = c(0.37409196f), R8 = c(1.00002368f),
            R9 = c(-1.26551223f);

    /** erfc(z) for z >= 0 (relative error about 1.2e-7 plus float rounding). */
    static FloatVector erfcPos(FloatVector z) {
        FloatVector t = ONE.div(z.fma(HALF, ONE));
        FloatVector p = t.fma(R0, R1);
        p = p.fma(t, R2);
        p = p.fma(t, R3);
        p = p.fma(t, R4);
        p = p.fma(t, R5);
        p = p.fma(t, R6);
        p = p.fma(t, R7);
        p = p.fma(t, R8);
        p = p.fma(t, R9);
        return t.mul(exp(z.neg().fma(z, p)));
    }

    private static final FloatVector INV_SQRT2 = c(0.70710678118654752f);

    /** GELU, exact form x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2. */
    static FloatVector geluErf(FloatVector x) {
        FloatVector h = erfcPos(x.mul(INV_SQRT2).abs()).mul(HALF); // Phi(-|x|)
        FloatVector phi = h.blend(ONE.sub(h), x.compare(VectorOperators.GT, 0f));
        return x.mul(phi);
    }

    private static final FloatVector L0 = c(7.0376836292E-2f), L1 = c(-1.1514610310E-1f), L2 = c(1.1676998740E-1f),
            L3 = c(-1.2420140846E-1f), L4 = c(1.4249322787E-1f), L5 = c(-1.6668057665E-1f), L6 = c(2.0000714765E-1f),
            L7 = c(-2.4999993993E-1f), L8 = c(3.3333331174E-1f), LN2_LO = c(-2.12194440e-4f), LN2_HI = c(0.693359375f),
            NEG_HALF = c(-0.5f);

    /**
     * Natural log (Cephes logf's polynomial on [sqrt(1/2) - 1, sqrt(2) - 1], with the mantissa brought into
     * [sqrt(1/2), sqrt(2)) by integer arithmetic). Lanes outside the normal positive range (0, subnormals,
     * negatives, +inf, NaN) are rare and recomputed with {@link Math#log} off the hot path.
     */
    static FloatVector log(FloatVector x) {
        IntVector ix = x.reinterpretAsInts().add(0x3f800000 - 0x3f3504f3);
        IntVector k = ix.lanewise(VectorOperators.ASHR, 23).sub(0x7f);
        FloatVector f = ix.and(0x007fffff).add(0x3f3504f3).reinterpretAsFloats().sub(ONE);
        FloatVector e = (FloatVector) k.convert(VectorOperators.I2F, 0);
        FloatVector z = f.mul(f);
        FloatVector y = f.fma(L0, L1);
        y = y.fma(f, L2);
        y = y.fma(f, L3);
        y = y.fma(f, L4);
        y = y.fma(f, L5);
        y = y.fma(f, L6);
        y = y.fma(f, L7);
        y = y.fma(f, L8);
        y = y.mul(f).mul(z);
        y = e.fma(LN2_LO, y);
        y = z.fma(NEG_HALF, y);
        FloatVector r = e.fma(LN2_HI, f.add(y));
        VectorMask<Float> ok = x.compare(VectorOperators.GE, Float.MIN_NORMAL).and(x.compare(VectorOperators.LT, Float.POSITIVE_INFINITY));
        return ok.allTrue() ? r : logSpecial(x, r, ok);
    }

    private static FloatVector logSpecial(FloatVector x, FloatVector r, VectorMask<Float> ok) {
        float[] xs = x.toArray(), rs = r.toArray();
        for (int k = 0; k < xs.length; k++) if (!ok.laneIsSet(k)) rs[k] = (float) Math.log(xs[k]);
        return FloatVector.fromArray(F, rs, 0);
    }

    private static final FloatVector T0 = c(-5.70498872745E-3f), T1 = c(2.06390887954E-2f), T2 = c(-5.37397155531E-2f),
            T3 = c(1.33314422036E-1f), T4 = c(-3.33332819422E-1f);

    /**
     * tanh (Cephes tanhf): |x| (1 + x^2 P(x^2)) below |x| = 0.625, 1 - 2 / (e^{2|x|} + 1) above, then x's sign bit
     * (so -0 stays -0 and NaN stays NaN).
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector big = ONE.sub(TWO.div(exp(ax.add(ax)).add(ONE)));
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(T0, T1);
        p = p.fma(z, T2);
        p = p.fma(z, T3);
        p = p.fma(z, T4);
        FloatVector small = p.mul(z).fma(ax, ax);
        FloatVector r = small.blend(big, ax.compare(VectorOperators.GT, 0.625f));
        return r.reinterpretAsInts().or(x.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
    }

    /**
     * The sum of the lanes in double, in lane order (through {@code tmp}, at least one vector long): the same
     * compiled or interpreted (unlike {@code reduceLanes(ADD)}), and partial sums are not rounded to float.
     */
    static double sumLanes(FloatVector v, float[] tmp) {
        v.intoArray(tmp, 0);
        double s = 0;
        for (int k = 0; k < F.length(); k++) s += tmp[k];
        return s;
    }
}
