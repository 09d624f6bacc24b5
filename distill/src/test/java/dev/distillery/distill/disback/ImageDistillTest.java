package dev.distillery.distill.disback;

import dev.distillery.distill.data.Digits;
import dev.distillery.distill.metrics.FeatureClassifier;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.score.EdmUNetNet;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.teacher.MlpDenoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Distillation of image teachers: a digits MLP scored by the feature classifier, a class-conditional UNet with guidance. */
class ImageDistillTest {

    @Test
    void digitsRunIsScoredByTheFeatureClassifier(@TempDir Path root) throws IOException {
        Optional<Path> csv = Optional.ofNullable(System.getenv("DISTILLERY_DIGITS_CSV")).map(Path::of).filter(Files::exists).or(Digits::discover);
        assumeTrue(csv.isPresent(), "digits.csv.gz not installed (python3-sklearn) and DISTILLERY_DIGITS_CSV not set");
        FeatureClassifier classifier = FeatureClassifier.obtain(FeatureClassifier.Data.load("digits", csv.get().toString()),
                FeatureClassifier.Recipe.forDataset("digits", 0), root.resolve("cache"));
        EdmMlpNet teacher = new EdmMlpNet(new MlpDenoiser(64, 32, 2, 8, new Rng(1)), new EdmPreconditioning(0.5), 1, 8, 8);
        ImageEvaluator eval = new ImageEvaluator(classifier, 64, 3, 1, 8, 8);
        DistillRun.Result r = DistillRun.start(DisBackTest.config("disback", 6, 20, 10, 2), teacher, root.resolve("path"), eval, root.resolve("run"), 0,
                DisBackTest.QUIET);
        assertEquals("fd", eval.primaryMetric());
        for (var row : r.evaluations()) {
            double fd = ((Number) row.get("fd")).doubleValue();
            assertTrue(Double.isFinite(fd) && fd > 0, "FD " + fd);
            assertTrue(((Number) row.get("class_entropy")).doubleValue() <= Math.log(10) + 1e-9);
        }
        assertTrue(Files.isRegularFile(r.runDir().resolve("samples/final.png")));
        assertTrue(Files.isRegularFile(r.runDir().resolve("plots/fd.png")));
    }

