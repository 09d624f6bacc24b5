package dev.distillery.distill.score;

/**
 * The knobs of the score-distillation core (spec disback.md §2.4-2.5), shared by the baseline and DisBack.
 *
 * @param generatorLoss    Diff-Instruct/VSD or DMD2 form
 * @param generatorNoise   noise levels of the generator loss (DI: ln sigma ~ N(-1.2, 1.2^2); DMD2: grid index 20..980)
 * @param fakeNoise        noise levels of the fake score's DSM loss (DI: same log-normal; DMD2: the whole grid)
 * @param batchSize        samples per generator and per fake step
 * @param lrGenerator      Adam learning rate of the generator
 * @param lrFake           Adam learning rate of the fake score
 * @param beta1            Adam beta1 (Diff-Instruct: 0)
 * @param beta2            Adam beta2 (0.999)
 * @param weightDecay      decoupled weight decay (AdamW; DMD2 0.01, DI 0)
 * @param generatorEvery   r_gen: the generator steps only at iterations k with k mod r_gen == 0 (DI 1, DMD2 5)
 * @param generatorFirst   DMD2 order (generator step, then the fake step on the same detached x0) when true;
 *                         Diff-Instruct order (fake step on fresh samples, then the generator step) when false
 * @param gradClip         global gradient-norm clip for both networks (0: off)
 * @param emaDecay         EMA of the generator's weights (0: the EMA equals the generator)
 * @param sigmaInit        the generator's input noise level, G(z) = D(sigma_init z; sigma_init)
 * @param guidanceScale    classifier-free guidance on the target (teacher or path node) only, applied by the
 *                         {@link TargetScore}; 1 = none. The fake score is always evaluated without guidance.
 * @param seed             seed of the latent, noise-level and noise streams
 * @param ganGeneratorWeight     lambda_G of DMD2's optional GAN term {@code L_G_gan} in the generator step (spec §2.4;
 *                               DMD2 ImageNet 3e-3, SDXL 5e-3); 0 = off, the default
 * @param ganDiscriminatorWeight lambda_D of the discriminator loss {@code L_D} added to the fake step (DMD2 1e-2);
 *                               0 = off, the default (lambda_G > 0 with lambda_D = 0 leaves the head at its random
 *                               initialisation). With both weights 0 no {@link GanHead} is built and nothing
 *                               extra is drawn, so a run is bit for bit the run without GAN support.
 */
public record DistillConfig(GeneratorLoss generatorLoss, NoiseLevels generatorNoise, NoiseLevels fakeNoise, int batchSize, double lrGenerator,
                            double lrFake, double beta1, double beta2, double weightDecay, int generatorEvery, boolean generatorFirst,
                            double gradClip, double emaDecay, double sigmaInit, double guidanceScale, long seed,
                            double ganGeneratorWeight, double ganDiscriminatorWeight) {
    public DistillConfig {
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        if (!(lrGenerator >= 0) || !(lrFake >= 0)) throw new IllegalArgumentException("learning rates must be >= 0, got " + lrGenerator + ", " + lrFake);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
        if (generatorEvery < 1) throw new IllegalArgumentException("--generator-every must be >= 1, got " + generatorEvery);
        if (!(gradClip >= 0)) throw new IllegalArgumentException("--grad-clip must be >= 0, got " + gradClip);
        if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("--ema-decay must be in [0, 1), got " + emaDecay);
        if (!(sigmaInit > 0)) throw new IllegalArgumentException("--sigma-init must be > 0, got " + sigmaInit);
        if (!(ganGeneratorWeight >= 0) || !Double.isFinite(ganGeneratorWeight))
            throw new IllegalArgumentException("--gan-generator-weight must be finite and >= 0, got " + ganGeneratorWeight);
        if (!(ganDiscriminatorWeight >= 0) || !Double.isFinite(ganDiscriminatorWeight))
            throw new IllegalArgumentException("--gan-discriminator-weight must be finite and >= 0, got " + ganDiscriminatorWeight);
    }

    /** Without the GAN head (both weights 0). */
    public DistillConfig(GeneratorLoss generatorLoss, NoiseLevels generatorNoise, NoiseLevels fakeNoise, int batchSize, double lrGenerator,
                         double lrFake, double beta1, double beta2, double weightDecay, int generatorEvery, boolean generatorFirst,
                         double gradClip, double emaDecay, double sigmaInit, double guidanceScale, long seed) {
        this(generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2, weightDecay, generatorEvery, generatorFirst,
                gradClip, emaDecay, sigmaInit, guidanceScale, seed, 0, 0);
    }

    /** True when either GAN weight is > 0: the distiller then builds a {@link GanHead} and needs real data. */
    public boolean ganEnabled() {
        return ganGeneratorWeight > 0 || ganDiscriminatorWeight > 0;
    }

    /** Diff-Instruct defaults (spec §2.6): DI loss, ln sigma ~ N(-1.2, 1.2^2) for both losses, Adam(0, 0.999), 1:1, fake first. */
    public static DistillConfig diffInstruct(int batchSize, double lr, long seed) {
        NoiseLevels ln = new NoiseLevels.LogNormal(-1.2, 1.2);
        return new DistillConfig(GeneratorLoss.DIFF_INSTRUCT, ln, ln, batchSize, lr, lr, 0, 0.999, 0, 1, false, 0, 0, 1.0, 1, seed);
    }

    /** DMD2-EDM defaults (spec §2.4/2.6) without the GAN head: 1000-point grid, generator 20..980, fake 0..999, r_gen 5, generator first. */
    public static DistillConfig dmd2(int batchSize, double lr, long seed) {
        return new DistillConfig(GeneratorLoss.DMD2, NoiseLevels.KarrasGrid.dmd2(1000, 20, 980), NoiseLevels.KarrasGrid.dmd2(1000, 0, 999),
                batchSize, lr, lr, 0.9, 0.999, 0.01, 5, true, 10, 0, 80, 1, seed);
    }

    public DistillConfig withSeed(long s) {
        return new DistillConfig(generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2, weightDecay, generatorEvery,
                generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, s, ganGeneratorWeight, ganDiscriminatorWeight);
    }

    public DistillConfig withSigmaInit(double s) {
        return new DistillConfig(generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2, weightDecay, generatorEvery,
                generatorFirst, gradClip, emaDecay, s, guidanceScale, seed, ganGeneratorWeight, ganDiscriminatorWeight);
    }

    /** This config with DMD2's GAN term weighted {@code generator} (lambda_G) and {@code discriminator} (lambda_D). */
    public DistillConfig withGan(double generator, double discriminator) {
        return new DistillConfig(generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2, weightDecay, generatorEvery,
                generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, seed, generator, discriminator);
    }
}
