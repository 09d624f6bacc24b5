package dev.distillery.bench;

import dev.distillery.tensor.BufferPool;
import dev.distillery.tensor.backend.cpu.Parallel;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;

/**
 * Allocation and heap figures of a training-step case: wall and process CPU time per step, bytes allocated per step (all threads, from
 * {@code com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}), peak heap in use, and the share of the step
 * time spent in garbage collection; with the pool on, also the peak of pooled arrays live at once
 * ({@code pool_peak_live_mb}, {@link BufferPool#peakOutstandingBytes}: the step's scope-owned footprint, independent of
 * when the GC runs).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.distillery.bench.MemoryReport \
 *     [CASE (default resblock-attn-step)] [--steps N (default 20)] [--threads T]
 * </pre>
 */
public final class MemoryReport {
    private MemoryReport() {}

    public static void main(String[] args) {
        String caseName = "resblock-attn-step";
        int steps = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--threads" -> Parallel.setThreads(Integer.parseInt(args[++i]));
                default -> caseName = args[i];
            }
        }
        Workload w = CompareCases.get(caseName).spec().prepare();
        for (int i = 0; i < 3; i++) w.runScoped(); // warm-up: JIT, lazily created optimiser state, the buffer pool

        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
        BufferPool.resetPeakOutstanding();
        // Process CPU time (all threads: kernels, GC, JIT) is steadier than wall time on a shared machine.
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuBefore = os.getProcessCpuTime();
        long gcBefore = gcMillis(), allocBefore = threads.getTotalThreadAllocatedBytes(), t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) w.runScoped(); // each step in a TensorScope, as CompareRunner runs it
        long cpu = os.getProcessCpuTime() - cpuBefore;
        long elapsed = System.nanoTime() - t0, alloc = threads.getTotalThreadAllocatedBytes() - allocBefore, gc = gcMillis() - gcBefore;
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) peak += p.getPeakUsage().getUsed();
        double stepMs = elapsed / 1e6 / steps;
        var pool = BufferPool.stats();
        System.out.printf(Locale.ROOT, "case=%s steps=%d threads=%d pool=%s step_ms=%.2f cpu_ms_per_step=%.2f alloc_mb_per_step=%.1f peak_heap_mb=%.1f gc_ms_per_step=%.2f gc_share=%.3f pool_hits=%d pool_misses=%d pool_held_mb=%.1f pool_peak_live_mb=%.1f%n",
                caseName, steps, Parallel.threads(), BufferPool.enabled() ? "on" : "off", stepMs, cpu / 1e6 / steps, alloc / 1e6 / steps, peak / 1e6, (double) gc / steps, gc / (elapsed / 1e6),
                pool.hits(), pool.misses(), pool.heldBytes() / 1e6, BufferPool.peakOutstandingBytes() / 1e6);
    }

    private static long gcMillis() {
        long t = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) t += Math.max(0, b.getCollectionTime());
        return t;
    }
}
