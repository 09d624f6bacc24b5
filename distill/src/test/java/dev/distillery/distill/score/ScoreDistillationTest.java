package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.testing.Golden;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Invariants 1-5 and 12-15 of spec disback.md §7 for the score-distillation core. */
class ScoreDistillationTest {

    @Test
    void edmMlpNetAppliesThePreconditioningFormula() {
        EdmMlpNet net = GaussianNets.tinyMlp(3);
        EdmPreconditioning pre = net.preconditioning();
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 4, 2);
        double[] sigma = {0.01, 0.5, 2.0, 40.0};
        double[] got, f;
        try (var g = NoGrad.enter()) {
            got = net.denoise(Variable.constant(x), sigma, null).value().toDoubleArray();
        }
        double[] xs = x.toDoubleArray();
        for (int i = 0; i < 4; i++) {
            double s = sigma[i];
            Tensor xin = Tensor.of(new double[]{xs[2 * i] * pre.cIn(s), xs[2 * i + 1] * pre.cIn(s)}, 1, 2).to(DType.F32);
            try (var g = NoGrad.enter()) {
                f = net.mlp().forward(Variable.constant(xin), new double[]{Math.log(s) / 4}).value().toDoubleArray();
            }
            for (int c = 0; c < 2; c++) {
                double want = pre.cSkip(s) * xs[2 * i + c] + pre.cOut(s) * f[c];
                assertEquals(want, got[2 * i + c], 1e-5 * (1 + Math.abs(want)), "sample " + i + " coord " + c);
            }
        }
        // c_in, c_out, c_skip, c_noise of EDM (sigma_d = 1): checked by value at sigma = 2
        assertEquals(1 / Math.sqrt(5), pre.cIn(2), 1e-15);
        assertEquals(2 / Math.sqrt(5), pre.cOut(2), 1e-15);
        assertEquals(0.2, pre.cSkip(2), 1e-15);
        assertEquals(Math.log(2) / 4, pre.cNoise(2), 1e-15);
    }

    @Test
    void copyHasEqualWeightsAndIndependentStorage() {
        EdmMlpNet net = GaussianNets.tinyMlp(5);
        EdmMlpNet twin = net.copy();
        assertEquals(WeightsDigest.of(net.module()), WeightsDigest.of(twin.module()));
        twin.module().parameters().get(0).value().copyFrom(twin.module().parameters().get(0).value().add(1));
        assertNotEquals(WeightsDigest.of(net.module()), WeightsDigest.of(twin.module()));
    }

    @Test
    void generatorLossGradientsMatchPyTorch() {
        Map<String, Tensor> f = Golden.load("score_distillation.safetensors");
        for (DType dt : new DType[]{DType.F64, DType.F32}) {
            double tol = dt == DType.F64 ? 1e-12 : 2e-6;
            Tensor x0 = f.get("x0").to(dt), fake = f.get("d_fake").to(dt), tgt = f.get("d_target").to(dt);
            for (GeneratorLoss form : GeneratorLoss.values()) {
                String key = form == GeneratorLoss.DIFF_INSTRUCT ? "di" : "dmd2";
                Variable x = Variable.leaf(x0);
                Variable loss = form.loss(x, fake, tgt);
                loss.backward();
                assertEquals(f.get(key + ".loss").item(), loss.item(), tol * 10, key + " loss " + dt);
                assertArrayClose(f.get(key + ".grad").toDoubleArray(), x.grad().toDoubleArray(), tol, key + " grad " + dt);
            }
            assertArrayClose(f.get("dmd2.g").toDoubleArray(), GeneratorLoss.dmd2Gradient(x0, fake, tgt).toDoubleArray(), dt == DType.F64 ? 1e-6 : 1e-5, "dmd2 g");
        }
    }

    @Test
    void generatorGradientIdentitiesHoldExactly() {
        Tensor x0 = Tensor.randn(new Rng(2), DType.F64, 5, 3);
        Tensor fake = Tensor.randn(new Rng(3), DType.F64, 5, 3), tgt = Tensor.randn(new Rng(4), DType.F64, 5, 3);
        Variable x = Variable.leaf(x0);
        GeneratorLoss.DIFF_INSTRUCT.loss(x, fake, tgt).backward();
        assertArrayClose(fake.sub(tgt).div(5).toDoubleArray(), x.grad().toDoubleArray(), 1e-15, "DI: (D_phi - D_tgt)/B");
        Variable y = Variable.leaf(x0);
        GeneratorLoss.DMD2.loss(y, fake, tgt).backward();
        assertArrayClose(GeneratorLoss.dmd2Gradient(x0, fake, tgt).div(15).toDoubleArray(), y.grad().toDoubleArray(), 1e-7, "DMD2: g/numel");
    }

    @Test
    void identicalFakeAndTargetGiveAZeroGeneratorGradient() {
        for (GeneratorLoss form : GeneratorLoss.values()) {
            EdmMlpNet teacher = GaussianNets.tinyMlp(9);
            EdmMlpNet generatorNet = teacher.copy(), fake = teacher.copy();
            DistillConfig cfg = withLoss(DistillConfig.diffInstruct(32, 1e-3, 1), form);
            ScoreDistiller d = new ScoreDistiller(cfg, generatorNet, fake, null);
            // a target with the fake's weights: any batch, any sigma, the score difference is exactly zero
            TargetScore same = TargetScore.of(fake.copy(), null);
            OneStepGenerator g = d.generator();
            Tensor z = g.latents(new Rng(4), 32);
            Variable x0 = g.generate(z, null);
            double[] sigma = cfg.generatorNoise().sample(new Rng(5), 32);
            Tensor xt = x0.value().add(Tensor.randn(new Rng(6), DType.F32, 32, 2).mul(EdmDenoiserNet.perSample(sigma, x0.value())));
            Tensor dFake;
            try (var ng = NoGrad.enter()) {
                dFake = fake.denoise(Variable.constant(xt), sigma, null).value();
            }
            form.loss(x0, dFake, same.denoise(xt, sigma, null)).backward();
            for (var p : generatorNet.module().parameters())
                for (double v : p.grad().toDoubleArray()) assertEquals(0.0, v, 0.0, form + ": gradient must be exactly 0");
        }
    }

    @Test
    void eachStepChangesOnlyItsOwnNetwork() {
        EdmMlpNet teacher = GaussianNets.tinyMlp(11);
        String teacherDigest = WeightsDigest.of(teacher.module());
        EdmMlpNet generatorNet = teacher.copy(), fake = teacher.copy();
        DistillConfig base = DistillConfig.diffInstruct(16, 1e-2, 3);
        // r_gen = 2: iteration 1 is a fake step only
        DistillConfig cfg = new DistillConfig(base.generatorLoss(), base.generatorNoise(), base.fakeNoise(), 16, 1e-2, 1e-2, 0, 0.999, 0, 2, false, 0, 0.5, 1, 1, 3);
        ScoreDistiller d = new ScoreDistiller(cfg, generatorNet, fake, null);
        TargetScore target = TargetScore.of(teacher, null);
        d.iteration(0, target);
        String g0 = WeightsDigest.of(generatorNet.module()), f0 = WeightsDigest.of(fake.module()), e0 = WeightsDigest.of(d.ema().stateDict());
        ScoreDistiller.IterationResult r = d.iteration(1, target);
        assertTrue(Double.isNaN(r.generatorLoss()), "no generator step at k = 1 with r_gen = 2");
        assertEquals(g0, WeightsDigest.of(generatorNet.module()), "a fake step must not change the generator");
        assertEquals(e0, WeightsDigest.of(d.ema().stateDict()), "nor its EMA");
        assertNotEquals(f0, WeightsDigest.of(fake.module()), "the fake step trains the fake score");
        assertEquals(teacherDigest, WeightsDigest.of(teacher.module()));

        // lr_fake = 0: a whole iteration leaves the fake score as it was; the generator moves; the target never does
        EdmMlpNet g2 = teacher.copy(), f2 = teacher.copy();
        DistillConfig frozenFake = new DistillConfig(base.generatorLoss(), base.generatorNoise(), base.fakeNoise(), 16, 1e-2, 0, 0, 0.999, 0, 1, true, 0, 0, 1, 1, 3);
        ScoreDistiller d2 = new ScoreDistiller(frozenFake, g2, f2, null);
        String fBefore = WeightsDigest.of(f2.module()), gBefore = WeightsDigest.of(g2.module());
        EdmMlpNet perturbedTarget = teacher.copy();
        perturbedTarget.module().parameters().getLast().value().copyFrom(perturbedTarget.module().parameters().getLast().value().add(0.3));
        String tBefore = WeightsDigest.of(perturbedTarget.module());
        d2.iteration(0, TargetScore.of(perturbedTarget, null));
        assertEquals(fBefore, WeightsDigest.of(f2.module()), "the generator step must not change the fake score");
        assertNotEquals(gBefore, WeightsDigest.of(g2.module()));
        assertEquals(tBefore, WeightsDigest.of(perturbedTarget.module()), "the target is never trained");
        for (var p : f2.module().parameters()) assertNull(p.grad(), "the generator loss must not leave gradients in the fake score");
    }

    @Test
    void generatorStepsOnlyEveryRGenIterationsAndFakeEveryIteration() {
        EdmMlpNet teacher = GaussianNets.tinyMlp(12);
        DistillConfig base = DistillConfig.diffInstruct(8, 1e-3, 3);
        DistillConfig cfg = new DistillConfig(base.generatorLoss(), base.generatorNoise(), base.fakeNoise(), 8, 1e-3, 1e-3, 0, 0.999, 0, 5, true, 0, 0, 1, 1, 3);
        ScoreDistiller d = new ScoreDistiller(cfg, teacher.copy(), teacher.copy(), null);
        for (int k = 0; k < 12; k++) {
            ScoreDistiller.IterationResult r = d.iteration(k, TargetScore.of(teacher, null));
            assertEquals(k % 5 == 0, !Double.isNaN(r.generatorLoss()), "generator step at k = " + k);
            assertFalse(Double.isNaN(r.fakeLoss()), "fake step at k = " + k);
        }
        assertEquals(3, d.generatorOptimizer().stepCount());
        assertEquals(12, d.fakeOptimizer().stepCount());
    }

    @Test
    void dmd2OrderTrainsTheFakeScoreOnTheGeneratorStepsOwnSamples() {
        // Record what the generator produced and what the fake score was fitted to; with sigma ~ 1e-9 the fake's
        // DSM input x0 + sigma n is x0 to float precision.
        List<Tensor> generated = new ArrayList<>(), fitted = new ArrayList<>();
        EdmMlpNet teacher = GaussianNets.tinyMlp(13);
        EdmDenoiserNet gen = recording(teacher.copy(), generated, true), fake = recording(teacher.copy(), fitted, true);
        NoiseLevels tiny = new NoiseLevels.LogNormal(-20.7, 1e-6);
        DistillConfig cfg = new DistillConfig(GeneratorLoss.DMD2, new NoiseLevels.LogNormal(-1.2, 1.2), tiny, 8, 1e-3, 1e-3, 0.9, 0.999, 0, 1, true, 0, 0, 1, 1, 3);
        new ScoreDistiller(cfg, gen, fake, null).iteration(0, TargetScore.of(teacher, null));
        assertEquals(1, generated.size());
        assertEquals(1, fitted.size());
        assertArrayClose(generated.get(0).toDoubleArray(), fitted.get(0).toDoubleArray(), 1e-6, "fake step input = the generator step's x0");
    }

    /** Records the input (or output) of every call made with gradients enabled. */
    private static EdmDenoiserNet recording(EdmDenoiserNet net, List<Tensor> log, boolean gradOnly) {
        return new EdmDenoiserNet() {
            @Override public dev.distillery.autograd.nn.Module module() { return net.module(); }
            @Override public EdmPreconditioning preconditioning() { return net.preconditioning(); }
            @Override public int[] sampleShape() { return net.sampleShape(); }
            @Override public EdmDenoiserNet copy() { return net.copy(); }

            @Override
            public Variable denoise(Variable x, double[] sigma, Tensor cond) {
                Variable out = net.denoise(x, sigma, cond);
                if (!gradOnly || NoGrad.isGradEnabled()) log.add(out.requiresGrad() && sigma[0] == 1.0 ? out.value() : x.value());
                return out;
            }
        };
    }

    @Test
    void noiseLevelsFollowTheirDistributions() {
        double[] s = new NoiseLevels.LogNormal(-1.2, 1.2).sample(new Rng(8), 20000);
        double m = 0, v = 0;
        for (double x : s) m += Math.log(x);
        m /= s.length;
        for (double x : s) v += (Math.log(x) - m) * (Math.log(x) - m);
        double sd = Math.sqrt(v / (s.length - 1));
        assertEquals(-1.2, m, 3 * 1.2 / Math.sqrt(s.length), "mean of ln sigma");
        assertEquals(1.2, sd, 3 * 1.2 / Math.sqrt(2.0 * s.length), "std of ln sigma");

        NoiseLevels.KarrasGrid gen = NoiseLevels.KarrasGrid.dmd2(1000, 20, 980), fake = NoiseLevels.KarrasGrid.dmd2(1000, 0, 999);
        assertEquals(0.002, gen.ascending()[0], 1e-12);
        assertEquals(80, gen.ascending()[999], 1e-9);
        for (int i = 1; i < 1000; i++) assertTrue(gen.ascending()[i] > gen.ascending()[i - 1]);
        java.util.Set<Double> genVals = new java.util.HashSet<>();
        for (double x : gen.sample(new Rng(9), 50000)) genVals.add(x);
        assertEquals(961, genVals.size(), "every index 20..980 drawn, no other");
        assertTrue(genVals.contains(gen.ascending()[20]) && genVals.contains(gen.ascending()[980]));
        assertFalse(genVals.contains(gen.ascending()[19]) || genVals.contains(gen.ascending()[981]));
        java.util.Set<Double> fakeVals = new java.util.HashSet<>();
        for (double x : fake.sample(new Rng(10), 50000)) fakeVals.add(x);
        assertEquals(1000, fakeVals.size());
        assertEquals("lognormal:-1.2,1.2", new NoiseLevels.LogNormal(-1.2, 1.2).describe());
        assertEquals(gen.describe(), NoiseLevels.parse(gen.describe()).describe());
        assertThrows(IllegalArgumentException.class, () -> NoiseLevels.parse("uniform:1,2"));
    }

    @Test
    void guidanceIsExactAtScalesZeroAndOne() {
        // a conditional toy net: D(x; s, c) = (c + 1) x / (1 + s^2); label 9 is the null label
        EdmDenoiserNet net = new EdmDenoiserNet() {
            final GaussianNets.GaussianScoreNet inner = new GaussianNets.GaussianScoreNet(0, 1);
            @Override public dev.distillery.autograd.nn.Module module() { return inner.module(); }
            @Override public EdmPreconditioning preconditioning() { return inner.preconditioning(); }
            @Override public int[] sampleShape() { return new int[]{1}; }
            @Override public EdmDenoiserNet copy() { return this; }

            @Override
            public Variable denoise(Variable x, double[] sigma, Tensor cond) {
                Tensor c = cond.to(DType.F32).reshape(-1, 1).add(1);
                return inner.denoise(x, sigma, null).mul(Variable.constant(c));
            }
        };
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 3, 1);
        double[] sigma = {0.5, 1, 2};
        Tensor labels = Tensor.ofLongs(new long[]{1, 2, 3}, 3);
        Tensor cond, uncond;
        try (var g = NoGrad.enter()) {
            cond = net.denoise(Variable.constant(x), sigma, labels).value();
            uncond = net.denoise(Variable.constant(x), sigma, Tensor.ofLongs(new long[]{9, 9, 9}, 3)).value();
        }
        assertArrayEquals(cond.toDoubleArray(), TargetScore.guided(net, TargetScore.Guidance.classLabels(1, 9), x, sigma, labels).toDoubleArray());
        assertArrayEquals(uncond.toDoubleArray(), TargetScore.guided(net, TargetScore.Guidance.classLabels(0, 9), x, sigma, labels).toDoubleArray());
        double[] w3 = TargetScore.guided(net, TargetScore.Guidance.classLabels(3, 9), x, sigma, labels).toDoubleArray();
        double[] c = cond.toDoubleArray(), u = uncond.toDoubleArray();
        for (int i = 0; i < 3; i++) assertEquals(u[i] + 3 * (c[i] - u[i]), w3[i], 1e-5);
    }

    @Test
    void fakeScoreLossConvergesToTheAnalyticGaussianDenoiser() {
        // data N(1.5, 0.49); a Gaussian denoiser fitted by DSM must reach mu = 1.5, v = 0.49 (spec invariant 2)
        GaussianNets.GaussianScoreNet net = new GaussianNets.GaussianScoreNet(0, 1);
        var opt = dev.distillery.autograd.optim.Adam.adam(net.module().namedParameters(), 0.02, 0.9, 0.999, 1e-8, 0);
        NoiseLevels levels = new NoiseLevels.LogNormal(-1.2, 1.2);
        Rng rng = new Rng(4);
        for (int step = 0; step < 1500; step++) {
            if (step == 800) opt.setLearningRate(0.005);
            if (step == 1200) opt.setLearningRate(0.001);
            Tensor x0 = Tensor.randn(rng, DType.F32, 512, 1).mul(0.7).add(1.5);
            opt.zeroGrad();
            DenoisingScoreMatching.loss(net, x0, null, levels.sample(rng, 512), Tensor.randn(rng, DType.F32, 512, 1)).backward();
            opt.step();
        }
        assertEquals(1.5, net.mu(), 1e-2);
        assertEquals(0.49, net.var(), 1e-2);
    }

    @Test
    void affineGeneratorConvergesToTheDataWithAnAnalyticTeacher() {
        // 1-D data N(0, 1); G(z) = a z + b from a = 0.2, b = 3; teacher = exact denoiser of N(0, 1); fake = learned
        // Gaussian denoiser starting at the generator's distribution N(3, 0.04) (spec invariant 15)
        GaussianNets.AffineGenerator gen = new GaussianNets.AffineGenerator(0.2, 3);
        GaussianNets.GaussianScoreNet fake = new GaussianNets.GaussianScoreNet(3, 0.04);
        GaussianNets.GaussianScoreNet teacher = new GaussianNets.GaussianScoreNet(0, 1);
        DistillConfig cfg = new DistillConfig(GeneratorLoss.DIFF_INSTRUCT, new NoiseLevels.LogNormal(-1.2, 1.2), new NoiseLevels.LogNormal(-1.2, 1.2), 256,
                0.01, 0.05, 0, 0.999, 0, 1, false, 0, 0, 1, 1, 5);
        ScoreDistiller d = new ScoreDistiller(cfg, gen, fake, null);
        TargetScore target = TargetScore.of(teacher, null);
        for (int k = 0; k < 1500; k++) d.iteration(k, target);
        assertEquals(1.0, Math.abs(gen.a()), 0.1, "|a| -> 1");
        assertEquals(0.0, gen.b(), 0.1, "b -> 0");
    }

    static DistillConfig withLoss(DistillConfig c, GeneratorLoss form) {
        return new DistillConfig(form, c.generatorNoise(), c.fakeNoise(), c.batchSize(), c.lrGenerator(), c.lrFake(), c.beta1(), c.beta2(), c.weightDecay(),
                c.generatorEvery(), c.generatorFirst(), c.gradClip(), c.emaDecay(), c.sigmaInit(), c.guidanceScale(), c.seed());
    }

    static void assertArrayClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), what + " at " + i + " (" + Arrays.toString(Arrays.copyOf(got, Math.min(4, got.length))) + "...)");
    }
}
