package dev.distillery.tensor.tornado;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Storage;

/**
 * A range of one device arena: F32 tensors live in the float arena, I64 (as int32) and BOOL (0/1) in the int arena.
 * The range goes back to the arena when this storage becomes unreachable (a {@link java.lang.ref.Cleaner} action that
 * holds only the offset), or at once through {@link TornadoBackend#release}. Elements are not readable from the host:
 * copy the tensor with {@code to(Device.CPU)}.
 */
public final class TornadoStorage implements Storage {
    private final Device device;
    private final DType dtype;
    private final int offset;
    private final int length;

    TornadoStorage(Device device, DType dtype, int offset, int length) {
        this.device = device;
        this.dtype = dtype;
        this.offset = offset;
        this.length = length;
    }

    /** Where element 0 sits in its arena. */
    public int offset() { return offset; }

    /** True for F32 (float arena), false for I64 and BOOL (int arena). */
    boolean inFloatArena() { return dtype == DType.F32; }

    @Override public DType dtype() { return dtype; }
    @Override public int length() { return length; }
    @Override public Device device() { return device; }

    @Override
    public double getDouble(int i) {
        throw new IllegalStateException("element access on " + device + ": copy the tensor to the host first with to(Device.CPU)");
    }

    @Override
    public void setDouble(int i, double v) {
        throw new IllegalStateException("element writes on " + device + ": build the tensor on the host and move it with to(device), or use copyFrom");
    }

    @Override
    public String toString() {
        return "TornadoStorage[" + device + ", " + dtype + ", offset=" + offset + ", length=" + length + "]";
    }
}
