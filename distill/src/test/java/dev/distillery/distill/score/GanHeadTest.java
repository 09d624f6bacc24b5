package dev.distillery.distill.score;

import dev.distillery.autograd.GradCheck;
import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** DMD2's optional GAN head (spec disback.md §2.2 "classifier head", §2.4 L_gan) and its wiring into {@link ScoreDistiller}. */
class GanHeadTest {
    /** Real data for the toy tests: ring8 points, unconditional. */
    static final ScoreDistiller.RealSampler RING = (rng, n) -> new ScoreDistiller.RealBatch(Toy2d.ring8(rng, n), null);

    static DistillConfig toyConfig(int generatorEvery, double lrGenerator, double lrFake, boolean generatorFirst) {
        DistillConfig base = DistillConfig.diffInstruct(16, 1e-2, 3);
        return new DistillConfig(base.generatorLoss(), base.generatorNoise(), base.fakeNoise(), 16, lrGenerator, lrFake, 0, 0.999, 0, generatorEvery,
                generatorFirst, 0, 0, 1, 1, 3);
    }

    @Test
    void headGivesOneLogitPerSampleForImageAndVectorFeatures() {
        Rng rng = new Rng(1);
        // 8x8: the spec's full stack (4x4/s2 to 4x4, then 4x4/s4 to 1x1); 4x4: only the first stage; 1x1: pooling and the linear layer
        GanHead h8 = new GanHead(new int[]{64, 8, 8}, rng), h4 = new GanHead(new int[]{16, 4, 4}, rng), h1 = new GanHead(new int[]{8, 1, 1}, rng);
        GanHead hv = new GanHead(new int[]{16}, rng);
        assertArrayEquals(new int[]{3}, h8.forward(Variable.constant(Tensor.randn(rng, DType.F32, 3, 64, 8, 8))).shape());
        assertArrayEquals(new int[]{3}, h4.forward(Variable.constant(Tensor.randn(rng, DType.F32, 3, 16, 4, 4))).shape());
        assertArrayEquals(new int[]{3}, h1.forward(Variable.constant(Tensor.randn(rng, DType.F32, 3, 8, 1, 1))).shape());
        assertArrayEquals(new int[]{5}, hv.forward(Variable.constant(Tensor.randn(rng, DType.F32, 5, 16))).shape());
        assertTrue(h8.stateDict().containsKey("down4.weight") && h8.stateDict().containsKey("down.weight"));
        assertArrayEquals(new int[]{64, 64, 4, 4}, h8.stateDict().get("down.weight").shape());
        assertFalse(h4.stateDict().containsKey("down4.weight"), "a 2x2 map after the first stage is too small for the 4x4/s4 stage");
        assertFalse(h1.stateDict().containsKey("down.weight"));
        assertEquals(32, GanHead.groups(64));
        assertEquals(16, GanHead.groups(16));
        assertEquals(4, GanHead.groups(12));
        var e = assertThrows(IllegalArgumentException.class, () -> h4.forward(Variable.constant(Tensor.zeros(DType.F32, 2, 16, 8, 8))));
        assertTrue(e.getMessage().contains("GanHead"), e.getMessage());

        // heads built for real networks read their bottleneck: the UNet's mid block [B, 8, 4, 4], the MLP's last hidden layer [B, 16]
        EdmUNetNet unet = EdmUNetNetTest.tiny(3);
        Tensor labels = Tensor.ofLongs(new long[]{0, 2}, 2);
        Variable feats = unet.features(Variable.constant(Tensor.randn(rng, DType.F32, 2, 2, 8, 8)), new double[]{0.5, 3}, labels);
        assertArrayEquals(new int[]{2, 8, 4, 4}, feats.shape());
        assertArrayEquals(new int[]{8, 4, 4}, GanHead.forNet(unet, new Rng(2)).featureShape());
        EdmMlpNet mlp = GaussianNets.tinyMlp(4);
        assertArrayEquals(new int[]{16}, GanHead.forNet(mlp, new Rng(2)).featureShape());
        assertThrows(UnsupportedOperationException.class, () -> new GaussianNets.GaussianScoreNet(0, 1).features(Variable.constant(Tensor.zeros(DType.F32, 1, 1)), new double[]{1}, null));
    }

