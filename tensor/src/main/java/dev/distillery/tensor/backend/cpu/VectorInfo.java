package dev.distillery.tensor.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species the CPU kernels use: {@code FloatVector.SPECIES_PREFERRED} unless
 * {@code -Ddistillery.vector.bits=64|128|256|512} asks for another width; {@code 0} makes {@link Gemm} take its scalar
 * path and the other kernels the narrowest (64-bit) species. Kept in one place so every kernel agrees.
 */
public final class VectorInfo {
    private VectorInfo() {}

    public static final VectorSpecies<Float> F = floatSpecies();
    public static final VectorSpecies<Double> D = doubleSpecies();

    private static int requestedBits() {
        String p = System.getProperty("distillery.vector.bits");
        if (p == null || p.isBlank()) return -1;
        int bits = Integer.parseInt(p.trim());
        if (bits != 0 && bits != 64 && bits != 128 && bits != 256 && bits != 512)
            throw new IllegalArgumentException("-Ddistillery.vector.bits must be 0 (scalar GEMM), 64, 128, 256 or 512, got " + p);
        return bits == 0 ? 64 : bits;
    }

    private static VectorSpecies<Float> floatSpecies() {
        int bits = requestedBits();
        if (bits < 0) return FloatVector.SPECIES_PREFERRED;
        return VectorSpecies.of(float.class, jdk.incubator.vector.VectorShape.forBitSize(bits));
    }

    private static VectorSpecies<Double> doubleSpecies() {
        int bits = requestedBits();
        if (bits < 0) return DoubleVector.SPECIES_PREFERRED;
        return VectorSpecies.of(double.class, jdk.incubator.vector.VectorShape.forBitSize(bits));
    }

    /** A one-line description for the start-up log. */
    public static String describe() {
        return "Vector API species " + F + " (" + F.length() + " floats, " + F.vectorBitSize() + " bits)";
    }
}
