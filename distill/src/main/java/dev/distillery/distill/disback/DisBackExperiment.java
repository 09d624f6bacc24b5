package dev.distillery.distill.disback;

import dev.distillery.distill.score.Conditioning;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.distill.viz.LinePlot;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The comparison of spec disback.md §6: for each seed, the baseline B0 ({@code iterations}), the compute-matched
 * baseline B0+ ({@code iterations + K_deg}), DisBack D and the warm-fake ablation A1 (both {@code iterations}, after
 * a Stage 1 of K_deg steps shared by the two). Writes every run's directory, {@code curves-<metric>.png} (median over
 * seeds), {@code mismatch.png} (teacher vs current target on generator samples, when the evaluator measures it),
 * {@code results.jsonl} (every evaluation of every run) and {@code results.md} (the table).
 *
 * <p>"Iterations to reach" a level is the first evaluated iteration whose metric is at or below
 * {@code 1.25 x} B0's final metric of the same seed, where "final" is the mean of B0's last {@code tail} evaluations
 * (a single final evaluation is too noisy at 2-D scale). With Stage 1's cost, K_deg is added for D and A1.
 */
public final class DisBackExperiment {
    public record Arm(String name, DistillMethod method, long iterations, long stage1Cost) {}

    private DisBackExperiment() {}

    public static List<Arm> arms(DistillRunConfig base) {
        long i = base.iterations(), k = base.degradationSteps();
        return List.of(new Arm("B0", DistillMethod.BASELINE, i, 0), new Arm("B0+", DistillMethod.BASELINE, i + k, 0),
                new Arm("D", DistillMethod.DISBACK, i, k), new Arm("A1", DistillMethod.WARM_FAKE, i, k));
    }

    public static Path run(DistillRunConfig base, EdmDenoiserNet teacher, Evaluator eval, long[] seeds, int tail, Path out, PrintStream log) throws IOException {
        return run(base, teacher, Conditioning.of(teacher), eval, seeds, tail, out, log);
    }

    /** As above, with the teacher's conditioning given (prompts for a text teacher). */
    public static Path run(DistillRunConfig base, EdmDenoiserNet teacher, Conditioning conditioning, Evaluator eval, long[] seeds, int tail, Path out,
                           PrintStream log) throws IOException {
        Files.createDirectories(out);
        String metric = eval.primaryMetric();
        List<Arm> arms = arms(base);
        // curves[arm][seed] = (iterations, values)
        Map<String, List<List<Map<String, Object>>>> curves = new LinkedHashMap<>();
        StringBuilder jsonl = new StringBuilder();
        for (long seed : seeds) {
            Path pathDir = out.resolve("paths").resolve("seed" + seed);
            for (Arm arm : arms) {
                Path dir = out.resolve("runs").resolve(arm.name().replace("+", "plus") + "-seed" + seed);
                log.println(String.format(Locale.ROOT, "== %s (%s), seed %d, %d iterations -> %s", arm.name(), arm.method().cliName(), seed, arm.iterations(), dir));
                DistillRunConfig cfg = base.with(arm.method().cliName(), arm.iterations(), seed);
                DistillRun.Result r;
                if (Files.isDirectory(dir)) requireSameSettings(dir, cfg);
                Path b0 = out.resolve("runs").resolve("B0-seed" + seed);
                if (arm.name().equals("B0+") && !Files.exists(dir) && continuesBaseline(base) && Files.isRegularFile(b0.resolve("report.md"))) {
                    log.println("   B0+ continues B0's finished run from iteration " + base.iterations() + " (same seed and streams: its first "
                            + base.iterations() + " iterations are B0's)");
                    startFromBaseline(b0, dir, cfg, base.keepCheckpoints());
                }
                if (Files.isRegularFile(dir.resolve("report.md"))) {
                    r = new DistillRun.Result(dir, arm.iterations(), readEvaluations(dir), dir.resolve("report.md"), null);
                } else if (Files.isDirectory(dir)) {
                    r = DistillRun.resume(teacher, conditioning, pathDir, eval, dir, 0, log);
                    r = new DistillRun.Result(dir, r.iterations(), readEvaluations(dir), r.report(), r.path());
                } else {
                    r = DistillRun.start(cfg, teacher, conditioning, pathDir, eval, dir, 0, log);
                }
                curves.computeIfAbsent(arm.name(), a -> new ArrayList<>()).add(r.evaluations());
                for (var row : r.evaluations()) {
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("arm", arm.name());
                    o.put("seed", seed);
                    o.putAll(row);
                    jsonl.append(JsonWriter.write(o)).append('\n');
                }
            }
        }
        Files.writeString(out.resolve("results.jsonl"), jsonl.toString(), StandardCharsets.UTF_8);
        plotMedians(out.resolve("curves-" + metric + ".png"), curves, metric, "median " + metric + " over " + seeds.length + " seeds (lower is better)", true);
        if (curves.get("D").get(0).get(0).containsKey("mismatch_teacher")) {
            LinePlot p = LinePlot.builder().size(820, 460).logY(true).title("score mismatch on generator samples (median over seeds)").labels("iteration", "E|D - D_exact|^2");
            addMedian(p, "B0: teacher", curves.get("B0"), "mismatch_teacher");
            addMedian(p, "D: teacher", curves.get("D"), "mismatch_teacher");
            addMedian(p, "D: current target", curves.get("D"), "mismatch_target");
            p.write(out.resolve("mismatch.png"));
        }
        Path md = out.resolve("results.md");
        Files.writeString(md, table(arms, curves, metric, tail, seeds, base), StandardCharsets.UTF_8);
        return md;
    }

