package dev.distillery.distill.cli;

import dev.distillery.distill.teacher.TeacherTrainer;
import dev.distillery.distill.viz.LinePlot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The quickstart's top-level report: the teacher's metrics, and baseline vs DisBack curves and final numbers. */
final class QuickstartReport {
    private QuickstartReport() {}

    static Path write(Path dir, TeacherTrainer.Result teacher, Map<String, List<Map<String, Object>>> curves, Distill.Options d, String metric) throws IOException {
        LinePlot plot = LinePlot.builder().size(820, 460).logY(true).title("one-step generator: " + metric + " vs iteration (lower is better)")
                .labels("iteration", metric);
        for (var e : curves.entrySet()) {
            long[] xs = e.getValue().stream().mapToLong(r -> ((Number) r.get("iteration")).longValue()).toArray();
            double[] ys = e.getValue().stream().mapToDouble(r -> ((Number) r.get(metric)).doubleValue()).toArray();
            plot.series(e.getKey(), xs, ys);
        }
        Files.createDirectories(dir.resolve("plots"));
        plot.write(dir.resolve("plots").resolve("distill-" + metric + ".png"));
        StringBuilder sb = new StringBuilder("# Quickstart: ring8 teacher, baseline and DisBack\n\n");
        sb.append("Teacher: [teacher/report.md](teacher/report.md)");
        Object sw1 = teacher.metrics().get("sw1"), floor = teacher.metrics().get("sw1_data_floor");
        if (sw1 instanceof Number a && floor instanceof Number b)
            sb.append(String.format(Locale.ROOT, " (Heun sampler, SW1 %.4f vs %.4f between two data draws)", a.doubleValue(), b.doubleValue()));
        sb.append(".\n\n");
        sb.append(String.format(Locale.ROOT, "Distillation into a one-step generator, %d iterations each, Diff-Instruct loss, lr %.3g, batch %d. DisBack: Stage 1 of %d steps "
                + "(a node every %d, path in [path/](path/)), Delta_back %d. Metrics on %d fixed-latent samples against held-out data.%n%n",
                d.iterations, d.lr, d.batchSize, d.degradationSteps, d.degradationEvery, d.backtrackInterval, d.evalSamples));
        sb.append("| method | ").append(metric).append(" at start | final | best | MMD^2 final | modes covered |\n|---|---|---|---|---|---|\n");
        for (var e : curves.entrySet()) {
            List<Map<String, Object>> rows = e.getValue();
            double best = rows.stream().mapToDouble(r -> ((Number) r.get(metric)).doubleValue()).min().orElse(Double.NaN);
            Map<String, Object> first = rows.getFirst(), last = rows.getLast();
            sb.append(String.format(Locale.ROOT, "| [%s](%s/report.md) | %.4f | %.4f | %.4f | %.3g | %s |%n", e.getKey(), e.getKey(), num(first, metric), num(last, metric), best,
                    num(last, "mmd2"), last.getOrDefault("modes_covered", "")));
        }
        sb.append("\nA 2-D toy is a sanity check, not evidence for the paper's claim: see docs/results/disback.md for the multi-seed comparison.\n\n");
        sb.append("![curves](plots/distill-").append(metric).append(".png)\n\n");
        for (String m : curves.keySet()) sb.append("![").append(m).append("](").append(m).append("/samples/final.png)\n");
        Path report = dir.resolve("report.md");
        Files.writeString(report, sb.toString(), StandardCharsets.UTF_8);
        return report;
    }

    private static double num(Map<String, Object> row, String k) {
        Object v = row.get(k);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
