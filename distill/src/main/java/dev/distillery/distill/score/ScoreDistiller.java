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
 * <p><b>Optional GAN head</b> (DMD2's "diffusion GAN", spec §2.4 L_gan; on when {@link DistillConfig#ganEnabled()}):
 * a {@link GanHead} reads the fake network's bottleneck {@link EdmDenoiserNet#features} of noised samples,
 * {@code x_t = x + sigma n} with sigma drawn from the fake score's noise levels {@link DistillConfig#fakeNoise()}
 * (DMD2 draws t ~ U{0..999}, which is the fake score's grid in its config, so with {@link DistillConfig#dmd2} this is
 * DMD2's distribution; with Diff-Instruct's noise levels the GAN sees the levels the fake score trains on). Real and
 * fake batches get independent sigmas and noise, as DMD2 does.
 * <ul>
 *   <li>Generator step: {@code L = L_gen + lambda_G mean softplus(-l_fake)}, {@code l_fake = head(features(x0 + sigma n))}
 *       with x0 carrying G's graph, so the GAN gradient reaches G through x0 and through the fake network's features.
 *       Only G's optimiser steps; the gradients this leaves on the fake network and the head are zeroed.</li>
 *   <li>Fake step: {@code L = L_DSM + lambda_D (mean softplus(l_fake) + mean softplus(-l_real))} with
 *       {@code l_fake = head(features(sg(x0) + sigma n))}, {@code l_real = head(features(x_real + sigma' n'))}; the
 *       head's parameters join the fake optimiser (keys {@code gan_head.*} in its state; same Adam settings, one
 *       gradient-norm clip over both), so one step updates the fake network and the head together, as DMD2's
 *       guidance model holds both.</li>
 * </ul>
 * Real samples come from a {@link RealSampler} with their own labels for class-conditional teachers; fake samples
 * keep the labels they were generated with (both are what DMD2 feeds its classifier). The head is initialised from
 * its own fork of the seed.
 *
 * <p>Random streams (latents, noise levels, noise, conditioning; with the GAN: real batches, GAN noise levels and
 * noise) are forks of {@link DistillConfig#seed()}, saved and restored with {@link #state()} / {@link #restore} so a
 * resumed run continues bit for bit. With the GAN off its streams are neither made nor saved.
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

    /** A batch of real data (host or device tensors): samples [B, sample shape...] and their conditioning (null when unconditional). */
    public record RealBatch(Tensor x, Tensor cond) {}

    /** Draws {@code n} real samples (for the GAN head's discriminator) from {@code rng}. */
    @FunctionalInterface
    public interface RealSampler {
        RealBatch sample(Rng rng, int n);
    }

    /**
     * What one iteration did: losses are NaN for a step that did not run. {@code generatorLoss} and {@code fakeLoss} are
     * the score-distillation and DSM losses alone; the GAN losses (unweighted L_G_gan and L_D) are NaN when not computed.
     */
    public record IterationResult(double generatorLoss, double fakeLoss, double generatorGradNorm, double fakeGradNorm, double ganGeneratorLoss,
                                  double discriminatorLoss) {}

    /** The prefix of the head's parameters in the fake optimiser's state. */
    public static final String GAN_HEAD_PREFIX = "gan_head.";
    private static final long LATENT_STREAM = 11, GEN_SIGMA_STREAM = 12, GEN_NOISE_STREAM = 13, FAKE_SIGMA_STREAM = 14, FAKE_NOISE_STREAM = 15, COND_STREAM = 16,
            GAN_HEAD_STREAM = 17, GAN_REAL_STREAM = 18, GAN_SIGMA_STREAM = 19, GAN_NOISE_STREAM = 20;
    private final DistillConfig cfg;
    private final OneStepGenerator generator;
    private final EdmDenoiserNet fake;
    private final ConditionSampler conditions;
    private final Adam generatorOpt, fakeOpt;
    private final Ema ema;
    private final GanHead head;
    private final RealSampler real;
    private Rng latentRng, genSigmaRng, genNoiseRng, fakeSigmaRng, fakeNoiseRng, condRng, realRng, ganSigmaRng, ganNoiseRng;

    /** Without real data: the GAN must be off. */
    public ScoreDistiller(DistillConfig cfg, EdmDenoiserNet generatorNet, EdmDenoiserNet fake, ConditionSampler conditions) {
        this(cfg, generatorNet, fake, conditions, null);
    }

    /**
     * @param generatorNet the generator's network (its weights are trained in place; usually a copy of the teacher)
     * @param fake         the fake score network (trained in place; the teacher's copy for the baseline, P[N] for DisBack)
     * @param conditions   conditioning sampler, or null when unconditional
     * @param real         real data for the GAN head; required when {@link DistillConfig#ganEnabled()}, ignored otherwise
     */
    public ScoreDistiller(DistillConfig cfg, EdmDenoiserNet generatorNet, EdmDenoiserNet fake, ConditionSampler conditions, RealSampler real) {
        if (generatorNet.module() == fake.module()) throw new IllegalArgumentException("generator and fake score must be different networks");
        if (cfg.ganEnabled() && real == null)
            throw new IllegalArgumentException("--gan-generator-weight / --gan-discriminator-weight > 0 need real data (the teacher's training set), and none was given");
        this.cfg = cfg;
        this.generator = new OneStepGenerator(generatorNet, cfg.sigmaInit());
        this.fake = fake;
        this.conditions = conditions;
        Rng base = new Rng(cfg.seed());
        this.head = cfg.ganEnabled() ? GanHead.forNet(fake, base.fork(GAN_HEAD_STREAM)) : null;
        this.real = head == null ? null : real;
        Map<String, dev.distillery.autograd.nn.Parameter> fakeParams = fake.module().namedParameters();
        if (head != null) {
            fakeParams = new LinkedHashMap<>(fakeParams);
            for (var e : head.namedParameters().entrySet()) fakeParams.put(GAN_HEAD_PREFIX + e.getKey(), e.getValue());
        }
        this.generatorOpt = Adam.adamW(generatorNet.module().namedParameters(), cfg.lrGenerator(), cfg.beta1(), cfg.beta2(), 1e-8, cfg.weightDecay());
        this.fakeOpt = Adam.adamW(fakeParams, cfg.lrFake(), cfg.beta1(), cfg.beta2(), 1e-8, cfg.weightDecay());
        this.ema = new Ema(generatorNet.module(), cfg.emaDecay());
        latentRng = base.fork(LATENT_STREAM);
        genSigmaRng = base.fork(GEN_SIGMA_STREAM);
        genNoiseRng = base.fork(GEN_NOISE_STREAM);
        fakeSigmaRng = base.fork(FAKE_SIGMA_STREAM);
        fakeNoiseRng = base.fork(FAKE_NOISE_STREAM);
        condRng = base.fork(COND_STREAM);
        if (head != null) {
            realRng = base.fork(GAN_REAL_STREAM);
            ganSigmaRng = base.fork(GAN_SIGMA_STREAM);
            ganNoiseRng = base.fork(GAN_NOISE_STREAM);
        }
    }

    public OneStepGenerator generator() { return generator; }
    public EdmDenoiserNet fake() { return fake; }
    public Ema ema() { return ema; }
    public Adam generatorOptimizer() { return generatorOpt; }
    public Adam fakeOptimizer() { return fakeOpt; }
    public DistillConfig config() { return cfg; }
    /** The GAN head, or null when the GAN is off. */
    public GanHead ganHead() { return head; }

    /** Iteration {@code k} (0-based) against {@code target}. */
    public IterationResult iteration(long k, TargetScore target) {
        boolean genStep = k % cfg.generatorEvery() == 0;
        double gl = Double.NaN, fl, gn = Double.NaN, fn, ggan = Double.NaN, dl;
        if (cfg.generatorFirst()) {
            Tensor x0 = null, cond = null;
            if (genStep) {
                GeneratorStep s = generatorStep(target);
                x0 = s.x0;
                cond = s.cond;
                gl = s.loss;
                gn = s.gradNorm;
                ggan = s.ganLoss;
            }
            if (x0 == null) {
                cond = drawConditions();
                x0 = generator.sample(generator.latents(latentRng, cfg.batchSize()), cond);
            }
            double[] f = fakeStep(x0, cond);
            fl = f[0];
            fn = f[1];
            dl = f[2];
        } else {
            Tensor cond = drawConditions();
            Tensor x0 = generator.sample(generator.latents(latentRng, cfg.batchSize()), cond);
            double[] f = fakeStep(x0, cond);
            fl = f[0];
            fn = f[1];
            dl = f[2];
            if (genStep) {
                GeneratorStep s = generatorStep(target);
                gl = s.loss;
                gn = s.gradNorm;
                ggan = s.ganLoss;
            }
        }
        return new IterationResult(gl, fl, gn, fn, ggan, dl);
    }

    private record GeneratorStep(Tensor x0, Tensor cond, double loss, double gradNorm, double ganLoss) {}

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
        Variable genLoss = cfg.generatorLoss().loss(x0, dFake, dTarget), loss = genLoss;
        Variable gan = null;
        if (head != null && cfg.ganGeneratorWeight() > 0) {
            gan = GanHead.generatorLoss(ganLogits(x0, cond));
            loss = loss.add(gan.mul(cfg.ganGeneratorWeight()));
        }
        loss.backward();
        double norm = clip(generator.net().module().trainableParameters());
        generatorOpt.step();
        generatorOpt.zeroGrad();
        if (gan != null) fakeOpt.zeroGrad(); // the GAN term also reached the fake network and the head: only G steps here
        try (var g = NoGrad.enter()) {
            ema.update();
        }
        return new GeneratorStep(x0.value(), cond, genLoss.item(), norm, gan == null ? Double.NaN : gan.item());
    }

    /**
     * The head's logits of {@code x} noised for the GAN: {@code head(features(x + sigma n; sigma, cond))} with sigma from
     * the fake score's noise levels and n ~ N(0, I), both drawn on the host from the GAN's streams. The graph runs
     * through x (when it has one), the fake network and the head.
     */
    private Variable ganLogits(Variable x, Tensor cond) {
        double[] sigma = cfg.fakeNoise().sample(ganSigmaRng, x.size(0));
        Tensor n = Tensor.randn(ganNoiseRng, DType.F32, x.shape()).to(x.value().device()); // drawn on the host
        Variable xt = x.add(Variable.constant(n.mul(EdmDenoiserNet.perSample(sigma, x.value()))));
        return head.forward(fake.features(xt, sigma, cond));
    }

    private double[] fakeStep(Tensor x0, Tensor cond) {
        double[] sigma = cfg.fakeNoise().sample(fakeSigmaRng, x0.size(0));
        Tensor n = Tensor.randn(fakeNoiseRng, DType.F32, x0.shape()).to(x0.device()); // drawn on the host
        fakeOpt.zeroGrad();
        Variable dsm = DenoisingScoreMatching.loss(fake, x0, cond, sigma, n), loss = dsm;
        Variable disc = null;
        java.util.List<dev.distillery.autograd.nn.Parameter> params = fake.module().trainableParameters();
        if (head != null && cfg.ganDiscriminatorWeight() > 0) {
            Variable fakeLogits = ganLogits(Variable.constant(x0), cond);
            RealBatch r = real.sample(realRng, x0.size(0));
            if (!java.util.Arrays.equals(r.x().shape(), x0.shape()))
                throw new IllegalArgumentException("GAN real data: a batch of shape " + java.util.Arrays.toString(r.x().shape()) + ", the generator makes "
                        + java.util.Arrays.toString(x0.shape()));
            Variable realLogits = ganLogits(Variable.constant(r.x().to(DType.F32).to(x0.device())), r.cond() == null ? null : r.cond().to(fake.device()));
            disc = GanHead.discriminatorLoss(realLogits, fakeLogits);
            loss = loss.add(disc.mul(cfg.ganDiscriminatorWeight()));
            params = new java.util.ArrayList<>(params);
            params.addAll(head.trainableParameters());
        }
        loss.backward();
        double norm = clip(params);
        fakeOpt.step();
        fakeOpt.zeroGrad();
        return new double[]{dsm.item(), norm, disc == null ? Double.NaN : disc.item()};
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
        if (head != null) {
            m.put("gan_real", realRng);
            m.put("gan_sigma", ganSigmaRng);
            m.put("gan_noise", ganNoiseRng);
        }
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
        if (head != null) {
            realRng = need(rngs, "gan_real");
            ganSigmaRng = need(rngs, "gan_sigma");
            ganNoiseRng = need(rngs, "gan_noise");
        }
    }

    private static Rng need(Map<String, Rng> m, String k) {
        Rng r = m.get(k);
        if (r == null) throw new IllegalArgumentException("distiller state: missing random stream '" + k + "'");
        return r;
    }
}