    @Test
    void mlpFeaturesAreWhatTheDenoisersOutputLayerReads() {
        // D(x; s) = c_skip x + c_out (W_out h + b_out) with h = features(x; s): the features come from the same preconditioned pass
        EdmMlpNet net = GaussianNets.tinyMlp(5);
        Rng rng = new Rng(6);
        Tensor x = Tensor.randn(rng, DType.F32, 4, 2);
        double[] sigma = {0.1, 0.7, 2.0, 9.0};
        try (var g = NoGrad.enter()) {
            double[] h = net.features(Variable.constant(x), sigma, null).value().toDoubleArray();
            double[] d = net.denoise(Variable.constant(x), sigma, null).value().toDoubleArray();
            double[] w = net.module().stateDict().get("out.weight").toDoubleArray(), b = net.module().stateDict().get("out.bias").toDoubleArray();
            double[] xs = x.toDoubleArray();
            var pre = net.preconditioning();
            for (int i = 0; i < 4; i++)
                for (int o = 0; o < 2; o++) {
                    double f = b[o];
                    for (int k = 0; k < 16; k++) f += w[o * 16 + k] * h[i * 16 + k];
                    double want = pre.cSkip(sigma[i]) * xs[i * 2 + o] + pre.cOut(sigma[i]) * f;
                    assertEquals(want, d[i * 2 + o], 1e-5, "sample " + i + ", output " + o);
                }
        }
    }

    @Test
    void lossesMatchHandComputedSoftplusValues() {
        // softplus(x) = ln(1 + e^x): sp(2) = 2.12692801104, sp(-0.3) = 0.55435524447, sp(-0.5) = 0.47407698418, sp(1) = 1.31326168752,
        // sp(-2) = 0.12692801104, sp(0.3) = 0.85435524447 (by hand / a calculator)
        Variable real = Variable.leaf(Tensor.of(new double[]{0.5, -1.0}, 2)), fake = Variable.leaf(Tensor.of(new double[]{2.0, -0.3}, 2));
        Variable ld = GanHead.discriminatorLoss(real, fake);
        assertEquals((2.12692801104 + 0.55435524447) / 2 + (0.47407698418 + 1.31326168752) / 2, ld.item(), 1e-10);
        Variable lg = GanHead.generatorLoss(Variable.leaf(Tensor.of(new double[]{2.0, -0.3}, 2)));
        assertEquals((0.12692801104 + 0.85435524447) / 2, lg.item(), 1e-10);
        // d softplus / dx = sigmoid(x): d L_G / d l_fake = -sigmoid(-l) / B; sigmoid(-2) = 0.11920292202, sigmoid(0.3) = 0.57444251681
        Variable l = Variable.leaf(Tensor.of(new double[]{2.0, -0.3}, 2));
        GanHead.generatorLoss(l).backward();
        assertArrayEquals(new double[]{-0.11920292202 / 2, -0.57444251681 / 2}, l.grad().toDoubleArray(), 1e-10);
        // no overflow far out: softplus(100) = 100, softplus(-100) = 3.7e-44
        assertEquals(100.0, GanHead.softplus(Variable.constant(Tensor.of(new double[]{100}, 1))).item(), 1e-12);
        assertEquals(0.0, GanHead.softplus(Variable.constant(Tensor.of(new double[]{-100}, 1))).item(), 1e-40);
        // an untrained head (logits 0) gives L_D = 2 ln 2
        assertEquals(2 * Math.log(2), GanHead.discriminatorLoss(Variable.constant(Tensor.zeros(DType.F64, 3)), Variable.constant(Tensor.zeros(DType.F64, 3))).item(), 1e-12);
    }

