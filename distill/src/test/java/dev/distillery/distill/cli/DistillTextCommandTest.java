package dev.distillery.distill.cli;

import dev.distillery.distill.text.TextFixtures;
import dev.distillery.distill.train.RunDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.distillery.distill.cli.MainTest.concat;
import static dev.distillery.distill.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code distillery distill --teacher PIPELINE --prompts FILE}: a text-conditional teacher from a diffusers folder, end to end and resumed. */
class DistillTextCommandTest {
    static final String[] FAST = {"--iterations", "4", "--batch-size", "2", "--degradation-steps", "2", "--degradation-every", "1",
            "--backtrack-interval", "2", "--eval-every", "2", "--eval-samples", "4", "--checkpoint-every", "2", "--guidance", "2"};

    @Test
    void distilsATextTeacherWithPromptsAndResumes(@TempDir Path tmp) throws Exception {
        Path pipe = TextFixtures.writePipeline(tmp.resolve("pipe"), TextFixtures.unet(81), TextFixtures.textEncoder(82), TextFixtures.VP_SCHEDULER);
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "# training prompts\na red cat\n\nthe blue sea\n");
        Path runDir = tmp.resolve("d");
        MainTest.Out o = run(concat(concat(new String[]{"distill", "--teacher", pipe.toString(), "--prompts", prompts.toString(), "--method", "disback",
                "--out", runDir.toString()}, FAST), "--stop-after", "2"));
        assertEquals(0, o.code(), o.err());
        assertFalse(Files.exists(runDir.resolve("report.md")));
        o = run("distill", "--resume", runDir.toString());
        assertEquals(2, o.code(), "a text run cannot resume without its prompts");
        assertTrue(o.err().contains("--prompts"), o.err());
        Path other = Files.writeString(tmp.resolve("other.txt"), "hello world\n");
        o = run("distill", "--resume", runDir.toString(), "--prompts", other.toString());
        assertNotEquals(0, o.code(), "other prompts are refused");
        assertTrue(o.err().contains("conditioning"), o.err());
        o = run("distill", "--resume", runDir.toString(), "--prompts", prompts.toString());
        assertEquals(0, o.code(), o.err());
        for (String f : List.of("report.md", "samples/final.png", "plots/mse_teacher.png"))
            assertTrue(Files.isRegularFile(runDir.resolve(f)), f);
        List<Map<String, Object>> rows = RunDir.readMetrics(runDir.resolve("metrics.jsonl"));
        assertTrue(rows.getLast().containsKey("mse_teacher"), rows.getLast().toString());
        assertTrue(o.out().contains("mse_teacher") && o.out().contains("fake_loss"), "the summary reports the metric and the losses: " + o.out());
        // a pipeline without prompts, and prompts without a pipeline, name the flag
        o = run(concat(new String[]{"distill", "--teacher", pipe.toString(), "--out", tmp.resolve("e").toString()}, FAST));
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--prompts"), o.err());
    }
}
