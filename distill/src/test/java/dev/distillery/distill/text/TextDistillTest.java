package dev.distillery.distill.text;

import dev.distillery.distill.disback.DistillRun;
import dev.distillery.distill.disback.DistillRunConfig;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.distill.score.EdmTextUNetNet;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.distill.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Score distillation and DisBack end to end with a tiny text-conditional teacher and guidance on the target. */
class TextDistillTest {
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** DisBack with a Stage 1 of 4 steps, a node every 2 (N = 2), guidance 2 on the target, batch 4. */
    static DistillRunConfig config(long iterations) {
        return new DistillRunConfig("disback", "text-teacher", iterations, "di", "lognormal:-1.2,1.2", "lognormal:-1.2,1.2", 4, 1e-3, 1e-3, 0, 0.999, 0, 1,
                false, 0, 0, 1.0, 2.0, 4, 2, 1e-3, 2, "", 3, 4, 3, 2, 7, "");
    }

    @Test
    void scoreDistillerTrainsTheGeneratorAndLeavesTheTeacherAlone(@TempDir Path tmp) throws IOException {
        PromptConditions pc = TextFixtures.prompts(tmp);
        EdmTextUNetNet teacher = TextFixtures.edmNet(41);
        String teacherDigest = WeightsDigest.of(teacher.module());
        ScoreDistiller d = new ScoreDistiller(PromptConditionsTest.config(2), teacher.copy(), teacher.copy(), pc.sampler());
        TargetScore target = TargetScore.of(teacher, pc.guidance(2));
        for (long k = 0; k < 3; k++) {
            ScoreDistiller.IterationResult r = d.iteration(k, target);
            assertTrue(Double.isFinite(r.fakeLoss()) && Double.isFinite(r.generatorLoss()), "iteration " + k + ": " + r);
        }
        assertNotEquals(teacherDigest, WeightsDigest.of(d.generator().net().module()), "the generator moved");
        assertNotEquals(teacherDigest, WeightsDigest.of(d.fake().module()), "the fake score moved");
        assertEquals(teacherDigest, WeightsDigest.of(teacher.module()), "the teacher did not");
    }

    @Test
    void disbackRunsEndToEndAndResumesBitForBit(@TempDir Path root) throws IOException {
        PromptConditions pc = TextFixtures.prompts(root);
        EdmTextUNetNet teacher = TextFixtures.edmNet(51);
        String teacherDigest = WeightsDigest.of(teacher.module());
        TextEvaluator eval = new TextEvaluator(pc, 2.0, 2, 3, 1);
        DistillRunConfig cfg = config(6);
        Path pathDir = DistillRun.defaultPathDir(root.resolve("teacher"), cfg, teacher, pc);
        assertTrue(pathDir.getFileName().toString().endsWith("-" + pc.key()), "the prompts are part of the path's key: " + pathDir);
        DistillRun.Result whole = DistillRun.start(cfg, teacher, pc, pathDir, eval, root.resolve("whole"), 0, QUIET);
        assertNotNull(whole.report());
        assertEquals(3, whole.path().size(), "N + 1 = 4 / 2 + 1 nodes");
        assertEquals(teacherDigest, WeightsDigest.of(teacher.module()), "distillation never writes the teacher");
        Path cw = new Checkpoint(whole.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        assertNotEquals(teacherDigest, WeightsDigest.of(Checkpoint.readTensors(cw, DistillRun.GENERATOR)), "the generator changed");
        assertTrue(Double.isFinite((Double) whole.evaluations().getLast().get("mse_teacher")));
        assertTrue(whole.evaluations().getLast().containsKey("fake_loss"));
        assertTrue(Files.isRegularFile(whole.runDir().resolve("samples/final.png")));

        DistillRun.Result part = DistillRun.start(cfg, teacher, pc, pathDir, eval, root.resolve("part"), 4, QUIET);
        assertNull(part.report());
        DistillRun.Result rest = DistillRun.resume(teacher, pc, pathDir, eval, root.resolve("part"), 0, QUIET);
        assertNotNull(rest.report());
        Path cr = new Checkpoint(rest.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        for (String f : new String[]{DistillRun.GENERATOR, DistillRun.GENERATOR_EMA, DistillRun.FAKE, DistillRun.GENERATOR_OPT, DistillRun.FAKE_OPT})
            assertEquals(WeightsDigest.of(Checkpoint.readTensors(cw, f)), WeightsDigest.of(Checkpoint.readTensors(cr, f)), f);
        assertEquals(whole.evaluations().getLast().get("mse_teacher"), rest.evaluations().getLast().get("mse_teacher"));
        assertEquals(teacherDigest, WeightsDigest.of(teacher.module()));
    }
}
