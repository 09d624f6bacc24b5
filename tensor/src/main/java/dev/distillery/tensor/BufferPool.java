package dev.distillery.tensor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Recycles the large F32/F64 arrays of op outputs, so that a loop that repeats the same shapes (a training step)
 * stops paying for the JVM's zeroing of every fresh array: single-threaded, and about as long as a memory-bound
 * kernel's own pass (~1.5 ms per 16 MB). PyTorch's caching allocator does the same.
 *
 * <p>The contract:
 * <ul>
 *   <li><b>Who takes:</b> kernels that write every element of their output, through
 *       {@link Storage#allocateUninitialized}. Anything else uses {@link Storage#allocate} (zero-filled, never pooled).</li>
 *   <li><b>Who releases:</b> only {@link TensorScope#close()}, for the storages allocated (uninitialised) on its thread
 *       while it was the innermost open scope and not {@linkplain TensorScope#keep kept}, and
 *       {@link TensorScope#releaseEarly} for one such storage its caller proved dead (the autograd engine's backward
 *       pass does this for spent gradients and rule temporaries). Outside any scope nothing is ever released: the
 *       array belongs to its tensor until the GC takes it.</li>
 *   <li><b>After release:</b> every access to the storage, through any tensor or view of it, throws
 *       {@link IllegalStateException} naming the op; it never reads the array, which now belongs to the pool or to
 *       the next tensor that took it.</li>
 *   <li><b>Sizes:</b> arrays are matched by exact length; arrays under {@link #minLength()} elements (default 16384) are not
 *       pooled (allocating those from the thread-local buffer costs next to nothing); at most {@code maxBytes} are held
 *       (released arrays beyond that are left to the GC).</li>
 *   <li><b>Raw arrays:</b> code that reads {@code FloatStorage.data()} (kernels) must not keep the array beyond
 *       the op: the check is on the storage, so an array held past its scope's close could be refilled by another
 *       tensor unnoticed.</li>
 *   <li><b>Memory:</b> held arrays are dropped when a fresh allocation runs out of heap, and by {@link #clear()}.</li>
 *   <li><b>Threads:</b> any thread may take arrays (the pool is lock-free); a scope belongs to the thread that
 *       opened it.</li>
 * </ul>
 *
 * <p>System properties: {@code distillery.pool=on|off} (default on; off: uninitialised allocations are plain
 * zero-filled arrays and scopes release nothing, exactly the behaviour without a pool), {@code distillery.pool.maxBytes}
 * (default half the maximum heap), {@code distillery.pool.minLength} (default 16384; tests use 0 so that their
 * small tensors go through the pool too), {@code distillery.pool.poison=true} (every uninitialised array, pooled or not, is
 * filled with NaN: tests run with it so that a kernel relying on zeros shows up as NaN).
 */
public final class BufferPool {
    private BufferPool() {}

    /** Arrays shorter than this are not pooled ({@code -Ddistillery.pool.minLength}, default 16384 elements). */
    private static final int MIN_LENGTH = Integer.getInteger("distillery.pool.minLength", 1 << 14);

    private static final boolean ENABLED = !"off".equalsIgnoreCase(System.getProperty("distillery.pool", "on"));
    private static final boolean POISON = Boolean.getBoolean("distillery.pool.poison");
    // Half the heap: a UNet training step at batch 64 (unet-step) releases ~6 GB per step; with a quarter of a 16 GB heap
    // the excess went to the GC every step (7.3 s vs 11.4 s per step, bench/README). Held arrays are dropped when a fresh
    // allocation (pooled or zero-filled) runs out of heap, so the pool never causes an OutOfMemoryError by itself.
    private static final long MAX_BYTES = Long.getLong("distillery.pool.maxBytes", Runtime.getRuntime().maxMemory() / 2);

    private static final Map<Integer, ConcurrentLinkedDeque<float[]>> FLOATS = new ConcurrentHashMap<>();
    private static final Map<Integer, ConcurrentLinkedDeque<double[]>> DOUBLES = new ConcurrentHashMap<>();
    private static final AtomicLong HELD_BYTES = new AtomicLong();
    private static final AtomicLong HITS = new AtomicLong(), MISSES = new AtomicLong(), RELEASED = new AtomicLong();

    /** Arrays shorter than this many elements are never pooled or released. */
    public static int minLength() { return MIN_LENGTH; }

    /** Whether pooling is on ({@code -Ddistillery.pool}, default on). */
    public static boolean enabled() { return ENABLED; }

    /** Since start: pooled-size allocations served from the pool and served fresh, storages released; bytes held now. */
    public record Stats(long hits, long misses, long released, long heldBytes) {}

    public static Stats stats() {
        return new Stats(HITS.get(), MISSES.get(), RELEASED.get(), HELD_BYTES.get());
    }

    // Bytes of pooled-size arrays handed out and not yet released, and the most seen at once since the last reset.
    private static final AtomicLong OUTSTANDING = new AtomicLong(), PEAK_OUTSTANDING = new AtomicLong();

    /**
     * Bytes of pooled-size arrays handed out by {@link Storage#allocateUninitialized} and not released yet. A storage
     * the GC takes without a release (one allocated outside any scope, or kept out of the outermost) is never
     * subtracted, so this is the scope-owned (live) pooled memory only where all the work runs in scopes, as the bench
     * runner's steps do; then its {@linkplain #peakOutstandingBytes peak} measures a step's pooled footprint without
     * the GC's timing in it.
     */
    public static long outstandingBytes() { return OUTSTANDING.get(); }

    /** The most {@link #outstandingBytes()} seen since {@link #resetPeakOutstanding()} (or start). */
    public static long peakOutstandingBytes() { return PEAK_OUTSTANDING.get(); }

    /** Restarts the peak from the current outstanding bytes. */
    public static void resetPeakOutstanding() { PEAK_OUTSTANDING.set(OUTSTANDING.get()); }

    private static void handedOut(long bytes) {
        long now = OUTSTANDING.addAndGet(bytes);
        PEAK_OUTSTANDING.accumulateAndGet(now, Math::max);
    }

    /** Drops every held array (to the GC). Storages handed out stay valid. */
    public static void clear() {
        drain(FLOATS, 4L);
        drain(DOUBLES, 8L);
    }

    private static <A> void drain(Map<Integer, ConcurrentLinkedDeque<A>> lists, long elementBytes) {
        lists.forEach((length, list) -> {
            while (list.pollFirst() != null) HELD_BYTES.addAndGet(-length * elementBytes);
        });
    }

    /** See {@link Storage#allocateUninitialized}. */
    static Storage allocate(DType dtype, int length) {
        if (!ENABLED || (dtype != DType.F32 && dtype != DType.F64)) return Storage.allocate(dtype, length);
        boolean pooled = length >= MIN_LENGTH;
        Storage s;
        if (dtype == DType.F32) {
            float[] a = pooled ? take(FLOATS, length, 4L) : null;
            if (a == null) a = freshFloats(length);
            if (POISON) java.util.Arrays.fill(a, Float.NaN);
            s = new Storage.FloatStorage(a);
        } else {
            double[] a = pooled ? take(DOUBLES, length, 8L) : null;
            if (a == null) a = freshDoubles(length);
            if (POISON) java.util.Arrays.fill(a, Double.NaN);
            s = new Storage.DoubleStorage(a);
        }
        if (pooled) {
            handedOut((long) length * (dtype == DType.F32 ? 4 : 8));
            TensorScope.adopt(s);
        }
        return s;
    }

    // When the heap is full, the arrays held for other lengths are the first thing to give up (also for the zero-filled
    // arrays of Storage.allocate).
    static float[] freshFloats(int length) {
        try {
            return new float[length];
        } catch (OutOfMemoryError e) {
            clear();
            return new float[length];
        }
    }

    static double[] freshDoubles(int length) {
        try {
            return new double[length];
        } catch (OutOfMemoryError e) {
            clear();
            return new double[length];
        }
    }

    private static <A> A take(Map<Integer, ConcurrentLinkedDeque<A>> lists, int length, long elementBytes) {
        ConcurrentLinkedDeque<A> list = lists.get(length);
        A a = list == null ? null : list.pollFirst();
        if (a == null) {
            MISSES.incrementAndGet();
            return null;
        }
        HELD_BYTES.addAndGet(-length * elementBytes);
        HITS.incrementAndGet();
        return a;
    }

    /** Makes {@code s} unusable and keeps its array for the next allocation of that length (only TensorScope calls this). */
    static void release(Storage s) {
        if (s instanceof Storage.Releasable device) { // device memory goes back to its own backend, not to this pool
            device.release();
            return;
        }
        RELEASED.incrementAndGet();
        OUTSTANDING.addAndGet(-(long) s.length() * (s.dtype() == DType.F32 ? 4 : 8));
        switch (s) {
            case Storage.FloatStorage f -> give(FLOATS, f.release(), 4L);
            case Storage.DoubleStorage d -> give(DOUBLES, d.release(), 8L);
            default -> throw new IllegalArgumentException("not a pooled storage: " + s);
        }
    }

    private static <A> void give(Map<Integer, ConcurrentLinkedDeque<A>> lists, A array, long elementBytes) {
        int length = java.lang.reflect.Array.getLength(array);
        long bytes = length * elementBytes;
        if (HELD_BYTES.addAndGet(bytes) > MAX_BYTES) {
            HELD_BYTES.addAndGet(-bytes); // over the cap: leave it to the GC
            return;
        }
        lists.computeIfAbsent(length, k -> new ConcurrentLinkedDeque<>()).addFirst(array);
    }

    /**
     * The error for an access to a released storage. It names the outermost {@link Tensor} method on the stack (the
     * op the caller invoked, e.g. {@code Tensor.silu}); the walk runs only on this failure path.
     */
    static IllegalStateException useAfterRelease(Storage s) {
        String op = StackWalker.getInstance().walk(frames -> {
            String last = null;
            for (var it = frames.iterator(); it.hasNext(); ) {
                var f = it.next();
                boolean isTensor = f.getClassName().equals(Tensor.class.getName());
                if (isTensor) last = "Tensor." + f.getMethodName();
                else if (last != null) break;
            }
            return last;
        });
        return new IllegalStateException((op != null ? op + ": " : "") + "this tensor's " + s.dtype() + " storage was released to the buffer pool "
                + "when the TensorScope that allocated it closed; use the tensor inside that scope or keep it (TensorScope.keep)");
    }
}
