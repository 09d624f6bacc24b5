package dev.distillery.tensor;

/**
 * A flat buffer of elements of one {@link DType} on one {@link Device}. Layout (shape, strides, offset) lives
 * in {@link Tensor}, so many tensors (views) can share one storage.
 *
 * <p>The CPU storages are Java arrays, which the Vector API loads fastest. Element access through
 * {@link #getDouble}/{@link #setDouble} is for reference code and tests, not for kernels.
 */
public interface Storage {
    DType dtype();

    /** Number of elements. */
    int length();

    Device device();

    /** Reads element {@code i} as a double (BOOL as 0/1, F16/BF16 decoded). */
    double getDouble(int i);

    /** Writes element {@code i}, rounding to this storage's type. */
    void setDouble(int i, double v);

    /** A zero-filled CPU storage of the given type. */
    static Storage allocate(DType dtype, int length) {
        if (length < 0) throw new IllegalArgumentException("storage length must be >= 0, got " + length);
        return switch (dtype) {
            case F32 -> new FloatStorage(new float[length]);
            case F64 -> new DoubleStorage(new double[length]);
            case I64 -> new LongStorage(new long[length]);
            case BOOL -> new BoolStorage(new byte[length]);
            case F16, BF16 -> new HalfStorage(new short[length], dtype);
        };
    }

    /** F32 on the heap. */
    record FloatStorage(float[] data) implements Storage {
        public DType dtype() { return DType.F32; }
        public int length() { return data.length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return data[i]; }
        public void setDouble(int i, double v) { data[i] = (float) v; }
    }

    /** F64 on the heap. */
    record DoubleStorage(double[] data) implements Storage {
        public DType dtype() { return DType.F64; }
        public int length() { return data.length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return data[i]; }
        public void setDouble(int i, double v) { data[i] = v; }
    }

    /** I64 on the heap. */
    record LongStorage(long[] data) implements Storage {
        public DType dtype() { return DType.I64; }
        public int length() { return data.length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return data[i]; }
        public void setDouble(int i, double v) { data[i] = (long) v; }
    }

    /** BOOL on the heap, one byte (0 or 1) per element. */
    record BoolStorage(byte[] data) implements Storage {
        public DType dtype() { return DType.BOOL; }
        public int length() { return data.length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return data[i] != 0 ? 1 : 0; }
        public void setDouble(int i, double v) { data[i] = (byte) (v != 0 ? 1 : 0); }
    }

    /** F16 or BF16 bit patterns on the heap; a storage format only (convert with {@link Tensor#to}). */
    record HalfStorage(short[] data, DType dtype) implements Storage {
        public HalfStorage {
            if (dtype != DType.F16 && dtype != DType.BF16) throw new IllegalArgumentException("HalfStorage holds F16 or BF16, not " + dtype);
        }
        public int length() { return data.length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return dtype == DType.F16 ? Float.float16ToFloat(data[i]) : HalfFloats.bf16ToFloat(data[i]); }
        public void setDouble(int i, double v) {
            data[i] = dtype == DType.F16 ? Float.floatToFloat16((float) v) : HalfFloats.floatToBf16((float) v);
        }
    }
}
