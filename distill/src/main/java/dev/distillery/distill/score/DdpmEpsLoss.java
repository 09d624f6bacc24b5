package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * The DDPM training loss (Ho et al. 2020, Algorithm 1, "L_simple"): per sample a timestep {@code t ~ U{0, ..., T-1}},
 * {@code x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps} with {@code eps ~ N(0, I)} and abar of the net's
 * {@link NoiseSchedule}, and {@code L = mean_{b,i} (eps_hat(x_t, t) - eps)^2}. The uniforms of t are drawn first (F64,
 * one per sample, from {@code timestepRng}), then the noise (F32, the shape of x0, from {@code noiseRng}), as
 * {@link EdmLoss} draws ln sigma and then the noise.
 */
public final class DdpmEpsLoss {
    private DdpmEpsLoss() {}

    /** The loss as a graph node (call {@code backward()} on it); gradients flow to the net's parameters. */
    public static Variable loss(DdpmEpsNet net, Tensor x0, Tensor cond, Rng noiseRng, Rng timestepRng) {
        int b = x0.size(0);
        NoiseSchedule schedule = net.schedule();
        int steps = schedule.numTrainTimesteps();
        double[] u = Tensor.rand(timestepRng, DType.F64, b).toDoubleArray();
        double[] t = new double[b], signalScale = new double[b], noiseScale = new double[b];
        for (int i = 0; i < b; i++) {
            int ti = Math.min((int) Math.floor(u[i] * steps), steps - 1);
            double alphaBar = schedule.alphaBar(ti);
            t[i] = ti;
            signalScale[i] = Math.sqrt(alphaBar);
            noiseScale[i] = Math.sqrt(1 - alphaBar);
        }
        Tensor noise = Tensor.randn(noiseRng, DType.F32, x0.shape()).to(x0.device()); // drawn on the host: the same stream on every device
        Tensor xt = x0.mul(EdmDenoiserNet.perSample(signalScale, x0)).add(noise.mul(EdmDenoiserNet.perSample(noiseScale, x0)));
        Variable epsHat = net.predictEps(Variable.constant(xt), t, cond);
        return epsHat.sub(Variable.constant(noise)).square().mean();
    }
}
