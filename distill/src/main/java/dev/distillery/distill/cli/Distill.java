package dev.distillery.distill.cli;

import dev.distillery.distill.disback.DistillMethod;
import dev.distillery.distill.disback.DistillRun;
import dev.distillery.distill.disback.DistillRunConfig;
import dev.distillery.distill.disback.Evaluator;
import dev.distillery.distill.disback.ImageEvaluator;
import dev.distillery.distill.disback.ToyEvaluator;
import dev.distillery.distill.metrics.FeatureClassifier;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.teacher.TeacherConfig;
import dev.distillery.distill.text.DiffusersTextTeacher;
import dev.distillery.distill.text.PromptConditions;
import dev.distillery.distill.text.TextEvaluator;
import dev.distillery.distill.teacher.Teachers;
import dev.distillery.tensor.Device;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code distillery distill}: one-step distillation of a trained teacher with DisBack or its baseline. */
@Command(name = "distill", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Distil a trained teacher into a one-step generator by score distillation: --method baseline (Diff-Instruct/DMD2 form),",
                "disback (Stage 1 records a degradation path once, Stage 2 backtracks along it) or warm-fake (ablation).",
                "Writes config.json, metrics.jsonl, checkpoints/, samples/, plots/ and report.md into the run directory; --resume continues it.",
                "--device tornado:N trains teacher copies, generator and fake score on an accelerator (the run directory does not depend on it)."})
final class Distill implements Callable<Integer> {
    @Spec CommandSpec spec;

    static final class Options {
        @Option(names = "--method", defaultValue = "disback", description = "baseline | disback | warm-fake. Default: ${DEFAULT-VALUE}.") String method;
        @Option(names = "--iterations", defaultValue = "3000", description = "Stage-2 iterations (fake step + generator step). Default: ${DEFAULT-VALUE}.") long iterations;
        @Option(names = "--generator-loss", defaultValue = "di", description = "di (Diff-Instruct/VSD) | dmd2 (normalised). Default: ${DEFAULT-VALUE}.") String generatorLoss;
        @Option(names = "--generator-noise", defaultValue = "lognormal:-1.2,1.2", description = "Noise levels of the generator loss: lognormal:MEAN,STD | karras:POINTS,LO,HI. Default: ${DEFAULT-VALUE}.") String generatorNoise;
        @Option(names = "--fake-noise", defaultValue = "lognormal:-1.2,1.2", description = "Noise levels of the fake score's (and Stage 1's) DSM loss. Default: ${DEFAULT-VALUE}.") String fakeNoise;
        @Option(names = "--batch-size", defaultValue = "256", description = "Batch size. Default: ${DEFAULT-VALUE}.") int batchSize;
        @Option(names = "--lr", defaultValue = "3e-4", description = "Adam learning rate of generator, fake score and Stage 1. Default: ${DEFAULT-VALUE}.") double lr;
        @Option(names = "--lr-fake", description = "Fake score's learning rate (default: --lr).") Double lrFake;
        @Option(names = "--beta1", defaultValue = "0", description = "Adam beta1 (Diff-Instruct: 0). Default: ${DEFAULT-VALUE}.") double beta1;
        @Option(names = "--beta2", defaultValue = "0.999", description = "Adam beta2. Default: ${DEFAULT-VALUE}.") double beta2;
        @Option(names = "--weight-decay", defaultValue = "0", description = "Decoupled weight decay. Default: ${DEFAULT-VALUE}.") double weightDecay;
        @Option(names = "--generator-every", defaultValue = "1", description = "Generator steps every N iterations (DMD2: 5). Default: ${DEFAULT-VALUE}.") int generatorEvery;
        @Option(names = "--generator-first", description = "DMD2 order: generator step, then the fake step on the same samples (default: Diff-Instruct order).") boolean generatorFirst;
        @Option(names = "--grad-clip", defaultValue = "0", description = "Gradient-norm clip for both networks (0: off). Default: ${DEFAULT-VALUE}.") double gradClip;
        @Option(names = "--ema-decay", defaultValue = "0", description = "EMA of the generator used for evaluation (0: none). Default: ${DEFAULT-VALUE}.") double emaDecay;
        @Option(names = "--guidance", defaultValue = "1.0", description = "Classifier-free guidance scale on the teacher/path target of a class- or text-conditional teacher (1: none). Default: ${DEFAULT-VALUE}.") double guidance;
        @Option(names = "--sigma-init", defaultValue = "1.0", description = "Generator input noise level: G(z) = D(sigma_init z; sigma_init). Default: ${DEFAULT-VALUE}.") double sigmaInit;
        @Option(names = "--degradation-steps", defaultValue = "1000", description = "Stage 1 steps K_deg (disback, warm-fake). Default: ${DEFAULT-VALUE}.") int degradationSteps;
        @Option(names = "--degradation-every", defaultValue = "100", description = "Save a path node every N Stage-1 steps (N = K_deg / this). Default: ${DEFAULT-VALUE}.") int degradationEvery;
        @Option(names = "--backtrack-interval", defaultValue = "100", description = "Stage-2 iterations per path node (Delta_back). Default: ${DEFAULT-VALUE}.") long backtrackInterval;
        @Option(names = "--path-dir", paramLabel = "DIR", description = "Where the degradation path is stored and reused (default: TEACHER/paths/<digest>).") Path pathDir;
        @Option(names = "--eval-every", defaultValue = "50", description = "Evaluate the generator every N iterations. Default: ${DEFAULT-VALUE}.") long evalEvery;
        @Option(names = "--eval-samples", defaultValue = "4096", description = "Generator samples per evaluation. Default: ${DEFAULT-VALUE}.") int evalSamples;
        @Option(names = "--checkpoint-every", defaultValue = "500", description = "Checkpoint every N iterations. Default: ${DEFAULT-VALUE}.") long checkpointEvery;
        @Option(names = "--keep-checkpoints", defaultValue = "2", description = "Keep the newest N checkpoints. Default: ${DEFAULT-VALUE}.") int keepCheckpoints;
        @Option(names = "--seed", defaultValue = "0", description = "Random seed. Default: ${DEFAULT-VALUE}.") long seed;
        @Option(names = "--prompts", paramLabel = "FILE", description = {"Text-conditional teacher (--teacher is a diffusers pipeline folder): the prompts to distil on,",
                "one per line ('#' comments and blank lines skipped); the first " + TEXT_EVAL_PROMPTS + " are the evaluation prompts. Needed again with --resume."}) Path prompts;
        @Option(names = "--gan-generator-weight", defaultValue = "0", description = "Weight lambda_G of DMD2's optional GAN term in the generator loss (DMD2 ImageNet: 3e-3; 0: off). Default: ${DEFAULT-VALUE}.") double ganGeneratorWeight;
        @Option(names = "--gan-discriminator-weight", defaultValue = "0", description = "Weight lambda_D of the GAN head's discriminator loss in the fake step (DMD2: 1e-2; 0: off). Default: ${DEFAULT-VALUE}.") double ganDiscriminatorWeight;

