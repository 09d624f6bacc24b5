package dev.distillery.distill.disback;

import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.score.GaussianNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;

import static org.junit.jupiter.api.Assertions.*;

/** The experiment runner: four arms per seed, a table and curves; finished runs are reused only with matching settings. */
class DisBackExperimentTest {
    @Test
    void runsEveryArmWritesTheTableAndReusesOnlyMatchingRuns(@TempDir Path out) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(3);
        ToyEvaluator eval = new ToyEvaluator(Toy2d.Kind.RING8, 128, 1);
        DistillRunConfig base = DisBackTest.config("disback", 6, 10, 5, 2);
        Path md = DisBackExperiment.run(base, teacher, eval, new long[]{1}, 2, out, DisBackTest.QUIET);
        String table = Files.readString(md);
        for (String arm : new String[]{"| B0 |", "| B0+ |", "| D |", "| A1 |"}) assertTrue(table.contains(arm), table);
        assertTrue(Files.isRegularFile(out.resolve("curves-sw2.png")));
        assertTrue(Files.isRegularFile(out.resolve("mismatch.png")));
        // evaluations at 0, every 5 and at the end: B0, D, A1 at 0, 5, 6; B0+ (6 + K_deg 10 iterations) at 0, 5, 10, 15, 16
        assertEquals(3 + 5 + 3 + 3, Files.readAllLines(out.resolve("results.jsonl")).size());
        // same settings: reused as is; the baseline arms ignore a different Delta_back, DisBack does not
        long modified = Files.getLastModifiedTime(out.resolve("runs/B0-seed1/metrics.jsonl")).toMillis();
        DisBackExperiment.run(base, teacher, eval, new long[]{1}, 2, out, DisBackTest.QUIET);
        assertEquals(modified, Files.getLastModifiedTime(out.resolve("runs/B0-seed1/metrics.jsonl")).toMillis());
        IOException e = assertThrows(IOException.class, () -> DisBackExperiment.requireSameSettings(out.resolve("runs/D-seed1"),
                base.withPath(10, 5, 3, "").with("disback", 6, 1)));
        assertTrue(e.getMessage().contains("backtrack_interval"), e.getMessage());
        DisBackExperiment.requireSameSettings(out.resolve("runs/B0-seed1"), base.withPath(10, 5, 3, "").with("baseline", 6, 1));
        e = assertThrows(IOException.class, () -> DisBackExperiment.requireSameSettings(out.resolve("runs/B0-seed1"), base.withLr(5e-3).with("baseline", 6, 1)));
        assertTrue(e.getMessage().contains("lr_generator"), e.getMessage());
    }
    @Test
    void computeMatchedBaselineContinuesTheFinishedBaselineBitForBit(@TempDir Path root) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(3);
        ToyEvaluator eval = new ToyEvaluator(Toy2d.Kind.RING8, 128, 1);
        DistillRunConfig base = DisBackTest.config("disback", 10, 6, 3, 2); // 10 iterations, evaluated every 5; B0+ = 16
        assertTrue(DisBackExperiment.continuesBaseline(base));
        assertFalse(DisBackExperiment.continuesBaseline(DisBackTest.config("disback", 6, 6, 3, 2)), "B0 evaluates at 6, B0+ does not");
        Path out = root.resolve("exp");
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        DisBackExperiment.run(base, teacher, eval, new long[]{1}, 2, out, new java.io.PrintStream(log, true));
        assertTrue(log.toString().contains("B0+ continues B0's finished run from iteration 10"), log.toString());
        Path continued = out.resolve("runs/B0plus-seed1");
        DistillRun.Result fresh = DistillRun.start(base.with("baseline", 16, 1), teacher, root.resolve("path"), eval, root.resolve("fresh"), 0,
                DisBackTest.QUIET);
        Path a = new Checkpoint(fresh.runDir().resolve(RunDir.CHECKPOINTS), 2).latest().orElseThrow();
        Path b = new Checkpoint(continued.resolve(RunDir.CHECKPOINTS), 2).latest().orElseThrow();
        assertEquals(a.getFileName(), b.getFileName());
        for (String f : List.of(DistillRun.GENERATOR, DistillRun.GENERATOR_EMA, DistillRun.FAKE, DistillRun.GENERATOR_OPT, DistillRun.FAKE_OPT))
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f + " of B0+ continued from B0 vs B0+ from scratch");
        assertEquals(RunDir.readMetrics(fresh.runDir().resolve(RunDir.METRICS_FILE)), RunDir.readMetrics(continued.resolve(RunDir.METRICS_FILE)));
        assertEquals(DistillRun.readConfig(fresh.runDir()).toMap(), DistillRun.readConfig(continued).toMap());
        assertTrue(Files.isRegularFile(continued.resolve("report.md")));
    }
}