    @Test
    void classConditionalTeacherGetsLabelsEverywhereAndGuidanceOnTheTargetOnly(@TempDir Path root) throws IOException {
        int classes = 3;
        var cfg = EdmUNetNet.smallConfig(1, 8, List.of(8, 8), 1, false, 4, 4, classes);
        EdmUNetNet teacher = new EdmUNetNet(new UNet2DModel(cfg, new Rng(5)), new EdmPreconditioning(0.5), 1000, 8, 8);
        List<Tensor> seen = new ArrayList<>();
        Evaluator eval = new Evaluator() {
            @Override
            public Map<String, Double> evaluate(OneStepGenerator g, EdmDenoiserNet target, EdmDenoiserNet t) {
                Tensor labels = ImageEvaluator.labels(g, 6);
                seen.add(labels);
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("mean", g.sample(new Rng(1), 6, 6, labels).mean().item());
                return m;
            }

            @Override public String primaryMetric() { return "mean"; }

            @Override
            public void writeSamples(Path png, OneStepGenerator g, String title) {}
        };
        DistillRunConfig base = DisBackTest.config("disback", 3, 10, 5, 1);
        DistillRunConfig guided = new DistillRunConfig(base.method(), base.teacher(), base.iterations(), base.generatorLoss(), base.generatorNoise(),
                base.fakeNoise(), 4, base.lrGenerator(), base.lrFake(), base.beta1(), base.beta2(), base.weightDecay(), base.generatorEvery(),
                base.generatorFirst(), base.gradClip(), base.emaDecay(), base.sigmaInit(), 2.0, base.degradationSteps(), base.degradationEvery(),
                base.degradationLr(), base.backtrackInterval(), "", base.evalEvery(), base.evalSamples(), base.checkpointEvery(), base.keepCheckpoints(),
                base.seed(), "");
        DistillRun.Result r = DistillRun.start(guided, teacher, root.resolve("path"), eval, root.resolve("run"), 0, DisBackTest.QUIET);
        assertEquals(3, r.iterations());
        assertArrayEquals(new long[]{0, 1, 2, 0, 1, 2}, seen.getFirst().toLongArray(), "evaluation labels i mod classes");
        assertEquals(classes, teacher.classes());
        assertEquals(classes, teacher.nullLabel());
        // the sampler only draws real classes
        var sampler = DistillRun.classSampler(teacher);
        for (long l : sampler.sample(new Rng(2), 500).toLongArray()) assertTrue(l >= 0 && l < classes, "label " + l);
        assertNull(DistillRun.classSampler(new EdmMlpNet(new MlpDenoiser(8, 1, 4, new Rng(0)), new EdmPreconditioning(1))));
    }
    /**
     * The optional GAN head on a class-conditional pixel UNet teacher trained by the CLI: real batches come from the
     * teacher run's own training images with their labels, the head sits on the fake UNet's mid-block features, its
     * weights are checkpointed, and the discriminator loss is logged with each evaluation.
     */
    @Test
    void ganHeadRunsOnAClassConditionalUNetTeacherWithItsTrainingImages(@TempDir Path root) throws IOException {
        Path data = dev.distillery.distill.teacher.ImageTeacherTrainerTest.writeIdx(root.resolve("idx"), 80);
        Path teacherDir = root.resolve("teacher");
        var t = dev.distillery.distill.cli.MainTestSupport.run(dev.distillery.distill.teacher.ImageTeacherTrainerTest.with(
                dev.distillery.distill.teacher.ImageTeacherTrainerTest.TINY_UNET, "--data", data.toString(), "--out", teacherDir.toString()));
        assertEquals(0, t.code(), t.err());
        var loaded = dev.distillery.distill.teacher.Teachers.load(teacherDir);
        assertEquals(10, loaded.net().classes());
        DistillRunConfig b = DisBackTest.config("baseline", 4, 10, 5, 1);
        DistillRunConfig gan = new DistillRunConfig(b.method(), teacherDir.toString(), b.iterations(), b.generatorLoss(), b.generatorNoise(),
                b.fakeNoise(), 4, b.lrGenerator(), b.lrFake(), b.beta1(), b.beta2(), b.weightDecay(), b.generatorEvery(), b.generatorFirst(),
                b.gradClip(), b.emaDecay(), b.sigmaInit(), b.guidanceScale(), b.degradationSteps(), b.degradationEvery(), b.degradationLr(),
                b.backtrackInterval(), "", 2, b.evalSamples(), 4, b.keepCheckpoints(), b.seed(), "", 3e-3, 1e-2);
        Evaluator eval = new Evaluator() {
            @Override
            public Map<String, Double> evaluate(OneStepGenerator g, EdmDenoiserNet target, EdmDenoiserNet teacher) {
                return Map.of("mean", g.sample(new Rng(1), 4, 4, ImageEvaluator.labels(g, 4)).mean().item());
            }

            @Override public String primaryMetric() { return "mean"; }

            @Override
            public void writeSamples(Path png, OneStepGenerator g, String title) {}
        };
        DistillRun.Result r = DistillRun.start(gan, loaded.net(), root.resolve("path"), eval, root.resolve("run"), 0, DisBackTest.QUIET);
        assertEquals(4, r.iterations());
        Path ck = new dev.distillery.distill.train.Checkpoint(r.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        assertTrue(Files.isRegularFile(ck.resolve(DistillRun.GAN_HEAD)), "the head's weights are checkpointed");
        for (var row : r.evaluations().subList(1, r.evaluations().size())) {
            double d = ((Number) row.get("discriminator_loss")).doubleValue();
            assertTrue(Double.isFinite(d) && d > 0, "discriminator loss " + d); // softplus terms are positive
        }
    }
}
