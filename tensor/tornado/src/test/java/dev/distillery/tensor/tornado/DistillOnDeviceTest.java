package dev.distillery.tensor.tornado;

import dev.distillery.distill.disback.DegradationPath;
import dev.distillery.distill.disback.DistillRun;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.distill.train.RunDir;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.distillery.tensor.tornado.CliOnDeviceTest.args;
import static dev.distillery.tensor.tornado.CliOnDeviceTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code distill --device tornado:0} against the CPU, from the same ring8 teacher run (trained on the CPU): the
 * baseline for {@value #ITERS} iterations, and DisBack (Stage 1 of {@value #DEG_STEPS} steps recorded on each
 * device into its own path directory, then {@value #ITERS} Stage-2 iterations; the device run is interrupted at
 * iteration {@value #STOP} and continued with {@code --resume --device tornado:0}). The generator, fake score and
 * path nodes live on the device; latents, noise levels and noise are drawn on the host as on the CPU and moved, so
 * the logged curves (sw2, mmd2, the score mismatches every {@value #EVAL_EVERY} iterations), the final losses
 * and weights agree up to float32 summation order. Both runs leave complete run directories whose checkpoints and
 * path nodes hold host tensors.
 * <p>Tolerances: the last iteration's fake and generator losses (printed by the command) to a relative
 * {@value #LOSS_RTOL}; the final generator weights and the path end P[N] to an absolute {@value #WEIGHT_ATOL}; the
 * evaluation metrics of metrics.jsonl (computed on the host from samples
 * generated on each device, some of them small differences of large numbers such as mmd2) to a relative
 * {@value #METRIC_RTOL} or an absolute {@value #METRIC_ATOL}, whichever is larger. The measured maxima on PoCL's CPU
 * device are printed.
 */
class DistillOnDeviceTest {
    static final int ITERS = 200, STOP = 100, EVAL_EVERY = 10, DEG_STEPS = 100;
    static final double LOSS_RTOL = 1e-3, METRIC_RTOL = 1e-2, METRIC_ATOL = 1e-4, WEIGHT_ATOL = 1e-3;
    static final String[] TEACHER = {"--dataset", "ring8", "--steps", "300", "--batch-size", "256", "--width", "64", "--depth", "3", "--emb-dim", "16",
            "--warmup", "20", "--checkpoint-every", "300", "--log-every", "50", "--sample-steps", "8", "--plot-samples", "200",
            "--eval-samples", "500", "--data-size", "4096"};
    static final String[] DISTILL = {"--iterations", "" + ITERS, "--batch-size", "128", "--eval-every", "" + EVAL_EVERY, "--eval-samples", "500",
            "--checkpoint-every", "" + STOP, "--degradation-steps", "" + DEG_STEPS, "--degradation-every", "20", "--backtrack-interval", "40"};
    static final List<String> LOSSES = List.of("fake_loss", "generator_loss"), METRICS = List.of("sw2", "mmd2", "mismatch_teacher", "mismatch_target");

    @Test
    void baselineAndDisBackDistilOnTheDeviceLikeOnTheCpu(@TempDir Path tmp) throws IOException {
        Path teacher = tmp.resolve("teacher");
        run(args("train-teacher", TEACHER, "--out", teacher.toString()));
        for (String method : List.of("baseline", "disback")) {
            Path cpu = tmp.resolve(method + "-cpu"), dev = tmp.resolve(method + "-dev");
            String[] common = args("distill", DISTILL, "--teacher", teacher.toString(), "--method", method);
            long t0 = System.nanoTime();
            CliOnDeviceTest.Out outCpu = run(cat(common, "--out", cpu.toString(), "--path-dir", tmp.resolve("path-cpu").toString()));
            long t1 = System.nanoTime();
            String[] devArgs = cat(common, "--out", dev.toString(), "--path-dir",
                    tmp.resolve("path-dev").toString(), "--device", "tornado:0");
            CliOnDeviceTest.Out outDev;
            if (method.equals("disback")) {
                run(cat(devArgs, "--stop-after", "" + STOP));
                outDev = run("distill", "--resume", dev.toString(), "--device", "tornado:0");
            } else outDev = run(devArgs);
            long t2 = System.nanoTime();

            List<Map<String, Object>> a = rows(cpu), b = rows(dev);
            assertEquals(ITERS / EVAL_EVERY + 1, a.size(), "one evaluation row every " + EVAL_EVERY + " iterations and one before the first");
            assertEquals(a.size(), b.size());
            double maxLoss = 0, maxMetric = 0;
            String worstLoss = "", worstMetric = "";
            // the losses of the last iteration (the command's summary prints them with 5 significant digits; metrics.jsonl has
            // the evaluation metrics only)
            Map<String, Double> la = printed(outCpu.out()), lb = printed(outDev.out());
            for (String k : LOSSES) {
                assertTrue(la.containsKey(k) && lb.containsKey(k), k + " printed:\n" + outCpu.out() + "\n" + outDev.out());
                double x = la.get(k), y = lb.get(k), rel = Math.abs(x - y) / Math.abs(x);
                if (rel >= maxLoss) {
                    maxLoss = rel;
                    worstLoss = k + " at " + ITERS + ": " + x + " vs " + y;
                }
            }
            for (int i = 0; i < a.size(); i++) {
                assertEquals(JsonWriter.toLong(a.get(i).get("step")), JsonWriter.toLong(b.get(i).get("step")));
                for (String k : METRICS) {
                    assertTrue(a.get(i).containsKey(k), k);
                    double x = JsonWriter.toDouble(a.get(i).get(k)), y = JsonWriter.toDouble(b.get(i).get(k));
                    double excess = Math.abs(x - y) / Math.max(METRIC_RTOL * Math.abs(x), METRIC_ATOL); // <= 1 within tolerance
                    if (excess > maxMetric) {
                        maxMetric = excess;
                        worstMetric = String.format(Locale.ROOT, "%s at %s: %s vs %s (relative %.3g)", k, a.get(i).get("step"), x, y, Math.abs(x - y) / Math.abs(x));
                    }
                }
            }
            double wd = maxAbsDiff(latest(cpu).resolve(DistillRun.GENERATOR), latest(dev).resolve(DistillRun.GENERATOR));
            System.out.printf(Locale.ROOT, "distill %s, %d iterations: cpu %.1f s, tornado:0 %.1f s%s; max relative loss difference %.3g (tolerance %.1g; %s);"
                            + " worst metric %.3g of its tolerance (%s); generator weights max abs difference %.3g (tolerance %.1g)%n", method, ITERS,
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, method.equals("disback") ? " (incl. Stage 1, with a stop and --resume at " + STOP + ")" : "",
                    maxLoss, LOSS_RTOL, worstLoss, maxMetric, worstMetric, wd, WEIGHT_ATOL);
            assertTrue(wd <= WEIGHT_ATOL, "generator weights differ by " + wd);
            assertTrue(maxLoss <= LOSS_RTOL, "losses differ by " + maxLoss + " relative: " + worstLoss);
            assertTrue(maxMetric <= 1, "metrics differ beyond tolerance: " + worstMetric);
            assertCompleteRun(cpu);
            assertCompleteRun(dev);
        }
        assertCompletePath(tmp.resolve("path-cpu"));
        assertCompletePath(tmp.resolve("path-dev"));
        String last = DegradationPath.nodeFileName(DEG_STEPS / 20);
        double nd = maxAbsDiff(tmp.resolve("path-cpu").resolve(last), tmp.resolve("path-dev").resolve(last));
        System.out.printf(Locale.ROOT, "degradation path end P[N]: max abs weight difference %.3g (tolerance %.1g)%n", nd, WEIGHT_ATOL);
        assertTrue(nd <= WEIGHT_ATOL, "path ends differ by " + nd);
    }

    /** The "  key   value" lines the distill command prints after the run. */
    static Map<String, Double> printed(String out) {
        Map<String, Double> m = new java.util.HashMap<>();
        for (String line : out.lines().toList()) {
            String[] p = line.strip().split("\\s+");
            if (p.length == 2 && line.startsWith("  ")) {
                try {
                    m.put(p[0], Double.parseDouble(p[1]));
                } catch (NumberFormatException ignored) {
                }
            }
        }
        return m;
    }

    static Path latest(Path run) throws IOException {
        return new Checkpoint(run.resolve(RunDir.CHECKPOINTS), 2).latest().orElseThrow();
    }

    static double maxAbsDiff(Path a, Path b) throws IOException {
        Map<String, Tensor> x = Safetensors.read(a), y = Safetensors.read(b);
        assertEquals(x.keySet(), y.keySet());
        double max = 0;
        for (String k : x.keySet()) {
            double[] p = x.get(k).toDoubleArray(), q = y.get(k).toDoubleArray();
            for (int i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i] - q[i]));
        }
        return max;
    }

    static String[] cat(String[] a, String... b) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
    }

    static List<Map<String, Object>> rows(Path run) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> m : RunDir.readMetrics(run.resolve(RunDir.METRICS_FILE))) if (m.containsKey("sw2")) out.add(m);
        return out;
    }

    static void assertCompleteRun(Path run) throws IOException {
        for (String f : List.of("config.json", "metrics.jsonl", "report.md", "samples/final.png", "plots/sw2.png"))
            assertTrue(Files.isRegularFile(run.resolve(f)), run + ": " + f);
        Path latest = new Checkpoint(run.resolve(RunDir.CHECKPOINTS), 2).latest().orElseThrow();
        assertEquals(ITERS, Checkpoint.readState(latest).step());
        for (String f : List.of(DistillRun.GENERATOR, DistillRun.GENERATOR_EMA, DistillRun.FAKE, DistillRun.GENERATOR_OPT, DistillRun.FAKE_OPT))
            for (Tensor t : Safetensors.read(latest.resolve(f)).values()) assertEquals(Device.CPU, t.device(), f + " holds host tensors");
    }

    static void assertCompletePath(Path dir) throws IOException {
        assertTrue(Files.isRegularFile(dir.resolve(DegradationPath.INDEX)), dir + ": " + DegradationPath.INDEX);
        for (int j = 0; j <= DEG_STEPS / 20; j++) {
            Path f = dir.resolve(DegradationPath.nodeFileName(j));
            assertTrue(Files.isRegularFile(f), f.toString());
            for (Tensor t : Safetensors.read(f).values()) assertEquals(Device.CPU, t.device());
        }
    }
}
