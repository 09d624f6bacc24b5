package dev.distillery.tensor;

/**
 * Element types, spelled as in safetensors. F32 is the compute type and F64 exists for gradient checks;
 * F16 and BF16 are storage formats that convert to F32 on load or on request ({@link Tensor#to(DType)}).
 * I64 holds indices (argmax, gather, embedding ids) and BOOL the results of comparisons.
 */
public enum DType {
    F32(4), F64(8), F16(2), BF16(2), I64(8), BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element in a file or a packed buffer. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the types kernels compute in (F32, F64). */
    public boolean isCompute() {
        return this == F32 || this == F64;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == F64 || this == F16 || this == BF16;
    }

    /** The safetensors name ("F32", "BF16", ...). */
    public String safetensorsName() {
        return name();
    }

    /** Parses a safetensors dtype name; returns null for names this library does not know. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) if (t.name().equals(name)) return t;
        return null;
    }
}
