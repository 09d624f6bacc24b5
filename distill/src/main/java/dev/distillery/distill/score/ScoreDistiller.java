package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.autograd.optim.GradClip;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The score-distillation core (spec disback.md §2.4-2.5): a one-step generator G_eta and a fake score s_phi fitted
 * to G's samples, with the generator pulled along {@code s_phi - s_target}. On its own, with the teacher as the
 * target and the fake score initialised from the teacher, this is the baseline (Diff-Instruct/VSD or DMD2 without
 * GAN); DisBack changes only the target and the fake score's initial weights.
 *
 * <p>One {@link #iteration} k:
 * <ul>
 *   <li>DI order ({@code generatorFirst = false}): fake step on fresh samples, then (if k mod r_gen = 0) a generator step on fresh z.</li>
 *   <li>DMD2 order: (if k mod r_gen = 0) generator step, then the fake step on that step's detached x0 (fresh
 *       samples when the generator did not step).</li>
 * </ul>
 * Generator step: {@code x0 = G(z)}, {@code x_t = sg(x0) + sigma eps}, both denoisers evaluated under
 * {@link NoGrad} at x_t (classifier-free guidance, if any, is part of the {@link TargetScore}; the fake score never
 * gets it), {@link GeneratorLoss} backpropagated into G only, clip, Adam step, EMA update.
 * Fake step: {@link DenoisingScoreMatching} on {@code sg(x0)}, clip, Adam step. Neither step can change the other
 * network, the target or the teacher: the only graph built is G's (generator step) or s_phi's (fake step), and each
 * optimiser holds only its own network's parameters.
 *
 * <p>Random streams (latents, noise levels, noise, conditioning) are forks of {@link DistillConfig#seed()}, saved
 * and restored with {@link #state()} / {@link #restore} so a resumed run continues bit for bit.
 *
 * <p>Devices: both networks must already be where they are to train (move them with {@code module().to(device)}
 * before constructing this, which makes the optimisers and the EMA); latents, noise and conditioning are drawn on
 * the host exactly as on the CPU and moved to the networks' device.
 */
public final class ScoreDistiller {
    /** Draws the conditioning of a batch (class labels, prompt embeddings) on the host; see {@link Conditioning}. */
    @FunctionalInterface
    public interface ConditionSampler {
        Tensor sample(Rng rng, int n);
    }

    /** What one iteration did: losses are NaN for a step that did not run. */
    public record IterationResult(double generatorLoss, double fakeLoss, double generatorGradNorm, double fakeGradNorm) {}

    private static final long LATENT_STREAM = 11, GEN_SIGMA_STREAM = 12, GEN_NOISE_STREAM = 13, FAKE_SIGMA_STREAM = 14, FAKE_NOISE_STREAM = 15, COND_STREAM = 16;
    private final DistillConfig cfg;
    private final OneStepGenerator generator;
    private final EdmDenoiserNet fake;
    private final ConditionSampler conditions;
    private final Adam generatorOpt, fakeOpt;
    private final Ema ema;
    private Rng latentRng, genSigmaRng, genNoiseRng, fakeSigmaRng, fakeNoiseRng, condRng;

    /**
     * @param generatorNet the generator's network (its weights are trained in place; usually a copy of the teacher)
     * @param fake         the fake score network (trained in place; the teacher's copy for the baseline, P[N] for DisBack)
     * @param conditions   conditioning sampler, or null when unconditional
     */
    public ScoreDistiller(DistillConfig cfg, EdmDenoiserNet generatorNet, EdmDenoiserNet fake, ConditionSampler conditions) {
        if (generatorNet.module() == fake.module()) throw new IllegalArgumentException("generator and fake score must be different networks");
        this.cfg = cfg;
        this.generator = new OneStepGenerator(generatorNet, cfg.sigmaInit());
        this.fake = fake;
        this.conditions = conditions;
        this.generatorOpt = Adam.adamW(generatorNet.module().namedParameters(), cfg.lrGenerator(), cfg.beta1(), cfg.beta2(), 1e-8, cfg.weightDecay());
        this.fakeOpt = Adam.adamW(fake.module().namedParameters(), cfg.lrFake(), cfg.beta1(), cfg.beta2(), 1e-8, cfg.weightDecay());
        this.ema = new Ema(generatorNet.module(), cfg.emaDecay());
        Rng base = new Rng(cfg.seed());
        latentRng = base.fork(LATENT_STREAM);
        genSigmaRng = base.fork(GEN_SIGMA_STREAM);
        genNoiseRng = base.fork(GEN_NOISE_STREAM);
        fakeSigmaRng = base.fork(FAKE_SIGMA_STREAM);
        fakeNoiseRng = base.fork(FAKE_NOISE_STREAM);
        condRng = base.fork(COND_STREAM);
    }

    public OneStepGenerator generator() { return generator; }
    public EdmDenoiserNet fake() { return fake; }
    public Ema ema() { return ema; }
    public Adam generatorOptimizer() { return generatorOpt; }
    public Adam fakeOptimizer() { return fakeOpt; }
    public DistillConfig config() { return cfg; }

    /** Iteration {@code k} (0-based) against {@code target}. */
    public IterationResult iteration(long k, TargetScore target) {
        boolean genStep = k % cfg.generatorEvery() == 0;
        double gl = Double.NaN, fl, gn = Double.NaN, fn;
        if (cfg.generatorFirst()) {
            Tensor x0 = null, cond = null;
            if (genStep) {
                GeneratorStep s = generatorStep(target);
                x0 = s.x0;
                cond = s.cond;
                gl = s.loss;
                gn = s.gradNorm;
            }
            if (x0 == null) {
                cond = drawConditions();
                x0 = generator.sample(generator.latents(latentRng, cfg.batchSize()), cond);
            }
            double[] f = fakeStep(x0, cond);
            fl = f[0];
            fn = f[1];
        } else {
            Tensor cond = drawConditions();
            Tensor x0 = generator.sample(generator.latents(latentRng, cfg.batchSize()), cond);
            double[] f = fakeStep(x0, cond);
            fl = f[0];
            fn = f[1];
            if (genStep) {
                GeneratorStep s = generatorStep(target);
                gl = s.loss;
                gn = s.gradNorm;
            }
        }
        return new IterationResult(gl, fl, gn, fn);
    }

    private record GeneratorStep(Tensor x0, Tensor cond, double loss, double gradNorm) {}

    private Tensor drawConditions() {
        return conditions == null ? null : conditions.sample(condRng, cfg.batchSize()).to(fake.device()); // drawn on the host
    }

    private GeneratorStep generatorStep(TargetScore target) {
        Tensor cond = drawConditions();
        Tensor z = generator.latents(latentRng, cfg.batchSize());
        generatorOpt.zeroGrad();
        Variable x0 = generator.generate(z, cond);
        int b = cfg.batchSize();
        double[] sigma = cfg.generatorNoise().sample(genSigmaRng, b);
        Tensor eps = Tensor.randn(genNoiseRng, DType.F32, x0.shape()).to(x0.value().device()); // drawn on the host
        Tensor xt = x0.value().add(eps.mul(EdmDenoiserNet.perSample(sigma, x0.value())));
        Tensor dFake, dTarget;
        try (var g = NoGrad.enter()) {
            dFake = fake.denoise(Variable.constant(xt), sigma, cond).value();
        }
        dTarget = target.denoise(xt, sigma, cond);
        Variable loss = cfg.generatorLoss().loss(x0, dFake, dTarget);
        loss.backward();
        double norm = clip(generator.net().module().trainableParameters());
        generatorOpt.step();
        generatorOpt.zeroGrad();
        try (var g = NoGrad.enter()) {
            ema.update();
        }
        return new GeneratorStep(x0.value(), cond, loss.item(), norm);
    }

    private double[] fakeStep(Tensor x0, Tensor cond) {
        double[] sigma = cfg.fakeNoise().sample(fakeSigmaRng, x0.size(0));
        Tensor n = Tensor.randn(fakeNoiseRng, DType.F32, x0.shape()).to(x0.device()); // drawn on the host
        fakeOpt.zeroGrad();
        Variable loss = DenoisingScoreMatching.loss(fake, x0, cond, sigma, n);
        loss.backward();
        double norm = clip(fake.module().trainableParameters());
        fakeOpt.step();
        fakeOpt.zeroGrad();
        return new double[]{loss.item(), norm};
    }

    private double clip(java.util.List<dev.distillery.autograd.nn.Parameter> params) {
        return GradClip.clipGradNorm(params, cfg.gradClip() > 0 ? cfg.gradClip() : Double.POSITIVE_INFINITY);
    }

    /** The random streams by name, for checkpoints. */
    public Map<String, Rng> state() {
        Map<String, Rng> m = new LinkedHashMap<>();
        m.put("latent", latentRng);
        m.put("gen_sigma", genSigmaRng);
        m.put("gen_noise", genNoiseRng);
        m.put("fake_sigma", fakeSigmaRng);
        m.put("fake_noise", fakeNoiseRng);
        m.put("cond", condRng);
        return m;
    }

    /** Restores the streams saved by {@link #state()}. */
    public void restore(Map<String, Rng> rngs) {
        latentRng = need(rngs, "latent");
        genSigmaRng = need(rngs, "gen_sigma");
        genNoiseRng = need(rngs, "gen_noise");
        fakeSigmaRng = need(rngs, "fake_sigma");
        fakeNoiseRng = need(rngs, "fake_noise");
        condRng = need(rngs, "cond");
    }

    private static Rng need(Map<String, Rng> m, String k) {
        Rng r = m.get(k);
        if (r == null) throw new IllegalArgumentException("distiller state: missing random stream '" + k + "'");
        return r;
    }
}
