package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class EdmUNetNetTest {
    static final double SIGMA_DATA = 0.5, SCALE = 250;

    /** A 2-level, 8-channel UNet with attention at the 4x4 level and 3 classes (+ null label). */
    static EdmUNetNet tiny(int classes) {
        var cfg = EdmUNetNet.smallConfig(2, 8, List.of(8, 8), 1, true, 4, 4, classes);
        return new EdmUNetNet(new UNet2DModel(cfg, new Rng(5)), new EdmPreconditioning(SIGMA_DATA), SCALE, 8, 8);
    }

    @Test
    void denoiseIsThePreconditionedUNet() {
        EdmUNetNet net = tiny(3);
        double[] sigma = {0.01, 0.7, 30};
        long[] labels = {0, 2, 3};   // 3 = the null label
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 3, 2, 8, 8);
        Tensor y = Tensor.ofLongs(labels, 3);
        float[] d = net.denoise(Variable.constant(x), sigma, y).value().toFloatArray();
        float[] xs = x.toFloatArray();
        int per = 2 * 8 * 8;
        for (int i = 0; i < 3; i++) {
            double s = sigma[i], sd = SIGMA_DATA;
            // EDM Table 1, written out independently of EdmPreconditioning
            double cSkip = sd * sd / (s * s + sd * sd), cOut = s * sd / Math.sqrt(s * s + sd * sd), cIn = 1 / Math.sqrt(s * s + sd * sd);
            double t = SCALE * Math.log(s) / 4;
            Tensor xi = x.narrow(0, i, 1).contiguous();
            float[] f = net.unet().forward(Variable.constant(xi.mul(cIn)), Tensor.of(new double[]{t}, 1), Tensor.ofLongs(new long[]{labels[i]}, 1))
                    .value().toFloatArray();
            for (int k = 0; k < per; k++) {
                double expected = cSkip * xs[i * per + k] + cOut * f[k];
                assertEquals(expected, d[i * per + k], 1e-4 * (1 + Math.abs(expected)), "sample " + i + " value " + k);
            }
        }
        // at sigma -> 0 the denoiser is the identity (c_skip -> 1, c_out -> 0)
        float[] d0 = net.denoise(Variable.constant(x), new double[]{1e-5, 1e-5, 1e-5}, y).value().toFloatArray();
        for (int k = 0; k < xs.length; k++) assertEquals(xs[k], d0[k], 1e-3);
    }

    @Test
    void copyHasEqualWeightsAndIndependentStorage() {
        EdmUNetNet net = tiny(0);
        EdmUNetNet twin = net.copy();
        Map<String, Tensor> a = net.module().stateDict(), b = twin.module().stateDict();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        assertEquals(net.cNoiseScale(), twin.cNoiseScale());
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 2, 2, 8, 8);
        double[] s = {0.3, 3};
        float[] before = net.denoise(Variable.constant(x), s, null).value().toFloatArray();
        assertArrayEquals(before, twin.denoise(Variable.constant(x), s, null).value().toFloatArray());
        String key = "conv_out.weight";
        float old = a.get(key).toFloatArray()[0];
        b.get(key).copyFrom(b.get(key).add(1f));
        assertEquals(old, net.module().stateDict().get(key).toFloatArray()[0], "changing the copy changed the original");
        assertArrayEquals(before, net.denoise(Variable.constant(x), s, null).value().toFloatArray());
    }

    @Test
    void gradientsFlowToTheInputAndTheWeights() {
        EdmUNetNet net = tiny(3);
        Variable x = Variable.leaf(Tensor.randn(new Rng(3), DType.F32, 2, 2, 8, 8));
        Variable d = net.denoise(x, new double[]{0.5, 2}, Tensor.ofLongs(new long[]{1, 3}, 2));
        d.square().mean().backward();
        assertNotNull(x.grad());
        double norm = 0;
        for (float g : x.grad().toFloatArray()) {
            assertTrue(Float.isFinite(g));
            norm += g * g;
        }
        assertTrue(norm > 0, "zero input gradient");
        assertNotNull(net.unet().convIn.weight.grad(), "no gradient reached conv_in");
    }

    @Test
    void labelsAreChecked() {
        EdmUNetNet cond = tiny(3), uncond = tiny(0);
        assertEquals(3, cond.classes());
        assertEquals(3, cond.nullLabel());
        assertEquals(4, cond.unet().config.numClassEmbeds());
        Variable x = Variable.constant(Tensor.zeros(DType.F32, 1, 2, 8, 8));
        double[] s = {1};
        assertThrows(IllegalArgumentException.class, () -> cond.denoise(x, s, null));
        var bad = assertThrows(IllegalArgumentException.class, () -> cond.denoise(x, s, Tensor.ofLongs(new long[]{4}, 1)));
        assertTrue(bad.getMessage().contains("label 4"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> uncond.denoise(x, s, Tensor.ofLongs(new long[]{0}, 1)));
        assertThrows(IllegalArgumentException.class, () -> cond.denoise(x, new double[]{0}, Tensor.ofLongs(new long[]{0}, 1)));
        assertThrows(IllegalStateException.class, uncond::nullLabel);
    }
}
