package dev.distillery.bench;

import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.cpu.Parallel;
import dev.distillery.tensor.backend.cpu.VectorInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Java side of {@code bench/compare}: times one {@link CompareCases} case and prints machine-readable lines.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.distillery.bench.CompareRunner \
 *     CASE [--reps N] [--threads T] [--warmup-ms MS] [--min-warmup N] [--min-time-ms MS] [--max-reps N] [--seed S]
 * java ... dev.distillery.bench.CompareRunner --list
 * </pre>
 *
 * <p>Warm-up runs the case until at least {@code --min-warmup} runs and {@code --warmup-ms} have passed (so the
 * JIT has compiled the kernels); then it times at least {@code --reps} runs, more until {@code --min-time-ms} of
 * timed work (at most {@code --max-reps}). Output (stdout), the same format {@code torch_cases.py} prints:
 *
 * <pre>
 * # side=distillery jdk=25.0.1+8-LTS backend=cpu threads=2 vector=256
 * case=gemm-256 side=distillery threads=2 warmup=40 reps=12 flops=3.3554e+07 bytes=786432 check=12.5 ms=0.41,0.40,...
 * </pre>
 * On a device backend the case line also has {@code launches=}: kernel launches per timed run ({@link
 * dev.distillery.tensor.backend.Backend#launches}).
 */
public final class CompareRunner {
    private CompareRunner() {}

    /** Options shared with torch_cases.py (same names, same meaning). */
    record Options(String caseName, int reps, int threads, long warmupMs, int minWarmup, long minTimeMs, int maxReps, long seed) {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("CompareRunner: " + e.getMessage());
            System.exit(2);
        }
    }

    static void run(String[] args) {
        if (args.length == 1 && args[0].equals("--list")) {
            for (var c : CompareCases.all().values()) System.out.println(c.name() + "\t" + c.description());
            return;
        }
        Options o = parse(args);
        if (o.threads() > 0) Parallel.setThreads(o.threads());
        String backend = BenchDevice.device().equals(dev.distillery.tensor.Device.CPU) ? Backends.cpu().name()
                : Backends.forDevice(BenchDevice.device()).toString().replace(' ', '_');
        String vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                ? Integer.toString(VectorInfo.F.vectorBitSize()) : "absent";
        System.out.printf(Locale.ROOT, "# side=distillery jdk=%s vm=%s backend=%s threads=%d vector=%s pool=%s%n",
                Runtime.version(), System.getProperty("java.vm.name").replace(' ', '_'), backend, Parallel.threads(), vector,
                dev.distillery.tensor.BufferPool.enabled() ? "on" : "off");

        CompareCases.Case c = CompareCases.get(o.caseName());
        Spec spec = c.spec();
        Workload w = spec.prepare(dev.distillery.tensor.DType.F32, o.seed());

        // Each run in its own TensorScope (Workload#runScoped): its outputs are dead when the next run starts, so
        // their arrays are reused, as PyTorch reuses a freed output; the release is part of the timed run.
        int warm = 0;
        long t0 = System.nanoTime();
        while (warm < o.minWarmup() || (System.nanoTime() - t0) / 1_000_000 < o.warmupMs()) {
            w.runScoped(BenchDevice::sync);
            warm++;
        }
        List<Double> ms = new ArrayList<>();
        long timed = 0;
        var deviceBackend = Backends.forDevice(BenchDevice.device());
        long launchesBefore = deviceBackend.launches();
        while (ms.size() < o.reps() || (timed / 1_000_000 < o.minTimeMs() && ms.size() < o.maxReps())) {
            long s = System.nanoTime();
            w.runScoped(BenchDevice::sync);
            long d = System.nanoTime() - s;
            timed += d;
            ms.add(d / 1e6);
        }
        // Kernel launches per timed run (device backends only): small models on a GPU are bound by their count.
        String launches = launchesBefore < 0 ? ""
                : String.format(Locale.ROOT, " launches=%.1f", (deviceBackend.launches() - launchesBefore) / (double) ms.size());
        double check = w.runScoped(Outputs::checkFinite); // one more, untimed run whose result is checked
        StringBuilder sb = new StringBuilder();
        for (double m : ms) sb.append(sb.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.5f", m));
        System.out.printf(Locale.ROOT, "case=%s side=distillery threads=%d warmup=%d reps=%d flops=%.0f bytes=%.0f check=%.6g%s ms=%s%n",
                c.name(), Parallel.threads(), warm, ms.size(), spec.flops(), spec.bytes(), check, launches, sb);
    }

    static Options parse(String[] args) {
        String name = null;
        int reps = 5, threads = 0, minWarmup = 2, maxReps = 1000;
        long warmupMs = 1000, minTimeMs = 0, seed = 42;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                if (name != null) throw new IllegalArgumentException("one case at a time, got '" + name + "' and '" + a + "'");
                name = a;
                continue;
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            String v = args[++i];
            try {
                switch (a) {
                    case "--reps" -> reps = positive(a, Integer.parseInt(v));
                    case "--threads" -> threads = positive(a, Integer.parseInt(v));
                    case "--warmup-ms" -> warmupMs = Long.parseLong(v);
                    case "--min-warmup" -> minWarmup = Integer.parseInt(v);
                    case "--min-time-ms" -> minTimeMs = Long.parseLong(v);
                    case "--max-reps" -> maxReps = positive(a, Integer.parseInt(v));
                    case "--seed" -> seed = Long.parseLong(v);
                    default -> throw new IllegalArgumentException("unknown option " + a
                            + " (known: --reps --threads --warmup-ms --min-warmup --min-time-ms --max-reps --seed, or --list)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(a + " needs a number, got '" + v + "'");
            }
        }
        if (name == null) throw new IllegalArgumentException("usage: CompareRunner CASE [--reps N] [--threads T] ... | --list");
        CompareCases.get(name); // fail early on a typo
        return new Options(name, reps, threads, warmupMs, minWarmup, minTimeMs, Math.max(maxReps, reps), seed);
    }

    private static int positive(String opt, int v) {
        if (v < 1) throw new IllegalArgumentException(opt + " must be >= 1, got " + v);
        return v;
    }
}
