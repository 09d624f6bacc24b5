package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.distill.teacher.MlpDenoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class DdpmEpsNetTest {
    static final int T = 1000;
    static final NoiseSchedule DDPM = NoiseSchedule.linear(T, 1e-4, 0.02);

    /** abar_t = prod_{i <= t} (1 - beta_i) with DDPM's linear betas, written out here rather than taken from NoiseSchedule. */
    static double alphaBarByHand(int t) {
        double p = 1;
        for (int i = 0; i <= t; i++) p *= 1 - (1e-4 + (0.02 - 1e-4) * i / (T - 1));
        return p;
    }

    static DdpmEpsNet tinyUNet(int classes) {
        var cfg = EdmUNetNet.smallConfig(2, 8, List.of(8, 8), 1, true, 4, 4, classes);
        return DdpmEpsNet.unet(new UNet2DModel(cfg, new Rng(5)), DDPM, new EdmPreconditioning(0.5), 8, 8);
    }

    @Test
    void unetAdapterIsXMinusSigmaTimesEpsHatAtGridTimesteps() {
        DdpmEpsNet net = tinyUNet(3);
        int[] grid = {0, 37, 500, 999};
        int b = grid.length, per = 2 * 8 * 8;
        double[] sigma = new double[b];
        for (int i = 0; i < b; i++) {
            double a = alphaBarByHand(grid[i]);
            sigma[i] = Math.sqrt((1 - a) / a);
        }
        long[] labels = {0, 1, 2, 3};   // 3 = the null label
        Tensor x = Tensor.randn(new Rng(1), DType.F32, b, 2, 8, 8).mul(1.5);
        Tensor y = Tensor.ofLongs(labels, b);
        float[] d = net.denoise(Variable.constant(x), sigma, y).value().toFloatArray();
        float[] xs = x.toFloatArray();
        for (int i = 0; i < b; i++) {
            double sqrtA = 1 / Math.sqrt(1 + sigma[i] * sigma[i]);   // abar = 1 / (1 + sigma^2)
            Tensor xt = x.narrow(0, i, 1).contiguous().mul(sqrtA);
            float[] eps = ((UNet2DModel) net.module()).forward(Variable.constant(xt), Tensor.of(new double[]{grid[i]}, 1), Tensor.ofLongs(new long[]{labels[i]}, 1))
                    .value().toFloatArray();
            for (int k = 0; k < per; k++) {
                double expected = xs[i * per + k] - sigma[i] * eps[k];
                assertEquals(expected, d[i * per + k], 1e-4 * (1 + Math.abs(expected)), "t " + grid[i] + " value " + k);
            }
        }
    }

    @Test
    void mlpAdapterFeedsThreeTOverTToTheEmbedding() {
        MlpDenoiser mlp = new MlpDenoiser(12, 16, 2, 8, new Rng(4));
        DdpmEpsNet net = DdpmEpsNet.mlp(mlp, DDPM, new EdmPreconditioning(0.5), 3, 2, 2);
        int t = 250;
        double a = alphaBarByHand(t), sigma = Math.sqrt((1 - a) / a);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 2, 3, 2, 2);
        float[] d = net.denoise(Variable.constant(x), new double[]{sigma, sigma}, null).value().toFloatArray();
        float[] eps = mlp.forward(Variable.constant(x.reshape(2, 12).mul(Math.sqrt(a))), new double[]{3.0 * t / T, 3.0 * t / T}).value().toFloatArray();
        float[] xs = x.toFloatArray();
        for (int k = 0; k < xs.length; k++) assertEquals(xs[k] - sigma * eps[k], d[k], 1e-4 * (1 + Math.abs(d[k])), "value " + k);
    }

    @Test
    void sigmaToTimestepToSigmaIsExactAtGridPoints() {
        for (NoiseSchedule s : List.of(DDPM, NoiseSchedule.scaledLinear(T, 0.00085, 0.012))) {
            for (int t = 0; t < T; t++) {
                double sigma = s.sigma(t);
                double back = s.timestepForSigma(sigma);
                assertEquals(t, back, 1e-6, "timestep of sigma_" + t);
                assertEquals(sigma, s.sigmaAtTimestep(back), 1e-6 * sigma, "sigma of timestep " + t);
                assertEquals(s.alphaBar(t), NoiseSchedule.alphaBarFromSigma(sigma), 1e-6, "abar of sigma_" + t);
            }
            // between grid points the two interpolations are inverse too
            for (double t : new double[]{0.25, 10.5, 998.75}) assertEquals(t, s.timestepForSigma(s.sigmaAtTimestep(t)), 1e-6);
        }
        for (int t : new int[]{0, 1, 499, 999}) assertEquals(alphaBarByHand(t), DDPM.alphaBar(t), 1e-12, "abar_" + t);
    }

    @Test
    void copyHasEqualWeightsAndIndependentStorage() {
        DdpmEpsNet net = tinyUNet(0);
        DdpmEpsNet twin = net.copy();
        assertSame(net.schedule(), twin.schedule());
        Map<String, Tensor> a = net.module().stateDict(), b = twin.module().stateDict();
        assertEquals(a.keySet(), b.keySet());
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 2, 2, 8, 8);
        double[] s = {0.3, 3};
        float[] before = net.denoise(Variable.constant(x), s, null).value().toFloatArray();
        assertArrayEquals(before, twin.denoise(Variable.constant(x), s, null).value().toFloatArray());
        String key = "conv_out.weight";
        b.get(key).copyFrom(b.get(key).add(1f));
        assertArrayEquals(before, net.denoise(Variable.constant(x), s, null).value().toFloatArray(), "changing the copy changed the original");
        MlpDenoiser mlp = new MlpDenoiser(4, 8, 2, 4, new Rng(1));
        DdpmEpsNet m = DdpmEpsNet.mlp(mlp, DDPM, new EdmPreconditioning(0.5), 4);
        Tensor xm = Tensor.randn(new Rng(3), DType.F32, 3, 4);
        double[] sm = {0.05, 1, 40};
        assertArrayEquals(m.denoise(Variable.constant(xm), sm, null).value().toFloatArray(), m.copy().denoise(Variable.constant(xm), sm, null).value().toFloatArray());
    }

    @Test
    void lossIsTheMeanSquaredEpsErrorOnTheVpSample() {
        MlpDenoiser mlp = new MlpDenoiser(3, 8, 2, 4, new Rng(6));
        DdpmEpsNet net = DdpmEpsNet.mlp(mlp, DDPM, new EdmPreconditioning(0.5), 3);
        Tensor x0 = Tensor.randn(new Rng(7), DType.F32, 5, 3);
        double loss = DdpmEpsLoss.loss(net, x0, null, new Rng(8), new Rng(9)).item();
        // the same draws, in the documented order: uniforms of t from the timestep stream, then the noise
        double[] u = Tensor.rand(new Rng(9), DType.F64, 5).toDoubleArray();
        float[] noise = Tensor.randn(new Rng(8), DType.F32, 5, 3).toFloatArray(), x = x0.toFloatArray();
        double se = 0;
        for (int i = 0; i < 5; i++) {
            int t = (int) (u[i] * T);
            double a = alphaBarByHand(t);
            float[] xt = new float[3];
            for (int k = 0; k < 3; k++) xt[k] = (float) (Math.sqrt(a) * x[3 * i + k] + Math.sqrt(1 - a) * noise[3 * i + k]);
            float[] eps = mlp.forward(Variable.constant(Tensor.of(xt, 1, 3)), new double[]{3.0 * t / T}).value().toFloatArray();
            for (int k = 0; k < 3; k++) se += (eps[k] - noise[3 * i + k]) * (eps[k] - noise[3 * i + k]);
        }
        assertEquals(se / 15, loss, 1e-5 * (1 + se / 15));
    }
}
