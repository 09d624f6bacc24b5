package dev.distillery.tensor.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one thread pool of the CPU backend and the parallel-for every kernel uses.
 *
 * <p>The pool size is {@code -Ddistillery.threads=N} (default: available processors). Kernels split their
 * work by output index only, so every output element is computed by exactly one task in a fixed order:
 * results are bit-identical for any thread count.
 */
public final class Parallel {
    private static final System.Logger LOG = System.getLogger(Parallel.class.getName());

    private static volatile ForkJoinPool pool = newPool(configuredThreads());

    private Parallel() {}

    /** A range body: processes indices {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    static int configuredThreads() {
        String p = System.getProperty("distillery.threads");
        if (p == null || p.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(p.trim());
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Ddistillery.threads must be a positive integer, got '" + p + "'");
        }
    }

    private static ForkJoinPool newPool(int threads) {
        LOG.log(System.Logger.Level.DEBUG, "CPU backend thread pool: {0} threads", threads);
        return new ForkJoinPool(threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("distillery-cpu-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    /** Number of worker threads kernels may use. */
    public static int threads() {
        return pool.getParallelism();
    }

    /** Replaces the pool (benchmarks compare thread counts in one JVM). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (threads == threads()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of at least {@code grain} indices. Runs inline when the
     * work is a single chunk or one thread is configured.
     *
     * <p>Chunk boundaries depend only on {@code n}, {@code grain} and the pool size, never on timing, and each chunk
     * runs exactly once, so results are the same whichever thread runs which chunk. Threads claim chunks from a
     * shared counter and the calling thread claims too: it starts at once instead of waiting for a parked worker to
     * wake (tens of microseconds, as long as a whole small GEMM), and it never waits for a helper that has not
     * started, only for chunks already claimed.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        grain = Math.max(1, grain);
        int threads = threads();
        if (threads == 1 || n <= grain) {
            body.run(0, n);
            return;
        }
        // Oversplit a little (4 chunks per thread) so uneven chunks balance.
        int chunks = Math.min((n + grain - 1) / grain, threads * 4);
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        Claims claims = new Claims(body, n, chunks);
        ForkJoinPool p = pool;
        int helpers = Math.min(threads - 1, chunks - 1);
        for (int i = 0; i < helpers; i++) p.execute(claims::work);
        claims.work();
        claims.awaitAll();
    }

    /** Chunks handed out by a counter; completion counted so the caller can wait for claimed chunks only. */
    private static final class Claims {
        private final RangeBody body;
        private final int n, chunks;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Claims(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    if (failure.get() == null) {
                        int start = (int) ((long) n * c / chunks), end = (int) ((long) n * (c + 1) / chunks);
                        if (end > start) body.run(start, end);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void awaitAll() {
            // Spin briefly (chunks are short), then yield so a long wait does not starve other processes.
            for (int spins = 0; done.get() < chunks; spins++) {
                if (spins < 20_000) Thread.onSpinWait();
                else Thread.yield();
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    /** Runs {@code tasks} independent tasks {@code body.run(i, i + 1)} in parallel. */
    public static void forEach(int tasks, RangeBody body) {
        forRange(tasks, 1, body);
    }
}
