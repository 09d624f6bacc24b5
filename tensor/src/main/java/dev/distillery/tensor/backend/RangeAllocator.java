package dev.distillery.tensor.backend;

import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out element ranges of one large device buffer (an arena), for backends whose device memory is a few big
 * arrays addressed by offsets (the TornadoVM backend: every tensor is an offset into one device-resident
 * {@code FloatArray}, so kernels compiled once serve every tensor). Best fit over a free list, neighbouring free ranges
 * merged on release, every range aligned to {@link #alignment()} elements. Thread-safe.
 */
public final class RangeAllocator {
    private final String name;
    private final long capacity;
    private final int alignment;
    private final TreeMap<Long, Long> freeByOffset = new TreeMap<>(); // offset -> length
    private final TreeMap<Long, Long> used = new TreeMap<>();         // offset -> length
    private long usedElements;
    private long peakElements;

    /**
     * @param name      what the error messages call this arena (with the setting that sizes it)
     * @param capacity  elements in the arena
     * @param alignment every offset and length is a multiple of this (a power of two)
     */
    public RangeAllocator(String name, long capacity, int alignment) {
        if (capacity < 0) throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
        this.name = name;
        this.capacity = capacity - capacity % alignment;
        this.alignment = alignment;
        if (this.capacity > 0) freeByOffset.put(0L, this.capacity);
    }

    public long capacity() { return capacity; }

    public int alignment() { return alignment; }

    /** Elements handed out now (after rounding up to the alignment). */
    public synchronized long usedElements() { return usedElements; }

    /** The most elements ever handed out at once. */
    public synchronized long peakElements() { return peakElements; }

    /** Number of live ranges. */
    public synchronized int liveRanges() { return used.size(); }

    /**
     * The offset of a new range of at least {@code length} elements (a zero-length request still gets its own
     * aligned range, so every live tensor has a distinct offset).
     *
     * @throws IllegalStateException if no free range is large enough, naming the arena and its use
     */
    public synchronized long allocate(long length) {
        if (length < 0) throw new IllegalArgumentException("length must be >= 0, got " + length);
        long need = Math.max(alignment, roundUp(length));
        Long bestOffset = null;
        long bestLength = Long.MAX_VALUE;
        for (Map.Entry<Long, Long> e : freeByOffset.entrySet()) {
            long len = e.getValue();
            if (len >= need && len < bestLength) {
                bestOffset = e.getKey();
                bestLength = len;
                if (len == need) break;
            }
        }
        if (bestOffset == null)
            throw new IllegalStateException(name + " is full: " + length + " elements requested, " + usedElements + " of " + capacity
                    + " in use in " + used.size() + " ranges (largest free range " + largestFree() + ")");
        freeByOffset.remove(bestOffset);
        if (bestLength > need) freeByOffset.put(bestOffset + need, bestLength - need);
        used.put(bestOffset, need);
        usedElements += need;
        peakElements = Math.max(peakElements, usedElements);
        return bestOffset;
    }

    /** Returns the range that starts at {@code offset} (from {@link #allocate}) to the free list. */
    public synchronized void release(long offset) {
        Long len = used.remove(offset);
        if (len == null) throw new IllegalArgumentException(name + ": no live range starts at " + offset + " (released twice?)");
        usedElements -= len;
        long start = offset, end = offset + len;
        Map.Entry<Long, Long> before = freeByOffset.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() == start) {
            start = before.getKey();
            freeByOffset.remove(start);
        }
        Long afterLen = freeByOffset.remove(end);
        if (afterLen != null) end += afterLen;
        freeByOffset.put(start, end - start);
    }

    /** The largest range {@link #allocate} could hand out now. */
    public synchronized long largestFree() {
        long m = 0;
        for (long len : freeByOffset.values()) m = Math.max(m, len);
        return m;
    }

    private long roundUp(long n) {
        return (n + alignment - 1) & -(long) alignment;
    }

    @Override
    public synchronized String toString() {
        return name + "[" + usedElements + "/" + capacity + " in " + used.size() + " ranges]";
    }
}
