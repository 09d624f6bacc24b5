package dev.distillery.bench;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;

import java.io.PrintStream;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Main class of {@code bench/target/benchmarks.jar}: JMH's command line ({@code -h} for its options), and after the
 * run a table that turns each score into GFLOP/s (compute-bound cases) or GB/s (memory-bound cases) using the
 * benchmark's {@link Spec}.
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions cmd;
        try {
            cmd = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("Error parsing command line: " + e.getMessage() + " (-h lists the options)");
            System.exit(1);
            return;
        }
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
                || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Collection<RunResult> results;
        try {
            results = new Runner(cmd).run();
        } catch (RunnerException e) {
            System.err.println("ERROR: " + e.getMessage());
            System.exit(1);
            return;
        }
        printRates(results, System.out);
    }

    /** One row per result: benchmark, parameters, ms/op, GFLOP/s, GB/s. */
    static void printRates(Collection<RunResult> results, PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"Benchmark", "Params", "ms/op", "GFLOP/s", "GB/s"});
        for (RunResult r : results) {
            BenchmarkParams p = r.getParams();
            double secondsPerOp = secondsPerOp(p.getMode(), p.getTimeUnit(), r.getPrimaryResult().getScore());
            String bench = p.getBenchmark();
            String shortName = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            StringBuilder params = new StringBuilder();
            for (String k : p.getParamsKeys()) params.append(params.isEmpty() ? "" : " ").append(k).append('=').append(p.getParam(k));
            Spec spec = specOf(p);
            String gflops = "-", gbs = "-";
            if (spec != null && Double.isFinite(secondsPerOp) && secondsPerOp > 0) {
                if (spec.flops() > 0) gflops = String.format(Locale.ROOT, "%.2f", spec.flops() / secondsPerOp / 1e9);
                if (spec.bytes() > 0) gbs = String.format(Locale.ROOT, "%.2f", spec.bytes() / secondsPerOp / 1e9);
            }
            rows.add(new String[]{shortName + (p.getMode() == Mode.AverageTime ? "" : " [" + p.getMode().shortLabel() + "]"),
                    params.toString(), String.format(Locale.ROOT, "%.4f", secondsPerOp * 1e3), gflops, gbs});
        }
        if (rows.size() == 1) return;
        int[] w = new int[5];
        for (String[] row : rows) for (int i = 0; i < 5; i++) w[i] = Math.max(w[i], row[i].length());
        out.println();
        out.println("Rates (work per op from the benchmark's Spec; GB/s counts a minimal read of the inputs and write of the outputs):");
        for (String[] row : rows)
            out.printf(Locale.ROOT, "%-" + w[0] + "s  %-" + w[1] + "s  %" + w[2] + "s  %" + w[3] + "s  %" + w[4] + "s%n",
                    (Object[]) row);
    }

    static double secondsPerOp(Mode mode, java.util.concurrent.TimeUnit unit, double score) {
        double unitSeconds = unit.toNanos(1) / 1e9;
        return mode == Mode.Throughput ? unitSeconds / score : score * unitSeconds;
    }

    /** Rebuilds the benchmark's Spec from its class and parameters, or null if that fails. */
    static Spec specOf(BenchmarkParams p) {
        String bench = p.getBenchmark();
        try {
            Class<?> cls = Class.forName(bench.substring(0, bench.lastIndexOf('.')));
            if (!BenchBase.class.isAssignableFrom(cls)) return null;
            BenchBase b = (BenchBase) cls.getDeclaredConstructor().newInstance();
            for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass())
                for (Field f : c.getDeclaredFields()) {
                    if (!f.isAnnotationPresent(Param.class)) continue;
                    String v = p.getParam(f.getName());
                    if (v == null) continue;
                    if (f.getType() == int.class) f.setInt(b, Integer.parseInt(v));
                    else if (f.getType() == String.class) f.set(b, v);
                    else if (f.getType() == long.class) f.setLong(b, Long.parseLong(v));
                    else if (f.getType() == boolean.class) f.setBoolean(b, Boolean.parseBoolean(v));
                }
            return b.spec();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
