package dev.distillery.distill.cli;

import dev.distillery.distill.teacher.ImageTeacherConfig;
import dev.distillery.distill.teacher.ImageTeacherTrainer;
import dev.distillery.distill.teacher.MlpDenoiser;
import dev.distillery.distill.teacher.TeacherConfig;
import dev.distillery.distill.teacher.TeacherObjective;
import dev.distillery.distill.teacher.TeacherTrainer;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;
import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.viz.ScatterPlot;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** The {@code distillery} command line: {@code quickstart}, {@code train-teacher}, {@code sample}. */
@Command(name = "distillery", mixinStandardHelpOptions = true, version = "distillery 0.1.0-SNAPSHOT",
        description = "Pure-JVM diffusion training and distillation.",
        subcommands = {Main.Quickstart.class, Main.TrainTeacher.class, Main.Sample.class, Eval.class, Distill.class, DisBackExperimentCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Spec CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line with the given streams; returns the exit code (0 ok, 2 bad usage, 1 failure). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = commandLine(out, err);
        return cl.execute(args);
    }

    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            boolean debug = Boolean.getBoolean("distillery.debug");
            if (ex instanceof IllegalArgumentException) {
                cmd.getErr().println("error: " + ex.getMessage());
                if (debug) ex.printStackTrace(cmd.getErr());
                return 2;
            }
            if (ex instanceof java.io.IOException || ex instanceof dev.distillery.distill.train.NanGuard.NonFiniteLossException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 1;
            }
            cmd.getErr().println("error: " + ex);
            ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing subcommand: quickstart, train-teacher or sample (see --help)");
    }

    /** A PrintStream onto a command's writer, for library code that logs to a PrintStream (tests capture the writer). */
    static PrintStream printStream(PrintWriter pw) {
        return new PrintStream(new java.io.OutputStream() {
            @Override public void write(int b) { pw.write(b); }
            @Override public void flush() { pw.flush(); }
        }, true);
    }

    /** The command line as typed (picocli's original arguments include the subcommand's name). */
    static String commandString(CommandSpec spec) {
        StringBuilder sb = new StringBuilder("./distillery");
        for (String a : spec.commandLine().getParseResult().originalArgs()) sb.append(' ').append(a.contains(" ") ? "'" + a + "'" : a);
        return sb.toString();
    }

    /** Flags of a teacher run (shared by train-teacher and quickstart). */
    static final class TeacherOptions {
        @Option(names = "--dataset", paramLabel = "NAME", defaultValue = "ring8",
                description = "Training data: ring8 | swissroll | checkerboard (2-D toys, MLP) or digits | fmnist | mnist (images; flags not given take per-dataset defaults). Default: ${DEFAULT-VALUE}.")
        String dataset;
        @Option(names = "--steps", defaultValue = "8000", description = "Optimiser steps. Default: ${DEFAULT-VALUE}.") int steps;
        @Option(names = "--batch-size", defaultValue = "512", description = "Batch size. Default: ${DEFAULT-VALUE}.") int batchSize;
        @Option(names = "--lr", defaultValue = "2e-3", description = "Peak AdamW learning rate. Default: ${DEFAULT-VALUE}.") double lr;
        @Option(names = "--min-lr-fraction", defaultValue = "0.05", description = "Cosine decay ends at this fraction of --lr. Default: ${DEFAULT-VALUE}.") double minLrFraction;
        @Option(names = "--weight-decay", defaultValue = "1e-4", description = "AdamW weight decay. Default: ${DEFAULT-VALUE}.") double weightDecay;
        @Option(names = "--warmup", defaultValue = "200", description = "Linear learning-rate warm-up steps. Default: ${DEFAULT-VALUE}.") int warmup;
        @Option(names = "--grad-clip", defaultValue = "1.0", description = "Clip the global gradient norm to this. Default: ${DEFAULT-VALUE}.") double gradClip;
        @Option(names = "--ema-decay", defaultValue = "0.998", description = "EMA decay of the weights used for sampling. Default: ${DEFAULT-VALUE}.") double emaDecay;
        @Option(names = "--width", defaultValue = "128", description = "MLP hidden width. Default: ${DEFAULT-VALUE}.") int width;
        @Option(names = "--depth", defaultValue = "4", description = "MLP hidden layers. Default: ${DEFAULT-VALUE}.") int depth;
        @Option(names = "--emb-dim", defaultValue = "32", description = "Size of the sinusoidal c_noise embedding. Default: ${DEFAULT-VALUE}.") int embDim;
        @Option(names = "--sigma-data", paramLabel = "S", description = "EDM sigma_data; default: measured from the training data (~1.42 for ring8).") Double sigmaData;
        @Option(names = "--p-mean", defaultValue = "-1.2", description = "Mean of ln(sigma) in training (EDM P_mean). Default: ${DEFAULT-VALUE}.") double pMean;
        @Option(names = "--p-std", defaultValue = "1.2", description = "Std of ln(sigma) in training (EDM P_std). Default: ${DEFAULT-VALUE}.") double pStd;
        @Option(names = "--checkpoint-every", defaultValue = "2000", description = "Checkpoint (and sample scatter PNG) every N steps. Default: ${DEFAULT-VALUE}.") int checkpointEvery;
        @Option(names = "--keep-checkpoints", defaultValue = "2", description = "Keep the newest N checkpoints. Default: ${DEFAULT-VALUE}.") int keepCheckpoints;
        @Option(names = "--log-every", defaultValue = "100", description = "Write a metrics.jsonl line every N steps. Default: ${DEFAULT-VALUE}.") int logEvery;
        @Option(names = "--sample-steps", defaultValue = "24", description = "Heun steps when sampling (Karras grid 0.002..80). Default: ${DEFAULT-VALUE}.") int sampleSteps;
        @Option(names = "--plot-samples", defaultValue = "2000", description = "Samples in each checkpoint's scatter PNG. Default: ${DEFAULT-VALUE}.") int plotSamples;
        @Option(names = "--eval-samples", defaultValue = "4000", description = "Samples for the final metrics. Default: ${DEFAULT-VALUE}.") int evalSamples;
        @Option(names = "--data-size", defaultValue = "65536", description = "Points in the training set. Default: ${DEFAULT-VALUE}.") int dataSize;
        @Option(names = "--seed", defaultValue = "0", description = "Random seed (weights, data, noise). Default: ${DEFAULT-VALUE}.") long seed;

        TeacherConfig config(String command) {
            return new TeacherConfig(dataset, steps, batchSize, lr, minLrFraction, weightDecay, warmup, gradClip, emaDecay, width, depth, embDim,
                    sigmaData == null ? Double.NaN : sigmaData, pMean, pStd, checkpointEvery, keepCheckpoints, logEvery, sampleSteps, plotSamples,
                    evalSamples, dataSize, seed, command);
        }
    }

    static Path timestamped(String prefix) {
        return Path.of("runs", prefix + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    static void printResult(PrintWriter out, TeacherTrainer.Result r) {
        if (r.report() == null) return;
        out.println();
        out.println("Run directory: " + r.runDir());
        for (var e : r.metrics().entrySet())
            out.println(String.format(Locale.ROOT, "  %-28s %s", e.getKey(), e.getValue() instanceof Double d ? String.format(Locale.ROOT, "%.5g", d) : e.getValue()));
        out.println("Report: " + r.report());
        out.println("Samples: " + r.runDir().resolve("samples/final.png"));
    }

    @Command(name = "train-teacher", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Train a teacher (EDM, or DDPM epsilon prediction with --objective ddpm-eps): an MLP on a 2-D toy or on 8x8 digits, or a small UNet on 32x32 (Fashion-)MNIST.",
                    "Writes config.json, metrics.jsonl, checkpoints/, samples/ (scatter or image-grid PNGs), plots/loss.png and report.md into the run directory."})
    static final class TrainTeacher implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin TeacherOptions opts;
        @Mixin ImageTeacherOptions imageOpts;
        @Mixin DeviceOption deviceOpt;
        @Option(names = {"--out", "-o"}, paramLabel = "DIR", description = "Run directory (must not exist or be empty). Default: runs/teacher-<dataset>-<timestamp>.") Path out;
        @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its newest checkpoint (its config.json wins; other flags are ignored).") Path resume;
        @Option(names = "--stop-after", paramLabel = "STEP", defaultValue = "0", description = "Stop after this step as if interrupted (0: run to --steps); continue with --resume.") long stopAfter;

        @Override
        public Integer call() throws Exception {
            PrintWriter pw = spec.commandLine().getOut();
            PrintStream log = printStream(pw);
            if (stopAfter < 0) throw new ParameterException(spec.commandLine(), "--stop-after must be >= 0, got " + stopAfter);
            Device device = deviceOpt.resolve();
            TeacherTrainer.Result r;
            if (resume != null) {
                if (!Files.isDirectory(resume)) throw new ParameterException(spec.commandLine(), "--resume " + resume + ": no such run directory");
                boolean image = Files.isRegularFile(resume.resolve(RunDir.CONFIG_FILE)) && ImageTeacherTrainer.isImageRun(resume);
                r = image ? ImageTeacherTrainer.resume(resume, stopAfter, log, device) : TeacherTrainer.resume(resume, stopAfter, log, device);
            } else if (ImageTeacherConfig.isImageDataset(opts.dataset)) {
                ImageTeacherConfig cfg = imageOpts.config(opts, spec.commandLine().getParseResult(), commandString(spec));
                try {
                    cfg.validate();
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
                r = ImageTeacherTrainer.train(cfg, out != null ? out : timestamped("teacher-" + cfg.dataset()), stopAfter, log, device);
            } else {
                TeacherConfig cfg = opts.config(commandString(spec));
                try {
                    if (TeacherObjective.of(imageOpts.objective) != TeacherObjective.EDM)
                        throw new IllegalArgumentException("--objective " + imageOpts.objective + ": the 2-D toy teachers train the EDM objective only "
                                + "(ddpm-eps is for the image data sets digits, fmnist, mnist)");
                    cfg.validate();
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
                Path dir = out != null ? out : timestamped("teacher-" + cfg.dataset());
                r = TeacherTrainer.train(cfg, dir, stopAfter, log, device);
            }
            log.flush();
            printResult(pw, r);
            return 0;
        }
    }

    @Command(name = "quickstart", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"The main job on a built-in default, in a few minutes on 2 cores: train the ring8 EDM teacher, then distil it into a",
                    "one-step generator with the baseline (Diff-Instruct) and with DisBack (degradation path + backtracking), and write a report",
                    "comparing them into runs/quickstart-<timestamp>/report.md (teacher/, baseline/, disback/ hold each run)."})
    static final class Quickstart implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--steps", defaultValue = "8000", description = "Teacher steps. Default: ${DEFAULT-VALUE}.") int steps;
        @Option(names = "--iterations", defaultValue = "1000", description = "Distillation iterations of each method (0: teacher only). Default: ${DEFAULT-VALUE}.") long iterations;
        @Option(names = "--degradation-steps", defaultValue = "500", description = "DisBack Stage-1 steps (10 path nodes). Default: ${DEFAULT-VALUE}.") int degradationSteps;
        @Option(names = "--seed", defaultValue = "0", description = "Random seed. Default: ${DEFAULT-VALUE}.") long seed;
        @Option(names = {"--out", "-o"}, paramLabel = "DIR", description = "Run directory. Default: runs/quickstart-<timestamp>.") Path out;
        @Mixin DeviceOption deviceOpt;

        @Override
        public Integer call() throws Exception {
            CommandLine cl = spec.commandLine();
            if (iterations < 0) throw new ParameterException(cl, "--iterations must be >= 0, got " + iterations);
            if (degradationSteps < 10 || degradationSteps % 10 != 0) throw new ParameterException(cl, "--degradation-steps must be a positive multiple of 10, got " + degradationSteps);
            TeacherOptions o = new TeacherOptions();
            new CommandLine(o).parseArgs();   // the defaults of train-teacher
            o.steps = steps;
            o.seed = seed;
            TeacherConfig cfg = o.config(commandString(spec));
            try {
                cfg.validate();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, e.getMessage());
            }
            Device device = deviceOpt.resolve(); // after the cheap checks: starting a device backend takes seconds
            Path dir = out != null ? out : timestamped("quickstart");
            PrintWriter pw = cl.getOut();
            pw.println("Quickstart: ring8 EDM teacher (" + steps + " steps), then baseline and DisBack distillation (" + iterations + " iterations each) into "
                    + dir.toAbsolutePath());
            pw.flush();
            long t0 = System.nanoTime();
            PrintStream log = new PrintStream(System.err, true);
            Path teacherDir = dir.resolve("teacher");
            TeacherTrainer.Result r = TeacherTrainer.train(cfg, teacherDir, 0, log, device);
            printResult(pw, r);
            if (iterations == 0) {
                pw.println(String.format(Locale.ROOT, "Done in %.1f s. Open %s", (System.nanoTime() - t0) / 1e9, r.report()));
                return 0;
            }
            Distill.Options d = new Distill.Options();
            new CommandLine(d).parseArgs();   // the defaults of distill
            d.iterations = iterations;
            d.seed = seed;
            d.degradationSteps = degradationSteps;
            d.degradationEvery = degradationSteps / 10;
            d.backtrackInterval = Math.max(1, iterations / 20);
            d.evalEvery = Math.max(1, iterations / 40);
            d.pathDir = dir.resolve("path");
            var loaded = dev.distillery.distill.teacher.Teachers.load(teacherDir);
            var teacher = loaded.net();
            teacher.module().to(device); // both distillations train where the teacher is
            var eval = Distill.evaluator(loaded, d.config(teacherDir, commandString(spec)));
            java.util.Map<String, java.util.List<java.util.Map<String, Object>>> curves = new java.util.LinkedHashMap<>();
            for (String method : new String[]{"baseline", "disback"}) {
                d.method = method;
                var dc = d.config(teacherDir, commandString(spec));
                var res = dev.distillery.distill.disback.DistillRun.start(dc, teacher, d.pathDir, eval, dir.resolve(method), 0, log);
                curves.put(method, res.evaluations());
            }
            Path report = QuickstartReport.write(dir, r, curves, d, eval.primaryMetric());
            pw.println(String.format(Locale.ROOT, "Done in %.1f s. Open %s", (System.nanoTime() - t0) / 1e9, report));
            return 0;
        }
    }

    @Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Sample a trained teacher: writes a PNG (2-D: scatter of samples vs data; images: a grid, one class per column) and the samples as",
                    ".safetensors (images: 'samples' [N,C,H,W] in [-1,1], and 'labels' when class-conditional).", "For image runs -n and --steps default to the run's grid size and sampler steps."})
    static final class Sample implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--run", paramLabel = "RUN_DIR", required = true, description = "Run directory of a train-teacher run.") Path run;
        @Option(names = "--checkpoint", paramLabel = "DIR", description = "Checkpoint directory; default: the run's newest complete checkpoint.") Path checkpoint;
        @Option(names = {"-n", "--num-samples"}, defaultValue = "2000", description = "Number of samples. Default: ${DEFAULT-VALUE}.") int n;
        @Option(names = "--steps", defaultValue = "24", description = "Sampler steps (Karras grid 0.002..80). Default: ${DEFAULT-VALUE}.") int steps;
        @Option(names = "--sampler", defaultValue = "heun", description = "heun | euler. Default: ${DEFAULT-VALUE}.") String sampler;
        @Option(names = "--no-ema", description = "Use the raw weights instead of the EMA weights.") boolean noEma;
        @Option(names = "--seed", defaultValue = "0", description = "Sampling seed. Default: ${DEFAULT-VALUE}.") long seed;
        @Option(names = {"--out", "-o"}, paramLabel = "DIR", description = "Output directory; default: RUN_DIR/samples.") Path out;
        @Option(names = "--guidance", paramLabel = "W", defaultValue = "1", description = "Class-conditional image teachers: classifier-free guidance scale (1: none). Default: ${DEFAULT-VALUE}.") double guidance;
        @Mixin DeviceOption deviceOpt;

        @Override
        public Integer call() throws Exception {
            CommandLine cl = spec.commandLine();
            if (n < 1) throw new ParameterException(cl, "--num-samples must be >= 1, got " + n);
            if (steps < 1) throw new ParameterException(cl, "--steps must be >= 1, got " + steps);
            boolean heun = switch (sampler.toLowerCase(Locale.ROOT)) {
                case "heun" -> true;
                case "euler" -> false;
                default -> throw new ParameterException(cl, "--sampler must be heun or euler, got '" + sampler + "'");
            };
            Device device = deviceOpt.resolve();
            if (!Files.isRegularFile(run.resolve(RunDir.CONFIG_FILE))) throw new ParameterException(cl, "--run " + run + ": not a run directory (no config.json)");
            if (ImageTeacherTrainer.isImageRun(run)) {
                var pr = cl.getParseResult();
                ImageTeacherCommands.sample(run, checkpoint, pr.hasMatchedOption("-n") ? n : null, pr.hasMatchedOption("--steps") ? steps : null, heun, noEma,
                        guidance, seed, out, cl.getOut(), device);
                return 0;
            }
            TeacherConfig cfg;
            try (RunDir rd = RunDir.resume(run)) {
                cfg = TeacherConfig.fromMap(rd.readConfig());
            }
            Path ck = checkpoint;
            if (ck == null) ck = new Checkpoint(run.resolve(RunDir.CHECKPOINTS), cfg.keepCheckpoints()).latest()
                    .orElseThrow(() -> new ParameterException(cl, "--run " + run + ": no complete checkpoint yet"));
            MlpDenoiser model = TeacherTrainer.newModel(cfg);
            model.to(device); // before the EMA, which keeps its shadow where the weights are
            Ema ema = new Ema(model, cfg.emaDecay());
            long step = Checkpoint.load(ck, model, ema, null).step();
            if (!noEma) ema.copyTo(model);
            Tensor samples = TeacherTrainer.sample(model, new EdmPreconditioning(cfg.sigmaData()), n, steps, new Rng(seed), heun);
            Path dir = out != null ? out : run.resolve(RunDir.SAMPLES);
            Files.createDirectories(dir);
            String base = String.format(Locale.ROOT, "sample-step%06d-%s%d-seed%d", step, sampler.toLowerCase(Locale.ROOT), steps, seed);
            Path png = dir.resolve(base + ".png"), st = dir.resolve(base + ".safetensors");
            Tensor ref = Toy2d.sample(cfg.kind(), new Rng(seed + 77), n);
            ScatterPlot.compare(png, samples, ref, TeacherTrainer.plotLimit(cfg.kind()), 640,
                    cfg.dataset() + " teacher step " + step + (noEma ? "" : " (EMA)") + ", " + sampler + " " + steps + " steps");
            Safetensors.write(st, Map.of("samples", samples), Map.of("run", run.toAbsolutePath().toString(), "checkpoint", ck.getFileName().toString()));
            PrintWriter pw = cl.getOut();
            pw.println("Wrote " + n + " samples from " + ck + ":");
            pw.println("  " + png);
            pw.println("  " + st);
            return 0;
        }
    }
}
