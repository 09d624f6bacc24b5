package dev.distillery.tensor.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

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
        var task = new Chunks(body, n, chunks, 0, chunks);
        if (ForkJoinTask.inForkJoinPool() && Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread w
                && w.getPool() == pool) {
            task.invoke();
        } else {
            pool.invoke(task);
        }
    }

    /** Runs {@code tasks} independent tasks {@code body.run(i, i + 1)} in parallel. */
    public static void forEach(int tasks, RangeBody body) {
        forRange(tasks, 1, body);
    }

    private static final class Chunks extends RecursiveAction {
        private final RangeBody body;
        private final int n, chunks, lo, hi;

        Chunks(RangeBody body, int n, int chunks, int lo, int hi) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                int start = (int) ((long) n * lo / chunks);
                int end = (int) ((long) n * hi / chunks);
                if (end > start) body.run(start, end);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Chunks(body, n, chunks, lo, mid), new Chunks(body, n, chunks, mid, hi));
        }
    }
}
