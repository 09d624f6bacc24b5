package dev.distillery.distill.disback;

import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.score.GaussianNets;
import dev.distillery.distill.teacher.TeacherConfig;
import dev.distillery.distill.teacher.TeacherData;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;
import dev.distillery.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The optional GAN head in whole runs: real data from the teacher run, checkpoints, resumption, config.json. */
class GanRunTest {
    /** A toy teacher run directory with only its config.json: enough for the GAN's real data (ring8, 512 points). */
    static Path teacherRun(Path dir) throws IOException {
        TeacherConfig t = new TeacherConfig("ring8", 10, 128, 3e-3, 0.1, 0, 10, 1.0, 0.99, 16, 2, 4, 0.5, -1.2, 1.2, 1000, 1, 50, 8, 100, 200, 512, 0, "test");
        try (RunDir ignored = RunDir.create(dir, t.toMap())) {
            return dir;
        }
    }

    static DistillRunConfig ganConfig(String teacher, String method, long iterations, long interval) {
        DistillRunConfig c = DisBackTest.config(method, iterations, 30, 10, interval);
        return new DistillRunConfig(c.method(), teacher, c.iterations(), c.generatorLoss(), c.generatorNoise(), c.fakeNoise(), c.batchSize(), c.lrGenerator(),
                c.lrFake(), c.beta1(), c.beta2(), c.weightDecay(), c.generatorEvery(), c.generatorFirst(), c.gradClip(), c.emaDecay(), c.sigmaInit(),
                c.guidanceScale(), c.degradationSteps(), c.degradationEvery(), c.degradationLr(), c.backtrackInterval(), c.pathDir(), c.evalEvery(),
                c.evalSamples(), c.checkpointEvery(), c.keepCheckpoints(), c.seed(), c.command(), 0.05, 0.1);
    }

    @Test
    void ganRunResumesBitForBitAndDiffersFromTheRunWithoutIt(@TempDir Path root) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(31);
        ToyEvaluator eval = new ToyEvaluator(Toy2d.Kind.RING8, 256, 1);
        String t = teacherRun(root.resolve("teacher")).toString();
        DistillRunConfig cfg = ganConfig(t, "disback", 16, 4);
        DistillRun.Result whole = DistillRun.start(cfg, teacher, root.resolve("path"), eval, root.resolve("whole"), 0, DisBackTest.QUIET);
        DistillRun.Result part = DistillRun.start(cfg, teacher, root.resolve("path"), eval, root.resolve("part"), 9, DisBackTest.QUIET);
        assertNull(part.report());
        DistillRun.Result rest = DistillRun.resume(teacher, root.resolve("path"), eval, root.resolve("part"), 0, DisBackTest.QUIET);
        assertNotNull(rest.report());
        Path cw = new Checkpoint(whole.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        Path cr = new Checkpoint(rest.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        for (String f : new String[]{DistillRun.GENERATOR, DistillRun.GENERATOR_EMA, DistillRun.FAKE, DistillRun.GAN_HEAD, DistillRun.GENERATOR_OPT, DistillRun.FAKE_OPT})
            assertEquals(WeightsDigest.of(Checkpoint.readTensors(cw, f)), WeightsDigest.of(Checkpoint.readTensors(cr, f)), f);
        assertTrue(Checkpoint.readTensors(cw, DistillRun.FAKE_OPT).keySet().stream().anyMatch(k -> k.startsWith("gan_head.")), "the head's Adam state is checkpointed");
        assertEquals(whole.evaluations().getLast().get("sw2"), rest.evaluations().getLast().get("sw2"));
        assertTrue(whole.evaluations().getLast().containsKey("discriminator_loss"));
        // config.json keeps the weights
        DistillRunConfig back = DistillRun.readConfig(whole.runDir());
        assertEquals(0.05, back.ganGeneratorWeight());
        assertEquals(0.1, back.ganDiscriminatorWeight());

        // the same run without the GAN ends elsewhere and writes no head
        DistillRunConfig off = DisBackTest.config("disback", 16, 30, 10, 4);
        DistillRun.Result plain = DistillRun.start(off, teacher, root.resolve("path"), eval, root.resolve("plain"), 0, DisBackTest.QUIET);
        Path cp = new Checkpoint(plain.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        assertFalse(Files.exists(cp.resolve(DistillRun.GAN_HEAD)));
        assertNotEquals(WeightsDigest.of(Checkpoint.readTensors(cw, DistillRun.GENERATOR)), WeightsDigest.of(Checkpoint.readTensors(cp, DistillRun.GENERATOR)));
    }

    @Test
    void ganWithoutTheTeachersDataFailsNamingTheFlags(@TempDir Path root) {
        EdmMlpNet teacher = GaussianNets.tinyMlp(32);
        ToyEvaluator eval = new ToyEvaluator(Toy2d.Kind.RING8, 256, 1);
        DistillRunConfig cfg = ganConfig(root.resolve("no-such-teacher").toString(), "baseline", 4, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> DistillRun.start(cfg, teacher, root.resolve("path"), eval, root.resolve("run"), 0, DisBackTest.QUIET));
        assertTrue(e.getMessage().contains("--gan-generator-weight") && e.getMessage().contains("no-such-teacher"), e.getMessage());
    }

    @Test
    void oldConfigFilesReadAsGanOff(@TempDir Path root) throws IOException {
        Map<String, Object> m = DisBackTest.config("baseline", 4, 0, 10, 2).toMap();
        m.remove("gan_generator_weight");
        m.remove("gan_discriminator_weight");
        try (RunDir ignored = RunDir.create(root.resolve("old"), m)) {
            assertFalse(Files.readString(root.resolve("old").resolve(RunDir.CONFIG_FILE)).contains("gan_"));
        }
        DistillRunConfig old = DistillRun.readConfig(root.resolve("old"));
        assertEquals(0.0, old.ganGeneratorWeight());
        assertEquals(0.0, old.ganDiscriminatorWeight());
        assertFalse(old.distillConfig().ganEnabled());
    }

    @Test
    void realSamplerDrawsTheTeachersTrainingPoints(@TempDir Path root) throws IOException {
        Path t = teacherRun(root.resolve("teacher"));
        var data = TeacherData.load(t);
        assertEquals(512, data.size());
        var batch = TeacherData.sampler(data, 0).sample(new Rng(3), 64);
        assertArrayEquals(new int[]{64, 2}, batch.x().shape());
        assertNull(batch.cond());
        // every drawn point is one of the training points
        java.util.Set<String> points = new java.util.HashSet<>();
        for (int i = 0; i < data.size(); i++) points.add(java.util.Arrays.toString(data.get(i).image().toFloatArray()));
        float[] x = batch.x().toFloatArray();
        for (int i = 0; i < 64; i++) assertTrue(points.contains(java.util.Arrays.toString(new float[]{x[2 * i], x[2 * i + 1]})), "sample " + i);
    }
}
