package dev.distillery.models.vae;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.models.text.ClipTextFixtures;
import dev.distillery.models.unet.Downsample2D;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tiny random-weight AutoencoderKL (block_out_channels [16, 32], 1 layer per block, 8 groups, 16x16 input) against
 * diffusers (classic attention processor, float32), fixtures from {@code /vae/gen_vae_reference.py}: encoder moments,
 * posterior mean / logvar / std, a reparameterised sample, the KL term, the decoded image, and gradients of a fixed
 * functional with respect to parameters and to the input image.
 */
class VaeParityTest {
    static final double RTOL = 1e-4, ATOL = 1e-4;
    private static final Map<String, Tensor> IO = ClipTextFixtures.safetensors("/vae/tiny-vae-io.safetensors");

    private static AutoencoderKL tinyVae() {
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.parse(ClipTextFixtures.text("/vae/tiny-vae.config.json")), new Rng(5));
        vae.loadStateDict(ClipTextFixtures.safetensors("/vae/tiny-vae.safetensors"), true);
        return vae;
    }

    private static double maxAbsDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    private static void close(String key, Tensor actual, double rtol, double atol) {
        Tensor expected = IO.get(key);
        System.out.printf("[vae parity] %-60s max |diff| %.2e (max |ref| %.2f)%n", key, maxAbsDiff(expected, actual),
                expected.abs().max().item());
        assertClose(expected, actual, rtol, atol, key);
    }

    @Test
    void encodeDecodeAndGradientsMatchDiffusers() {
        AutoencoderKL vae = tinyVae();
        Variable x = Variable.leaf(IO.get("x").copy());
        Variable moments = vae.quantConv.forward(vae.encoder.forward(x));
        DiagonalGaussian posterior = vae.encode(x);
        close("moments", moments.value(), RTOL, ATOL);
        close("mean", posterior.mean.value(), RTOL, ATOL);
        close("logvar", posterior.logvar.value(), RTOL, ATOL);
        close("std", posterior.std.value(), RTOL, ATOL);
        close("sample", posterior.sample(IO.get("noise")).value(), RTOL, ATOL);
        close("kl", posterior.kl().value(), RTOL, 1e-3);
        Variable decoded = vae.decode(posterior.mode());
        assertArrayEquals(new int[]{2, 3, 16, 16}, decoded.shape());
        close("decoded", decoded.value(), RTOL, ATOL);

        Variable loss = decoded.mul(Variable.constant(IO.get("g_dec"))).sum()
                .add(posterior.mean.mul(Variable.constant(IO.get("g_mean"))).sum())
                .add(posterior.logvar.mul(Variable.constant(IO.get("g_logvar"))).sum());
        close("loss", loss.value().reshape(1), RTOL, 1e-3);
        loss.backward();
        close("grad.x", x.grad(), RTOL, ATOL);
        Map<String, Parameter> params = vae.namedParameters();
        int checked = 0;
        for (String k : IO.keySet()) {
            if (!k.startsWith("grad.") || k.equals("grad.x")) continue;
            Parameter p = params.get(k.substring(5));
            assertTrue(p != null && p.grad() != null, k);
            close(k, p.grad(), RTOL, 2 * ATOL);
            checked++;
        }
        assertEquals(9, checked);
    }

    @Test
    void latentScalingUsesScaleAndShift() {
        AutoencoderKL vae = tinyVae();
        Tensor z = Tensor.randn(new Rng(1), DType.F32, 1, 4, 2, 2);
        Tensor scaled = vae.scaleLatents(Variable.constant(z)).value();
        assertClose(z.sub(0.0609).mul(0.13025), scaled, 1e-6, 1e-7, "(z - shift) * scale");
        assertClose(z, vae.unscaleLatents(Variable.constant(scaled)).value(), 1e-5, 1e-6, "round trip");
        try (var ignored = NoGrad.enter()) {
            Variable x = Variable.constant(IO.get("x"));
            Tensor viaLatents = vae.decodeLatents(vae.encodeLatents(x, null)).value();
            assertClose(IO.get("decoded"), viaLatents, RTOL, ATOL, "decodeLatents(encodeLatents(x)) = decode(mode)");
            Tensor scaledMean = vae.scaleLatents(Variable.constant(IO.get("mean"))).value();
            assertClose(scaledMean, vae.encodeLatents(x, null).value(), RTOL, ATOL, "encodeLatents without rng: scaled mode");
        }
        AutoencoderKL withStats = new AutoencoderKL(AutoencoderKLConfig.parse("{\"block_out_channels\": [8], \"norm_num_groups\": 4,"
                + " \"latent_channels\": 2, \"scaling_factor\": 0.5, \"latents_mean\": [1, -1], \"latents_std\": [2, 4]}"), new Rng(0));
        Tensor z2 = Tensor.of(new float[]{3, 3}, 1, 2, 1, 1);
        assertArrayEquals(new float[]{0.5f, 0.5f}, withStats.scaleLatents(Variable.constant(z2)).value().toFloatArray(), 1e-6f);
        assertArrayEquals(new float[]{3, 3}, withStats.unscaleLatents(Variable.constant(Tensor.of(new float[]{0.5f, 0.5f}, 1, 2, 1, 1)))
                .value().toFloatArray(), 1e-6f);
    }

    @Test
    void downsamplerPadsRightAndBottom() {
        Downsample2D d = new Downsample2D(1, 1, 0, new Rng(0));
        d.conv.weight.value().copyFrom(Tensor.ones(DType.F32, 1, 1, 3, 3));
        d.conv.bias.value().copyFrom(Tensor.zeros(DType.F32, 1));
        Tensor x = Tensor.ones(DType.F32, 1, 1, 4, 4);
        // Windows at rows/cols {0,1,2} and {2,3,pad}: 9, 6 / 6, 4 ones.
        assertEquals(List.of(9.0, 6.0, 6.0, 4.0), java.util.Arrays.stream(d.forward(Variable.constant(x)).value().toDoubleArray()).boxed().toList());
    }
}
