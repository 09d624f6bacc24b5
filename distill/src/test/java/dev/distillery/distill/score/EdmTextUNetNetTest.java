package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.distill.text.TextFixtures;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.models.unet.UNet2DConditionModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** EdmTextUNetNet's two parameterisations against direct UNet calls, its checks and its copy. */
class EdmTextUNetNetTest {
    static final int B = 3, L = 5;

    static Tensor x(long seed) {
        return Tensor.randn(new Rng(seed), DType.F32, B, TextFixtures.CHANNELS, TextFixtures.SIZE, TextFixtures.SIZE);
    }

    static Tensor context(long seed) {
        return Tensor.randn(new Rng(seed), DType.F32, B, L, TextFixtures.CONTEXT);
    }

    /** F for one sample i at timestep t: a batch-1 call, so per-sample sigma is checked against independent calls. */
    static Tensor raw(UNet2DConditionModel unet, Tensor in, double t, Tensor ctx, int i) {
        try (var g = NoGrad.enter()) {
            return unet.forward(Variable.constant(in.narrow(0, i, 1).contiguous()), Tensor.of(new double[]{t}, 1),
                    Variable.constant(ctx.narrow(0, i, 1).contiguous())).value();
        }
    }

    static Tensor denoise(EdmDenoiserNet net, Tensor x, double[] sigma, Tensor ctx) {
        try (var g = NoGrad.enter()) {
            return net.denoise(Variable.constant(x), sigma, ctx).value();
        }
    }

    static void close(Tensor want, Tensor got, double tol, String what) {
        double scale = Math.max(1e-3, want.abs().max().item());
        double err = want.sub(got).abs().max().item();
        assertTrue(err <= tol * scale, what + ": max |diff| " + err + " (scale " + scale + ")");
    }

    @Test
    void edmFormIsCSkipXPlusCOutTimesTheUNetAtScaledLogSigma() {
        EdmTextUNetNet net = TextFixtures.edmNet(1);
        EdmPreconditioning pre = net.preconditioning();
        double scale = ((EdmTextUNetNet.Parameterization.Edm) net.parameterization()).cNoiseScale();
        Tensor xs = x(2), ctx = context(3);
        double[] sigma = {0.05, 1.3, 40};
        Tensor d = denoise(net, xs, sigma, ctx);
        for (int i = 0; i < B; i++) {
            double s = sigma[i];
            Tensor f = raw(net.unet(), xs.mul(pre.cIn(s)), scale * Math.log(s) / 4, ctx, i);
            Tensor want = xs.narrow(0, i, 1).mul(pre.cSkip(s)).add(f.mul(pre.cOut(s)));
            close(want, d.narrow(0, i, 1), 1e-5, "sample " + i + " at sigma " + s);
        }
        assertEquals(0, net.classes(), "text nets have no class labels");
    }

    @Test
    void vpFormsUseTheExactVeVpConversionAtTrainingTimesteps() {
        NoiseSchedule schedule = NoiseSchedule.scaledLinear(1000, 0.00085, 0.012);
        UNet2DConditionModel unet = TextFixtures.unet(4);
        Tensor xs = x(5), ctx = context(6);
        int[] steps = {0, 417, 999};
        double[] sigma = new double[B];
        for (int i = 0; i < B; i++) sigma[i] = schedule.sigma(steps[i]);
        for (PredictionType type : new PredictionType[]{PredictionType.EPSILON, PredictionType.V_PREDICTION}) {
            EdmTextUNetNet net = new EdmTextUNetNet(unet, new EdmPreconditioning(0.5), new EdmTextUNetNet.Parameterization.Vp(schedule, type),
                    TextFixtures.SIZE, TextFixtures.SIZE);
            Tensor d = denoise(net, xs, sigma, ctx);
            for (int i = 0; i < B; i++) {
                double abar = schedule.alphaBar(steps[i]); // the schedule's own alpha_bar_t, not the conversion's formula
                Tensor xi = xs.narrow(0, i, 1);
                Tensor out = raw(unet, xs.mul(Math.sqrt(abar)), steps[i], ctx, i); // t(sigma_t) = t exactly
                Tensor want = type == PredictionType.EPSILON
                        ? xi.sub(out.mul(sigma[i]))
                        : xi.mul(abar).sub(out.mul(Math.sqrt(1 - abar)));
                close(want, d.narrow(0, i, 1), 1e-4, type + " at t = " + steps[i]);
            }
        }
    }

    @Test
    void conditioningAndShapesAreCheckedWithClearMessages() {
        EdmTextUNetNet net = TextFixtures.edmNet(7);
        double[] sigma = {1, 1, 1};
        Tensor xs = x(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> denoise(net, xs, sigma, null));
        assertTrue(e.getMessage().contains("text-conditional"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> denoise(net, xs, sigma, Tensor.zeros(DType.F32, B, L, 7)));
        assertTrue(e.getMessage().contains("prompt embeddings") && e.getMessage().contains("[3, 5, 7]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> denoise(net, xs, sigma, Tensor.ofLongs(new long[]{0, 1, 2}, 3)));
        assertTrue(e.getMessage().contains("prompt embeddings"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> denoise(net, xs, new double[]{1, 0, 1}, context(9)));
        assertTrue(e.getMessage().contains("sigma[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> denoise(net, xs, new double[]{1, 1}, context(9)));
        assertTrue(e.getMessage().contains("2 sigmas for a batch of 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new EdmTextUNetNet(net.unet(), net.preconditioning(), net.parameterization(), 7, 8));
        assertTrue(e.getMessage().contains("divisible by 2"), e.getMessage());
    }

    @Test
    void copyHasTheSameOutputsAndItsOwnStorage() {
        EdmTextUNetNet net = TextFixtures.edmNet(10);
        String digest = WeightsDigest.of(net.module());
        EdmTextUNetNet copy = net.copy();
        assertEquals(net.parameterization(), copy.parameterization());
        assertNotSame(net.module(), copy.module());
        Tensor xs = x(11), ctx = context(12);
        double[] sigma = {0.3, 2, 9};
        Tensor before = denoise(net, xs, sigma, ctx);
        assertEquals(0, before.sub(denoise(copy, xs, sigma, ctx)).abs().max().item(), "a copy computes the same D bit for bit");
        Map<String, Tensor> other = new LinkedHashMap<>(TextFixtures.unet(99).stateDict());
        copy.module().loadStateDict(other, true);
        assertNotEquals(0, before.sub(denoise(copy, xs, sigma, ctx)).abs().max().item(), "the copy took the new weights");
        assertEquals(digest, WeightsDigest.of(net.module()), "changing the copy leaves the original's weights alone (no shared storage)");
        assertEquals(0, before.sub(denoise(net, xs, sigma, ctx)).abs().max().item());
    }
}
