package dev.distillery.distill.disback;

import dev.distillery.distill.score.DistillConfig;
import dev.distillery.distill.score.GeneratorLoss;
import dev.distillery.distill.score.NoiseLevels;

import static dev.distillery.distill.train.ConfigMap.bool;
import static dev.distillery.distill.train.ConfigMap.integer;
import static dev.distillery.distill.train.ConfigMap.longInt;
import static dev.distillery.distill.train.ConfigMap.real;
import static dev.distillery.distill.train.ConfigMap.string;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that defines a distillation run (written to {@code config.json}, read back on resume).
 *
 * @param method            baseline | disback | warm-fake
 * @param teacher           the teacher's run directory (as given on the command line)
 * @param iterations        Stage-2 iterations (each: one fake step and, every {@code generatorEvery}, one generator step)
 * @param degradationSteps  K_deg (Stage 1); 0 gives N = 0, a path of just the teacher
 * @param degradationEvery  Delta_deg; N = K_deg / Delta_deg
 * @param degradationLr     Adam learning rate of Stage 1 (default: the fake score's)
 * @param backtrackInterval Delta_back, Stage-2 iterations per path node
 * @param pathDir           where the path is stored (empty: {@code <teacher>/paths/<spec digest>})
 * @param ganGeneratorWeight     lambda_G of the optional GAN head ({@link DistillConfig#ganGeneratorWeight()}; 0 = off)
 * @param ganDiscriminatorWeight lambda_D of the optional GAN head (0 = off); config.json files without these keys read as 0
 */
public record DistillRunConfig(String method, String teacher, long iterations, String generatorLoss, String generatorNoise, String fakeNoise,
                               int batchSize, double lrGenerator, double lrFake, double beta1, double beta2, double weightDecay, int generatorEvery,
                               boolean generatorFirst, double gradClip, double emaDecay, double sigmaInit, double guidanceScale,
                               int degradationSteps, int degradationEvery, double degradationLr, long backtrackInterval, String pathDir,
                               long evalEvery, int evalSamples, long checkpointEvery, int keepCheckpoints, long seed, String command,
                               double ganGeneratorWeight, double ganDiscriminatorWeight) {

    /** Without the GAN head. */
    public DistillRunConfig(String method, String teacher, long iterations, String generatorLoss, String generatorNoise, String fakeNoise,
                            int batchSize, double lrGenerator, double lrFake, double beta1, double beta2, double weightDecay, int generatorEvery,
                            boolean generatorFirst, double gradClip, double emaDecay, double sigmaInit, double guidanceScale,
                            int degradationSteps, int degradationEvery, double degradationLr, long backtrackInterval, String pathDir,
                            long evalEvery, int evalSamples, long checkpointEvery, int keepCheckpoints, long seed, String command) {
        this(method, teacher, iterations, generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2, weightDecay, generatorEvery,
                generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, degradationSteps, degradationEvery, degradationLr, backtrackInterval, pathDir,
                evalEvery, evalSamples, checkpointEvery, keepCheckpoints, seed, command, 0, 0);
    }

    public DistillMethod distillMethod() {
        return DistillMethod.parse(method);
    }

    public DistillConfig distillConfig() {
        return new DistillConfig(GeneratorLoss.parse(generatorLoss), NoiseLevels.parse(generatorNoise), NoiseLevels.parse(fakeNoise), batchSize,
                lrGenerator, lrFake, beta1, beta2, weightDecay, generatorEvery, generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, seed,
                ganGeneratorWeight, ganDiscriminatorWeight);
    }

    /** Stage 1's spec: the fake score's noise levels and Adam betas, its own learning rate, the same batch, sigma_init and seed. */
    public DegradationPath.Spec pathSpec() {
        return new DegradationPath.Spec(degradationSteps, degradationEvery, batchSize, degradationLr, beta1, beta2, fakeNoise, sigmaInit, seed);
    }

    public BacktrackSchedule schedule() {
        return new BacktrackSchedule(pathSpec().nodes(), backtrackInterval);
    }

    /** Checks every value, failing with the flag's name. */
    public DistillRunConfig validate() {
        distillMethod();
        distillConfig();
        pathSpec();
        schedule();
        if (iterations < 1) throw new IllegalArgumentException("--iterations must be >= 1, got " + iterations);
        if (evalEvery < 1) throw new IllegalArgumentException("--eval-every must be >= 1, got " + evalEvery);
        if (evalSamples < 2) throw new IllegalArgumentException("--eval-samples must be >= 2, got " + evalSamples);
        if (checkpointEvery < 1) throw new IllegalArgumentException("--checkpoint-every must be >= 1, got " + checkpointEvery);
        if (keepCheckpoints < 1) throw new IllegalArgumentException("--keep-checkpoints must be >= 1, got " + keepCheckpoints);
        return this;
    }

    public DistillRunConfig with(String method, long iterations, long seed) {
        return new DistillRunConfig(method, teacher, iterations, generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2,
                weightDecay, generatorEvery, generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, degradationSteps, degradationEvery,
                degradationLr, backtrackInterval, pathDir, evalEvery, evalSamples, checkpointEvery, keepCheckpoints, seed, command, ganGeneratorWeight, ganDiscriminatorWeight);
    }

    public DistillRunConfig withPath(int degradationSteps, int degradationEvery, long backtrackInterval, String pathDir) {
        return new DistillRunConfig(method, teacher, iterations, generatorLoss, generatorNoise, fakeNoise, batchSize, lrGenerator, lrFake, beta1, beta2,
                weightDecay, generatorEvery, generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, degradationSteps, degradationEvery,
                degradationLr, backtrackInterval, pathDir, evalEvery, evalSamples, checkpointEvery, keepCheckpoints, seed, command, ganGeneratorWeight, ganDiscriminatorWeight);
    }

    public DistillRunConfig withLr(double lr) {
        return new DistillRunConfig(method, teacher, iterations, generatorLoss, generatorNoise, fakeNoise, batchSize, lr, lr, beta1, beta2,
                weightDecay, generatorEvery, generatorFirst, gradClip, emaDecay, sigmaInit, guidanceScale, degradationSteps, degradationEvery,
                lr, backtrackInterval, pathDir, evalEvery, evalSamples, checkpointEvery, keepCheckpoints, seed, command, ganGeneratorWeight, ganDiscriminatorWeight);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "distill");
        m.put("method", method);
        m.put("teacher", teacher);
        m.put("iterations", iterations);
        m.put("generator_loss", generatorLoss);
        m.put("generator_noise", generatorNoise);
        m.put("fake_noise", fakeNoise);
        m.put("batch_size", batchSize);
        m.put("lr_generator", lrGenerator);
        m.put("lr_fake", lrFake);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("weight_decay", weightDecay);
        m.put("generator_every", generatorEvery);
        m.put("generator_first", generatorFirst);
        m.put("grad_clip", gradClip);
        m.put("ema_decay", emaDecay);
        m.put("sigma_init", sigmaInit);
        m.put("guidance_scale", guidanceScale);
        m.put("degradation_steps", degradationSteps);
        m.put("degradation_every", degradationEvery);
        m.put("degradation_lr", degradationLr);
        m.put("backtrack_interval", backtrackInterval);
        m.put("path_dir", pathDir);
        m.put("eval_every", evalEvery);
        m.put("eval_samples", evalSamples);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("seed", seed);
        m.put("command", command);
        m.put("gan_generator_weight", ganGeneratorWeight);
        m.put("gan_discriminator_weight", ganDiscriminatorWeight);
        return m;
    }

    public static DistillRunConfig fromMap(Map<String, Object> m) {
        return new DistillRunConfig(string(m, "method"), string(m, "teacher"), longInt(m, "iterations"), string(m, "generator_loss"), string(m, "generator_noise"),
                string(m, "fake_noise"), integer(m, "batch_size"), real(m, "lr_generator"), real(m, "lr_fake"), real(m, "beta1"), real(m, "beta2"), real(m, "weight_decay"),
                integer(m, "generator_every"), bool(m, "generator_first"), real(m, "grad_clip"), real(m, "ema_decay"), real(m, "sigma_init"),
                real(m, "guidance_scale"), integer(m, "degradation_steps"), integer(m, "degradation_every"), real(m, "degradation_lr"),
                longInt(m, "backtrack_interval"), string(m, "path_dir"), longInt(m, "eval_every"), integer(m, "eval_samples"), longInt(m, "checkpoint_every"),
                integer(m, "keep_checkpoints"), longInt(m, "seed"), m.get("command") == null ? "" : m.get("command").toString(),
                m.containsKey("gan_generator_weight") ? real(m, "gan_generator_weight") : 0, m.containsKey("gan_discriminator_weight") ? real(m, "gan_discriminator_weight") : 0);
    }
}
