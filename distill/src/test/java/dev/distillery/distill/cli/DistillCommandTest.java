package dev.distillery.distill.cli;

import dev.distillery.distill.train.RunDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.distillery.distill.cli.MainTest.TINY;
import static dev.distillery.distill.cli.MainTest.concat;
import static dev.distillery.distill.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code distillery distill}: a run end to end on a tiny teacher, its resumption, its errors. */
class DistillCommandTest {
    static final String[] FAST = {"--iterations", "12", "--batch-size", "32", "--degradation-steps", "20", "--degradation-every", "10",
            "--backtrack-interval", "4", "--eval-every", "6", "--eval-samples", "128", "--checkpoint-every", "4"};

    @Test
    void distilsAToyTeacherWritesEverythingAndResumes(@TempDir Path tmp) throws Exception {
        Path teacher = tmp.resolve("teacher");
        assertEquals(0, run(concat(new String[]{"train-teacher", "--out", teacher.toString()}, TINY)).code());
        Path runDir = tmp.resolve("d");
        MainTest.Out o = run(concat(concat(new String[]{"distill", "--teacher", teacher.toString(), "--method", "disback", "--out", runDir.toString()}, FAST),
                "--stop-after", "5"));
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("--resume"), o.out());
        assertFalse(Files.exists(runDir.resolve("report.md")));
        Path pathIndex = teacher.resolve("paths");
        assertTrue(Files.isDirectory(pathIndex), "the path is stored beside the teacher for reuse");
        o = run("distill", "--resume", runDir.toString());
        assertEquals(0, o.code(), o.err());
        for (String f : List.of("report.md", "config.json", "metrics.jsonl", "samples/final.png", "plots/sw2.png"))
            assertTrue(Files.isRegularFile(runDir.resolve(f)), f);
        List<Map<String, Object>> rows = RunDir.readMetrics(runDir.resolve("metrics.jsonl"));
        assertEquals(List.of(0L, 6L, 12L), rows.stream().map(r -> dev.distillery.distill.train.JsonWriter.toLong(r.get("step"))).toList(),
                "evaluations at 0, 6 and 12, each once across the interruption");
        assertTrue(rows.getLast().containsKey("target_node"));
        for (Map<String, Object> row : rows.subList(1, rows.size())) // the losses of the iteration before each evaluation, next to it
            assertTrue(row.containsKey("fake_loss") && row.containsKey("generator_loss"), "losses in " + row);
        assertTrue(!rows.getFirst().containsKey("fake_loss"), "no losses before the first iteration");

        // the optional GAN head: weights recorded in config.json, real data from the teacher's training set, the head checkpointed
        Path gan = tmp.resolve("gan");
        o = run(concat(new String[]{"distill", "--teacher", teacher.toString(), "--method", "baseline", "--out", gan.toString(),
                "--gan-generator-weight", "3e-3", "--gan-discriminator-weight", "1e-2"}, FAST));
        assertEquals(0, o.code(), o.err());
        Map<String, Object> cfg = RunDir.resume(gan).readConfig();
        assertEquals(3e-3, dev.distillery.distill.train.JsonWriter.toDouble(cfg.get("gan_generator_weight")));
        assertEquals(1e-2, dev.distillery.distill.train.JsonWriter.toDouble(cfg.get("gan_discriminator_weight")));
        Path ck = new dev.distillery.distill.train.Checkpoint(gan.resolve("checkpoints"), 2).latest().orElseThrow();
        assertTrue(Files.isRegularFile(ck.resolve(dev.distillery.distill.disback.DistillRun.GAN_HEAD)));
    }

    @Test
    void badInputNamesTheFlag(@TempDir Path tmp) {
        MainTest.Out o = run("distill", "--method", "disback");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--teacher"), o.err());
        o = run("distill", "--teacher", tmp.toString(), "--method", "magic");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--method"), o.err());
        o = run("distill", "--teacher", tmp.toString(), "--degradation-steps", "25", "--degradation-every", "10");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--degradation-every"), o.err());
        o = run("distill", "--teacher", tmp.resolve("nope").toString());
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("nope"), o.err());
        o = run("distill", "--teacher", tmp.toString(), "--gan-generator-weight", "-1");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--gan-generator-weight"), o.err());
        o = run("distill", "--help");
        for (String f : List.of("--method", "--generator-loss", "--degradation-steps", "--backtrack-interval", "--path-dir", "--resume", "--sigma-init",
                "--gan-generator-weight", "--gan-discriminator-weight"))
            assertTrue(o.out().contains(f), f);
    }
}
