package dev.distillery.bench;

import dev.distillery.tensor.backend.cpu.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Common settings of the JMH benchmarks: average time in ms/op, 3 x 2 s warm-up, 5 x 2 s measurement, one fork
 * with the JVM flags of the root pom ({@code distillery.jvm.flags}). Each subclass turns its {@code @Param}s into a
 * {@link Spec} (without allocating: {@link BenchMain} calls {@link #spec()} again after the run to turn the
 * score into GFLOP/s or GB/s); the inherited {@link #run()} is the measured method.
 *
 * <p>{@code -p threads=1,2} runs each case with that many kernel threads ({@link Parallel#setThreads}); 0 keeps
 * the default ({@code -Ddistillery.threads}, else all processors). Ops that take several seconds on the reference
 * backend still work: an iteration runs at least one op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public abstract class BenchBase {
    /** Kernel threads for this trial; 0 = the default pool size. */
    @Param("0")
    public int threads;

    private Workload work;

    /** The case these parameters describe (must not allocate tensors). */
    public abstract Spec spec();

    @Setup(Level.Trial)
    public void setUp() {
        // 0: the default pool size (set again, in case an in-process run, -f 0, changed it for an earlier trial).
        Parallel.setThreads(threads > 0 ? threads
                : Integer.getInteger("distillery.threads", Runtime.getRuntime().availableProcessors()));
        work = spec().prepare();
    }

    @Benchmark
    public Object run() {
        return work.run();
    }

    /** Checks the last result is finite once per trial (a broken kernel should not produce a fast-looking score). */
    @TearDown(Level.Trial)
    public void check() {
        Outputs.checkFinite(work.run());
        work = null;
    }

    /** Parses "AxBxC" into ints. */
    static int[] dims(String s, int count) {
        String[] parts = s.split("x");
        if (parts.length != count) throw new IllegalArgumentException("expected " + count + " dims as AxB..., got '" + s + "'");
        int[] d = new int[count];
        for (int i = 0; i < count; i++) d[i] = Integer.parseInt(parts[i].trim());
        return d;
    }
}