    @Test
    void withBothWeightsZeroTheDistillerIsBitIdenticalToTheOneWithoutGanSupport() {
        EdmMlpNet teacher = GaussianNets.tinyMlp(21);
        for (boolean dmd2Order : new boolean[]{false, true}) {
            DistillConfig cfg = toyConfig(2, 1e-2, 1e-2, dmd2Order);
            EdmMlpNet g1 = teacher.copy(), f1 = teacher.copy(), g2 = teacher.copy(), f2 = teacher.copy();
            ScoreDistiller plain = new ScoreDistiller(cfg, g1, f1, null);
            // the same config with explicit zero weights and a real-data sampler that must be ignored
            ScoreDistiller zero = new ScoreDistiller(cfg.withGan(0, 0), g2, f2, null, RING);
            assertNull(zero.ganHead(), "no head is built when both weights are 0");
            assertEquals(List.of("latent", "gen_sigma", "gen_noise", "fake_sigma", "fake_noise", "cond"), new ArrayList<>(zero.state().keySet()));
            TargetScore target = TargetScore.of(teacher, null);
            for (long k = 0; k < 5; k++) {
                var a = plain.iteration(k, target);
                var b = zero.iteration(k, target);
                assertEquals(a.fakeLoss(), b.fakeLoss());
                assertEquals(a.generatorLoss(), b.generatorLoss());
                assertTrue(Double.isNaN(b.discriminatorLoss()) && Double.isNaN(b.ganGeneratorLoss()));
            }
            assertEquals(WeightsDigest.of(g1.module()), WeightsDigest.of(g2.module()));
            assertEquals(WeightsDigest.of(f1.module()), WeightsDigest.of(f2.module()));
            assertEquals(WeightsDigest.of(plain.fakeOptimizer().stateDict()), WeightsDigest.of(zero.fakeOptimizer().stateDict()));
            assertEquals(WeightsDigest.of(plain.generatorOptimizer().stateDict()), WeightsDigest.of(zero.generatorOptimizer().stateDict()));
        }
        // and a GAN run needs real data, naming the flags
        var e = assertThrows(IllegalArgumentException.class, () -> new ScoreDistiller(toyConfig(1, 1e-2, 1e-2, false).withGan(0, 0.1), teacher.copy(), teacher.copy(), null));
        assertTrue(e.getMessage().contains("--gan-discriminator-weight"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> toyConfig(1, 1e-2, 1e-2, false).withGan(-1, 0));
        assertTrue(e.getMessage().contains("--gan-generator-weight"), e.getMessage());
    }

    @Test
    void generatorStepChangesOnlyTheGeneratorAndFakeStepOnlyTheFakeNetworkAndHead() {
        EdmMlpNet teacher = GaussianNets.tinyMlp(22);
        TargetScore target = TargetScore.of(teacher, null);
        // lr_fake = 0 and DI order: the fake step is a no-op, so whatever moves the fake network or head would be the generator step
        EdmMlpNet g = teacher.copy(), f = teacher.copy();
        ScoreDistiller d = new ScoreDistiller(toyConfig(1, 1e-2, 0, false).withGan(0.5, 0.5), g, f, null, RING);
        String g0 = WeightsDigest.of(g.module()), f0 = WeightsDigest.of(f.module()), h0 = WeightsDigest.of(d.ganHead());
        var r = d.iteration(0, target);
        assertFalse(Double.isNaN(r.ganGeneratorLoss()));
        assertNotEquals(g0, WeightsDigest.of(g.module()));
        assertEquals(f0, WeightsDigest.of(f.module()), "the generator step must not change the fake network");
        assertEquals(h0, WeightsDigest.of(d.ganHead()), "nor the head");
        for (Parameter p : f.module().parameters()) assertNull(p.grad(), "the GAN term's gradient in the fake network is cleared");
        for (Parameter p : d.ganHead().parameters()) assertNull(p.grad(), "and in the head");
        // the GAN term reaches the generator: the same step without it moves G elsewhere
        EdmMlpNet g2 = teacher.copy();
        ScoreDistiller noGanG = new ScoreDistiller(toyConfig(1, 1e-2, 0, false).withGan(0, 0.5), g2, teacher.copy(), null, RING);
        noGanG.iteration(0, target);
        assertNotEquals(WeightsDigest.of(g.module()), WeightsDigest.of(g2.module()), "lambda_G > 0 changes the generator's update");

        // r_gen = 2: iteration 1 is a fake step only; it trains the fake network and the head, not the generator
        EdmMlpNet g3 = teacher.copy(), f3 = teacher.copy();
        ScoreDistiller d3 = new ScoreDistiller(toyConfig(2, 1e-2, 1e-2, false).withGan(0.5, 0.5), g3, f3, null, RING);
        d3.iteration(0, target);
        String g30 = WeightsDigest.of(g3.module()), f30 = WeightsDigest.of(f3.module()), h30 = WeightsDigest.of(d3.ganHead());
        var r3 = d3.iteration(1, target);
        assertTrue(Double.isNaN(r3.generatorLoss()) && !Double.isNaN(r3.discriminatorLoss()));
        assertEquals(g30, WeightsDigest.of(g3.module()), "the fake step must not change the generator");
        assertNotEquals(f30, WeightsDigest.of(f3.module()));
        assertNotEquals(h30, WeightsDigest.of(d3.ganHead()), "the discriminator loss trains the head");
        assertTrue(d3.fakeOptimizer().stateDict().keySet().stream().anyMatch(k -> k.startsWith(ScoreDistiller.GAN_HEAD_PREFIX)), "the head is in the fake optimiser");
        assertTrue(d3.state().keySet().containsAll(List.of("gan_real", "gan_sigma", "gan_noise")));
    }

    @Test
    void generatorGanLossGradientThroughFeaturesAndHeadMatchesFiniteDifferences() {
        // L_G_gan(x0) = mean softplus(-head(features(x0 + sigma n; sigma))) for a tiny MLP fake score. The networks' weights are F32,
        // so the check casts the F64 input to F32 and back: the step and tolerances are sized for F32 round-off (~1e-7 relative).
        EdmMlpNet net = GaussianNets.tinyMlp(23);
        GanHead head = GanHead.forNet(net, new Rng(24));
        Rng rng = new Rng(25);
        double[] sigma = {0.2, 0.6, 1.5};
        Tensor n = Tensor.randn(rng, DType.F32, 3, 2).mul(EdmDenoiserNet.perSample(sigma, Tensor.zeros(DType.F32, 3, 2)));
        Tensor x0 = Tensor.randn(rng, DType.F64, 3, 2);
        GradCheck.check("L_G_gan through head and features", v -> GanHead.generatorLoss(head.forward(net.features(v[0].to(DType.F32).add(Variable.constant(n)), sigma, null))).to(DType.F64),
                new Tensor[]{x0}, new boolean[]{true}, new GradCheck.Tolerance(1e-2, 2e-4, 2e-2), 26);
    }

    @Test
    void discriminatorLearnsToTellRingSamplesFromAShiftedGaussian() {
        EdmMlpNet net = GaussianNets.tinyMlp(27);
        GanHead head = GanHead.forNet(net, new Rng(28));
        Map<String, Parameter> params = new LinkedHashMap<>(net.module().namedParameters());
        head.namedParameters().forEach((k, p) -> params.put("gan_head." + k, p));
        Adam opt = Adam.adam(params, 1e-2, 0.9, 0.999, 1e-8, 0);
        NoiseLevels levels = new NoiseLevels.LogNormal(-1.2, 1.2);
        Rng data = new Rng(29), noise = new Rng(30);
        int b = 64;
        double first = Double.NaN, last = 0;
        int steps = 300, tail = 30;
        for (int s = 0; s < steps; s++) {
            Tensor real = Toy2d.ring8(data, b);
            Tensor fake = Tensor.randn(data, DType.F32, b, 2).mul(0.5).add(1.0); // N((1, 1), 0.25 I)
            Variable lReal = logits(net, head, real, levels, noise), lFake = logits(net, head, fake, levels, noise);
            Variable ld = GanHead.discriminatorLoss(lReal, lFake);
            opt.zeroGrad();
            ld.backward();
            opt.step();
            if (s == 0) first = ld.item();
            if (s >= steps - tail) last += ld.item() / tail;
        }
        assertEquals(2 * Math.log(2), first, 0.3, "an untrained head is near chance");
        assertTrue(last < 0.75 * first, "L_D fell from " + first + " to " + last);
    }

    private static Variable logits(EdmMlpNet net, GanHead head, Tensor x, NoiseLevels levels, Rng rng) {
        double[] sigma = levels.sample(rng, x.size(0));
        Tensor xt = x.add(Tensor.randn(rng, DType.F32, x.shape()).mul(EdmDenoiserNet.perSample(sigma, x)));
        return head.forward(net.features(Variable.constant(xt), sigma, null));
    }
}