        DistillRunConfig config(Path teacher, String command) {
            return new DistillRunConfig(method, teacher.toString(), iterations, generatorLoss, generatorNoise, fakeNoise, batchSize, lr,
                    lrFake == null ? lr : lrFake, beta1, beta2, weightDecay, generatorEvery, generatorFirst, gradClip, emaDecay, sigmaInit, guidance,
                    degradationSteps, degradationEvery, lr, backtrackInterval, pathDir == null ? "" : pathDir.toString(), evalEvery, evalSamples,
                    checkpointEvery, keepCheckpoints, seed, command, ganGeneratorWeight, ganDiscriminatorWeight);
        }
    }

    @Option(names = "--teacher", paramLabel = "RUN_DIR", description = "Run directory of a train-teacher run, or a diffusers text-to-image pipeline folder with --prompts (required unless --resume).") Path teacher;
    @CommandLine.Mixin Options opts;
    @Option(names = {"--out", "-o"}, paramLabel = "DIR", description = "Run directory (must not exist or be empty). Default: runs/distill-<method>-<timestamp>.") Path out;
    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its newest checkpoint (its config.json wins).") Path resume;
    @Option(names = "--stop-after", paramLabel = "ITER", defaultValue = "0", description = "Stop after this iteration as if interrupted (0: run to the end).") long stopAfter;
    @CommandLine.Mixin DeviceOption deviceOpt;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        PrintWriter pw = cl.getOut();
        PrintStream log = Main.printStream(pw);
        Device device = deviceOpt.resolve();
        DistillRun.Result r;
        if (resume != null) {
            if (!Files.isDirectory(resume)) throw new ParameterException(cl, "--resume " + resume + ": no such run directory");
            DistillRunConfig cfg = DistillRun.readConfig(resume);
            Path t = Path.of(cfg.teacher());
            if (DiffusersTextTeacher.isPipelineFolder(t)) {
                TextTeacher tt = textTeacher(cl, t, opts.prompts, cfg);
                Path pd = pathDir(cfg, t, tt.net(), tt.prompts());
                tt.net().module().to(device);
                r = DistillRun.resume(tt.net(), tt.prompts(), pd, tt.evaluator(), resume, stopAfter, log);
                return report(r, pw, log);
            }
            Teachers.Loaded lt = Teachers.load(t);
            Path pd = pathDir(cfg, t, lt.net());
            lt.net().module().to(device); // once: the run trains where the teacher is (checkpoints hold host tensors, so any device resumes)
            r = DistillRun.resume(lt.net(), pd, evaluator(lt, cfg), resume, stopAfter, log);
        } else {
            if (teacher == null) throw new ParameterException(cl, "--teacher RUN_DIR is required (or --resume RUN_DIR)");
            DistillRunConfig cfg = opts.config(teacher, Main.commandString(spec));
            try {
                cfg.validate();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, e.getMessage());
            }
            Path dir = out != null ? out : Main.timestamped("distill-" + DistillMethod.parse(cfg.method()).cliName());
            if (DiffusersTextTeacher.isPipelineFolder(teacher)) {
                TextTeacher tt = textTeacher(cl, teacher, opts.prompts, cfg);
                Path pd = pathDir(cfg, teacher, tt.net(), tt.prompts());
                tt.net().module().to(device); // the text encoder stays on the host: prompts are encoded once, embeddings move per batch
                r = DistillRun.start(cfg, tt.net(), tt.prompts(), pd, tt.evaluator(), dir, stopAfter, log);
                return report(r, pw, log);
            }
            if (opts.prompts != null) throw new ParameterException(cl, "--prompts is for text-conditional teachers (a diffusers pipeline folder); " + teacher + " is a train-teacher run");
            Teachers.Loaded lt = Teachers.load(teacher);
            Path pd = pathDir(cfg, teacher, lt.net());
            lt.net().module().to(device); // once, before the run makes its copies and optimisers
            r = DistillRun.start(cfg, lt.net(), pd, evaluator(lt, cfg), dir, stopAfter, log);
        }
        return report(r, pw, log);
    }

    private static int report(DistillRun.Result r, PrintWriter pw, PrintStream log) {
        log.flush();
        if (r.report() != null) {
            pw.println();
            pw.println("Run directory: " + r.runDir());
            var last = r.evaluations().isEmpty() ? null : r.evaluations().getLast();
            if (last != null) last.forEach((k, v) -> pw.println(String.format(Locale.ROOT, "  %-20s %s", k, v instanceof Double d ? String.format(Locale.ROOT, "%.5g", d) : v)));
            pw.println("Report: " + r.report());
        }
        return 0;
    }

    /** Evaluation prompts of a text teacher: the first this many of --prompts. */
    static final int TEXT_EVAL_PROMPTS = 8;
    /** Evaluation samples per prompt (at most; --eval-samples / prompts otherwise) and Heun steps of the teacher's reference samples. */
    static final int TEXT_MAX_PER_PROMPT = 8, TEXT_TEACHER_STEPS = 18;

    /** A text-conditional teacher with its prompts and evaluator. */
    record TextTeacher(EdmDenoiserNet net, PromptConditions prompts, Evaluator evaluator) {}

    /** Loads a diffusers pipeline folder and encodes {@code --prompts}; the evaluator compares with the teacher's guided Heun samples. */
    static TextTeacher textTeacher(CommandLine cl, Path folder, Path promptFile, DistillRunConfig cfg) throws java.io.IOException {
        if (promptFile == null) throw new ParameterException(cl, "--teacher " + folder + " is a text-conditional diffusers pipeline: --prompts FILE is required");
        List<String> prompts = PromptConditions.readPromptFile(promptFile);
        DiffusersTextTeacher t = DiffusersTextTeacher.load(folder);
        PromptConditions pc = t.prompts(prompts, prompts.subList(0, Math.min(TEXT_EVAL_PROMPTS, prompts.size())));
        int perPrompt = Math.max(1, Math.min(TEXT_MAX_PER_PROMPT, cfg.evalSamples() / pc.evalPrompts().size()));
        return new TextTeacher(t.net(), pc, new TextEvaluator(pc, cfg.guidanceScale(), perPrompt, TEXT_TEACHER_STEPS, EVAL_SEED));
    }

    static Path pathDir(DistillRunConfig cfg, Path teacher, EdmDenoiserNet net) {
        return pathDir(cfg, teacher, net, dev.distillery.distill.score.Conditioning.of(net));
    }

    static Path pathDir(DistillRunConfig cfg, Path teacher, EdmDenoiserNet net, dev.distillery.distill.score.Conditioning conditioning) {
        return cfg.pathDir().isEmpty() ? DistillRun.defaultPathDir(teacher, cfg, net, conditioning) : Path.of(cfg.pathDir());
    }

    /** Fixed evaluation seed: every run and method sees the same latents and reference data. */
    static final long EVAL_SEED = 12345;

    /** 2-D toys: {@link ToyEvaluator}; image teachers: {@link ImageEvaluator} with the dataset's feature classifier. */
    static Evaluator evaluator(Teachers.Loaded teacher, DistillRunConfig cfg) throws java.io.IOException {
        if (!teacher.image()) return new ToyEvaluator(TeacherConfig.kindOf(teacher.dataset()), cfg.evalSamples(), EVAL_SEED);
        var data = FeatureClassifier.Data.load(teacher.dataset(), teacher.dataDir().isEmpty() ? null : teacher.dataDir());
        return new ImageEvaluator(FeatureClassifier.obtain(data), cfg.evalSamples(), EVAL_SEED, teacher.net().sampleShape());
    }
}
