package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.distill.teacher.MlpDenoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/** Small networks with known optima for the score-distillation tests (1-D samples, shape [B, 1]). */
public final class GaussianNets {
    private GaussianNets() {}

    /** A random-init MLP denoiser on 2-D points (a stand-in teacher; its weights need not be trained for bit-equality tests). */
    public static EdmMlpNet tinyMlp(long seed) {
        return new EdmMlpNet(new MlpDenoiser(16, 2, 4, new Rng(seed)), new EdmPreconditioning(1.0));
    }

    /**
     * The exact denoiser of Gaussian data N(mu, v): {@code D(x; s) = mu + v / (v + s^2) (x - mu)} with trainable
     * {@code mu} and {@code log v}. Fitted by DSM to samples of N(m, w) its optimum is mu = m, v = w.
     */
    public static final class GaussianScoreNet implements EdmDenoiserNet {
        final Module module;
        final Parameter mu, logVar;

        public GaussianScoreNet(double mu, double var) {
            Parameter[] p = new Parameter[2];
            module = new Module() {
                {
                    p[0] = parameter("mu", Tensor.of(new double[]{mu}, 1).to(DType.F32));
                    p[1] = parameter("log_var", Tensor.of(new double[]{Math.log(var)}, 1).to(DType.F32));
                }
            };
            this.mu = p[0];
            this.logVar = p[1];
        }

        public double mu() { return mu.value().item(); }
        public double var() { return Math.exp(logVar.value().item()); }

        @Override public Module module() { return module; }
        @Override public EdmPreconditioning preconditioning() { return new EdmPreconditioning(1.0); }
        @Override public int[] sampleShape() { return new int[]{1}; }

        @Override
        public Variable denoise(Variable x, double[] sigma, Tensor cond) {
            double[] s2 = new double[sigma.length];
            for (int i = 0; i < s2.length; i++) s2[i] = sigma[i] * sigma[i];
            Variable v = logVar.exp();
            Variable gain = v.div(v.add(Variable.constant(EdmDenoiserNet.perSample(s2, x.value()))));
            return mu.add(gain.mul(x.sub(mu)));
        }

        @Override
        public GaussianScoreNet copy() {
            return new GaussianScoreNet(mu(), var());
        }
    }

    /** The affine one-step generator G(z) = a z + b, as a denoiser called at (sigma_init z; sigma_init). */
    public static final class AffineGenerator implements EdmDenoiserNet {
        final Module module;
        final Parameter a, b;

        public AffineGenerator(double a, double b) {
            Parameter[] p = new Parameter[2];
            module = new Module() {
                {
                    p[0] = parameter("a", Tensor.of(new double[]{a}, 1).to(DType.F32));
                    p[1] = parameter("b", Tensor.of(new double[]{b}, 1).to(DType.F32));
                }
            };
            this.a = p[0];
            this.b = p[1];
        }

        public double a() { return a.value().item(); }
        public double b() { return b.value().item(); }

        @Override public Module module() { return module; }
        @Override public EdmPreconditioning preconditioning() { return new EdmPreconditioning(1.0); }
        @Override public int[] sampleShape() { return new int[]{1}; }

        @Override
        public Variable denoise(Variable x, double[] sigma, Tensor cond) {
            return x.div(sigma[0]).mul(a).add(b);
        }

        @Override
        public AffineGenerator copy() {
            return new AffineGenerator(a(), b());
        }
    }
}