    /**
     * Whether B0+ can continue B0's finished run instead of repeating its first {@code iterations}: a baseline run's
     * iterations depend only on the seed's random streams and the state, never on the total iteration count, so B0+ is
     * B0 continued, bit for bit ({@code DisBackExperimentTest}), provided B0's evaluations fall where B0+'s do (B0
     * also evaluates at its last iteration, which B0+ does only if that iteration is a multiple of the evaluation period).
     */
    static boolean continuesBaseline(DistillRunConfig base) {
        return base.iterations() % base.evalEvery() == 0;
    }

    /**
     * Makes B0+'s run directory from B0's finished one: B0+'s config.json, B0's metric lines and its newest checkpoint,
     * assembled beside the target and moved into place in one rename, so an interruption leaves either nothing or a
     * run that {@link DistillRun#resume} continues from iteration {@code iterations} of B0.
     */
    static void startFromBaseline(Path b0, Path dir, DistillRunConfig b0plus, int keepCheckpoints) throws IOException {
        Path latest = new dev.distillery.distill.train.Checkpoint(b0.resolve(dev.distillery.distill.train.RunDir.CHECKPOINTS), keepCheckpoints).latest()
                .orElseThrow(() -> new IOException(b0 + ": finished but holds no complete checkpoint to continue from"));
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        if (Files.exists(tmp)) deleteTree(tmp);
        try (var run = dev.distillery.distill.train.RunDir.create(tmp, b0plus.toMap())) {
            Files.copy(b0.resolve(dev.distillery.distill.train.RunDir.METRICS_FILE), run.metricsFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Path to = run.checkpoints().resolve(latest.getFileName());
            Files.createDirectories(to);
            try (var files = Files.list(latest)) {
                for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }

    /**
     * A run directory is reused only if it was made with the settings this arm asks for; fields the arm does not use
     * (the path settings for the baseline, Delta_back for warm-fake) and where things are stored may differ.
     */
    static void requireSameSettings(Path dir, DistillRunConfig want) throws IOException {
        Map<String, Object> have = DistillRun.readConfig(dir).toMap(), asked = want.toMap();
        java.util.Set<String> ignored = new java.util.HashSet<>(List.of("command", "teacher", "path_dir"));
        if (!want.distillMethod().needsPath()) ignored.addAll(List.of("degradation_steps", "degradation_every", "degradation_lr", "backtrack_interval"));
        if (want.distillMethod() == DistillMethod.WARM_FAKE) ignored.add("backtrack_interval");
        for (var e : asked.entrySet())
            if (!ignored.contains(e.getKey()) && !String.valueOf(e.getValue()).equals(String.valueOf(have.get(e.getKey()))))
                throw new IOException(dir + ": made with " + e.getKey() + " = " + have.get(e.getKey()) + ", this experiment asks for " + e.getValue()
                        + "; use another --out or remove the directory");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> readEvaluations(Path dir) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var r : dev.distillery.distill.train.RunDir.readMetrics(dir.resolve(dev.distillery.distill.train.RunDir.METRICS_FILE))) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("iteration", JsonWriter.toLong(r.get("step")));
            r.forEach((k, v) -> { if (!k.equals("step")) o.put(k, v instanceof dev.distillery.tensor.io.Json.Num ? JsonWriter.toDouble(v) : v); });
            rows.add(o);
        }
        return rows;
    }

    static double value(Map<String, Object> row, String metric) {
        Object v = row.get(metric);
        return v == null ? Double.NaN : v instanceof Number n ? n.doubleValue() : JsonWriter.toDouble(v);
    }

    static long iteration(Map<String, Object> row) {
        Object v = row.get("iteration");
        return v instanceof Number n ? n.longValue() : JsonWriter.toLong(v);
    }

    private static void plotMedians(Path png, Map<String, List<List<Map<String, Object>>>> curves, String metric, String title, boolean logY) {
        LinePlot p = LinePlot.builder().size(820, 460).logY(logY).title(title).labels("Stage-2 iteration", metric);
        for (var e : curves.entrySet()) addMedian(p, e.getKey(), e.getValue(), metric);
        p.write(png);
    }

    private static void addMedian(LinePlot p, String name, List<List<Map<String, Object>>> runs, String metric) {
        Map<Long, List<Double>> byIter = new java.util.TreeMap<>();
        for (var run : runs)
            for (var row : run) {
                double v = value(row, metric);
                if (!Double.isNaN(v)) byIter.computeIfAbsent(iteration(row), k -> new ArrayList<>()).add(v);
            }
        long[] xs = new long[byIter.size()];
        double[] ys = new double[byIter.size()];
        int i = 0;
        for (var e : byIter.entrySet()) {
            xs[i] = e.getKey();
            ys[i++] = median(e.getValue());
        }
        p.series(name, xs, ys);
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = a.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
    }

    static double tailMean(List<Map<String, Object>> run, String metric, int tail) {
        double s = 0;
        int c = 0;
        for (int i = Math.max(0, run.size() - tail); i < run.size(); i++) {
            s += value(run.get(i), metric);
            c++;
        }
        return s / c;
    }

    /** First evaluated iteration with metric <= threshold, or -1. */
    static long firstReach(List<Map<String, Object>> run, String metric, double threshold) {
        for (var row : run) if (value(row, metric) <= threshold) return iteration(row);
        return -1;
    }

    private static String table(List<Arm> arms, Map<String, List<List<Map<String, Object>>>> curves, String metric, int tail, long[] seeds, DistillRunConfig base) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Seeds %s; %d Stage-2 iterations (B0+: %d); Stage 1: K_deg = %d, Delta_deg = %d (N = %d), Delta_back = %d; "
                        + "%s loss, lr %.3g, batch %d, sigma_init %.3g.%n%n", Arrays.toString(seeds), base.iterations(), base.iterations() + base.degradationSteps(),
                base.degradationSteps(), base.degradationEvery(), base.pathSpec().nodes(), base.backtrackInterval(), base.generatorLoss(), base.lrGenerator(),
                base.batchSize(), base.sigmaInit()));
        sb.append("Threshold per seed: 1.25 x B0's final ").append(metric).append(" (mean of its last ").append(tail).append(" evaluations).\n\n");
        sb.append("| arm | final ").append(metric).append(" (mean ± std over seeds) | median iterations to threshold | same, with Stage 1 | reached in |\n|---|---|---|---|---|\n");
        List<List<Map<String, Object>>> b0 = curves.get("B0");
        for (Arm arm : arms) {
            List<List<Map<String, Object>>> runs = curves.get(arm.name());
            double[] finals = new double[runs.size()];
            List<Double> reach = new ArrayList<>(), reachWith = new ArrayList<>();
            int reached = 0;
            for (int s = 0; s < runs.size(); s++) {
                finals[s] = tailMean(runs.get(s), metric, tail);
                double thr = 1.25 * tailMean(b0.get(s), metric, tail);
                long it = firstReach(runs.get(s), metric, thr);
                if (it >= 0) {
                    reached++;
                    reach.add((double) it);
                    reachWith.add((double) (it + arm.stage1Cost()));
                } else {
                    reach.add(Double.POSITIVE_INFINITY);
                    reachWith.add(Double.POSITIVE_INFINITY);
                }
            }
            double mean = Arrays.stream(finals).average().orElse(Double.NaN);
            double sd = Math.sqrt(Arrays.stream(finals).map(f -> (f - mean) * (f - mean)).sum() / Math.max(1, finals.length - 1));
            sb.append(String.format(Locale.ROOT, "| %s | %.4f ± %.4f | %s | %s | %d/%d seeds |%n", arm.name(), mean, sd, fmt(median(reach)), fmt(median(reachWith)),
                    reached, runs.size()));
        }
        return sb.toString();
    }

    private static String fmt(double v) {
        return Double.isInfinite(v) ? "not reached" : String.format(Locale.ROOT, "%.0f", v);
    }
}
