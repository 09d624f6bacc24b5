package dev.distillery.tensor.tornado;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.backend.RangeAllocator;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A range of one device arena: F32 tensors live in the float arena, I64 (as int32) and BOOL (0/1) in the int arena.
 * The range goes back to the arena when the {@link dev.distillery.tensor.TensorScope} that owns this storage closes
 * (op outputs made inside a scope), or when the storage becomes unreachable (a {@link java.lang.ref.Cleaner} runs a
 * {@link Range}, which holds only the offset), whichever comes first. A released storage fails on use. Elements are
 * not readable from the host: copy the tensor with {@code to(Device.CPU)}.
 */
public final class TornadoStorage implements Storage.Releasable {
    /** The arena range behind a storage; returns it at most once (explicit release or cleaner). */
    static final class Range implements Runnable {
        private final RangeAllocator arena;
        private final long offset;
        private final AtomicBoolean freed = new AtomicBoolean();

        Range(RangeAllocator arena, long offset) {
            this.arena = arena;
            this.offset = offset;
        }

        @Override
        public void run() {
            if (freed.compareAndSet(false, true)) arena.release(offset);
        }

        boolean isFreed() { return freed.get(); }
    }

    private final Device device;
    private final DType dtype;
    private final int offset;
    private final int length;
    private final Range range;

    TornadoStorage(Device device, DType dtype, int offset, int length, Range range) {
        this.device = device;
        this.dtype = dtype;
        this.offset = offset;
        this.length = length;
        this.range = range;
    }

    /** Where element 0 sits in its arena; throws if the storage was released. */
    public int offset() {
        if (range.isFreed())
            throw new IllegalStateException("a tensor on " + device + " was used after its TensorScope closed (or after an early release): "
                    + "keep it with scope.keep(tensor), or make it outside the scope");
        return offset;
    }

    @Override
    public void release() {
        range.run();
    }

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
        return "TornadoStorage[" + device + ", " + dtype + ", offset=" + offset + ", length=" + length + (range.isFreed() ? ", released" : "") + "]";
    }
}
