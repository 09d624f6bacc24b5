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

    /**
     * A CPU storage whose contents are unspecified (recycled from the {@link BufferPool}, NaN under
     * {@code -Ddistillery.pool.poison=true}): only for kernels that write every element before anyone reads it.
     * Inside a {@link TensorScope} the storage belongs to that scope and is released when it closes. F32 and F64
     * are pooled; other types (and everything with {@code -Ddistillery.pool=off}) are plain zero-filled arrays.
     */
    static Storage allocateUninitialized(DType dtype, int length) {
        if (length < 0) throw new IllegalArgumentException("storage length must be >= 0, got " + length);
        return BufferPool.allocate(dtype, length);
    }

    /**
     * A storage that a {@link TensorScope} can hand back to its owner when the scope closes (or earlier, through
     * {@link TensorScope#releaseEarly}): device memory, whose backend registers it with {@link TensorScope#adopt(Releasable)}.
     * After {@link #release()} every use must fail loudly, as for a released pooled array.
     */
    interface Releasable extends Storage {
        /** Gives the memory back (at most once; later calls do nothing). */
        void release();
    }

    /** A zero-filled CPU storage of the given type. */
    static Storage allocate(DType dtype, int length) {
        if (length < 0) throw new IllegalArgumentException("storage length must be >= 0, got " + length);
        return switch (dtype) {
            case F32 -> new FloatStorage(BufferPool.freshFloats(length)); // fresh, zeroed; drops the pool's arrays if the heap is full
            case F64 -> new DoubleStorage(BufferPool.freshDoubles(length));
            case I64 -> new LongStorage(new long[length]);
            case BOOL -> new BoolStorage(new byte[length]);
            case F16, BF16 -> new HalfStorage(new short[length], dtype);
        };
    }

    /**
     * F32 on the heap. A storage from {@link #allocateUninitialized} may be released to the {@link BufferPool} when
     * its {@link TensorScope} closes; after that every access ({@link #data}, {@link #getDouble}, {@link #setDouble})
     * throws {@link IllegalStateException}, so a tensor (or view) that outlived its scope fails loudly instead of
     * reading an array that now belongs to another tensor.
     */
    final class FloatStorage implements Storage {
        // Volatile: a release on the scope's thread is seen by every later access on any thread.
        private volatile float[] data;

        public FloatStorage(float[] data) { this.data = java.util.Objects.requireNonNull(data); }

        /** The backing array; throws if this storage was released to the pool. */
        public float[] data() {
            float[] d = data;
            if (d == null) throw BufferPool.useAfterRelease(this);
            return d;
        }

        /** Hands the array to the pool and poisons this storage (only {@link BufferPool} calls this). */
        float[] release() {
            float[] d = data();
            data = null;
            return d;
        }

        boolean isReleased() { return data == null; }

        public DType dtype() { return DType.F32; }
        public int length() { return data().length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return data()[i]; }
        public void setDouble(int i, double v) { data()[i] = (float) v; }
        @Override public String toString() { return data == null ? "FloatStorage[released]" : "FloatStorage[length=" + data.length + "]"; }
    }

    /** F64 on the heap; pooled and released like {@link FloatStorage}. */
    final class DoubleStorage implements Storage {
        // Volatile: a release on the scope's thread is seen by every later access on any thread.
        private volatile double[] data;

        public DoubleStorage(double[] data) { this.data = java.util.Objects.requireNonNull(data); }

        /** The backing array; throws if this storage was released to the pool. */
        public double[] data() {
            double[] d = data;
            if (d == null) throw BufferPool.useAfterRelease(this);
            return d;
        }

        /** Hands the array to the pool and poisons this storage (only {@link BufferPool} calls this). */
        double[] release() {
            double[] d = data();
            data = null;
            return d;
        }

        boolean isReleased() { return data == null; }

        public DType dtype() { return DType.F64; }
        public int length() { return data().length; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) { return data()[i]; }
        public void setDouble(int i, double v) { data()[i] = v; }
        @Override public String toString() { return data == null ? "DoubleStorage[released]" : "DoubleStorage[length=" + data.length + "]"; }
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
