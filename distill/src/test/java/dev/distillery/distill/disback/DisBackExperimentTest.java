package dev.distillery.distill.disback;

import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.score.GaussianNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
