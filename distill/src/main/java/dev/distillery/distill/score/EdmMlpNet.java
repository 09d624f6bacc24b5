package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.distill.teacher.MlpDenoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * An {@link MlpDenoiser} with EDM preconditioning: {@code D(x; sigma) = c_skip x + c_out F(c_in x, c_noise)}
 * (spec disback.md §2.2), per-sample sigma. Samples of any shape are flattened to {@code dim} values; the MLP ignores
 * conditioning (a non-null {@code cond} is an error, so a class-conditional call cannot silently drop its labels).
 */
public final class EdmMlpNet implements EdmDenoiserNet {
    private final MlpDenoiser net;
    private final EdmPreconditioning pre;
    private final int[] sampleShape;

    public EdmMlpNet(MlpDenoiser net, EdmPreconditioning pre, int... sampleShape) {
        long n = 1;
        for (int d : sampleShape) n *= d;
        if (n != net.dim()) throw new IllegalArgumentException("EdmMlpNet: sample shape " + java.util.Arrays.toString(sampleShape) + " has " + n + " values, the MLP takes " + net.dim());
        this.net = net;
        this.pre = pre;
        this.sampleShape = sampleShape.clone();
    }

    /** A 2-D toy denoiser. */
    public EdmMlpNet(MlpDenoiser net, EdmPreconditioning pre) {
        this(net, pre, net.dim());
    }

    public MlpDenoiser mlp() {
        return net;
    }

    @Override public Module module() { return net; }
    @Override public EdmPreconditioning preconditioning() { return pre; }
    @Override public int[] sampleShape() { return sampleShape.clone(); }

    @Override
    public Variable denoise(Variable x, double[] sigma, Tensor cond) {
        Coefficients c = coefficients(x, sigma, cond);
        Variable flat = x.reshape(c.b, net.dim());
        Variable f = net.forward(flat.mul(Variable.constant(EdmDenoiserNet.perSample(c.cIn, flat.value()))), c.cNoise);
        Variable d = flat.mul(Variable.constant(EdmDenoiserNet.perSample(c.cSkip, flat.value()))).add(f.mul(Variable.constant(EdmDenoiserNet.perSample(c.cOut, flat.value()))));
        return d.reshape(x.shape());
    }

    /** The MLP's last hidden activation [B, width] at the input {@link #denoise} gives it: {@code c_in x} and c_noise. */
    @Override
    public Variable features(Variable x, double[] sigma, Tensor cond) {
        Coefficients c = coefficients(x, sigma, cond);
        Variable flat = x.reshape(c.b, net.dim());
        return net.hidden(flat.mul(Variable.constant(EdmDenoiserNet.perSample(c.cIn, flat.value()))), c.cNoise);
    }

    private record Coefficients(int b, double[] cSkip, double[] cOut, double[] cIn, double[] cNoise) {}

    /** Checks the arguments of a pass and computes the per-sample preconditioning. */
    private Coefficients coefficients(Variable x, double[] sigma, Tensor cond) {
        if (cond != null) throw new IllegalArgumentException("EdmMlpNet is unconditional; got conditioning of shape " + java.util.Arrays.toString(cond.shape()));
        int b = x.size(0);
        if (sigma.length != b) throw new IllegalArgumentException("denoise: " + sigma.length + " sigmas for a batch of " + b);
        double[] cSkip = new double[b], cOut = new double[b], cIn = new double[b], cNoise = new double[b];
        for (int i = 0; i < b; i++) {
            double s = sigma[i];
            if (!(s > 0)) throw new IllegalArgumentException("denoise: sigma[" + i + "] = " + s + " (must be > 0)");
            cSkip[i] = pre.cSkip(s);
            cOut[i] = pre.cOut(s);
            cIn[i] = pre.cIn(s);
            cNoise[i] = pre.cNoise(s);
        }
        return new Coefficients(b, cSkip, cOut, cIn, cNoise);
    }

    @Override
    public EdmMlpNet copy() {
        MlpDenoiser twin = net.sameShape(new Rng(0));
        twin.loadStateDict(net.stateDict(), true);
        return new EdmMlpNet(twin, pre, sampleShape);
    }
}
