package dev.distillery.distill.teacher;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.distill.data.DataLoader;
import dev.distillery.distill.data.GaussianMixture;
import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.metrics.Mmd;
import dev.distillery.distill.score.EdmLoss;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;
import dev.distillery.distill.viz.LinePlot;
import dev.distillery.distill.viz.ScatterPlot;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.EdmSampler;
import dev.distillery.models.diffusion.Sigmas;
import dev.distillery.models.diffusion.SlicedWasserstein;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Trains a 2-D EDM teacher (Karras et al. 2022) with the shared {@link EdmTeacherLoop}: sigma ~ exp(N(P_mean, P_std^2)), loss
 * lambda(sigma) |D(x0 + sigma n; sigma) - x0|^2 (mean over batch and coordinates) with D preconditioned by
 * {@link EdmPreconditioning}; AdamW with linear warm-up and cosine decay, gradient clipping, EMA, a NaN guard,
 * atomic checkpoints (model, EMA, optimiser, RNGs, loader state) and a final evaluation (sliced Wasserstein, MMD and,
 * for ring8, the MSE against the exact mixture denoiser) written to {@code metrics.jsonl} and {@code report.md}.
 */
public final class TeacherTrainer {
    /** Noise levels at which ring8's learned denoiser is compared to the exact one. */
    public static final double[] EXACT_SIGMAS = {0.05, 0.2, 0.5, 1.0, 2.0, 5.0};
    public static final double SIGMA_MIN = 0.002, SIGMA_MAX = 80, RHO = 7;
    private static final long DATA_SEED_OFFSET = 1, EVAL_SEED_OFFSET = 1000;

    /** The outcome: final step, final metrics, where the report is. */
    public record Result(Path runDir, long step, Map<String, Object> metrics, Path report) {}

    private TeacherTrainer() {}

    /** A new run in {@code dir} (which must be empty or absent). {@code stopAfter} (0: none) stops early after that step, as a kill would. */
    public static Result train(TeacherConfig cfg, Path dir, long stopAfter, PrintStream log) throws IOException {
        return train(cfg, dir, stopAfter, log, Device.CPU);
    }

    /**
     * {@link #train(TeacherConfig, Path, long, PrintStream)} on {@code device}: the model is built on the host (the
     * same initial weights), moved there once, and trained there; data and noise are drawn on the host as on the CPU.
     */
    public static Result train(TeacherConfig cfg, Path dir, long stopAfter, PrintStream log, Device device) throws IOException {
        cfg.validate();
        if (Double.isNaN(cfg.sigmaData())) cfg = cfg.withSigmaData(dataStd(cfg));
        RunDir run = RunDir.create(dir, cfg.toMap());
        return loop(cfg, run, null, stopAfter, log, device);
    }

    /** Continues the run in {@code dir} from its newest complete checkpoint (or from scratch if it has none). */
    public static Result resume(Path dir, long stopAfter, PrintStream log) throws IOException {
        return resume(dir, stopAfter, log, Device.CPU);
    }

    /** {@link #resume(Path, long, PrintStream)} on {@code device} (a run may continue on another device than it started on). */
    public static Result resume(Path dir, long stopAfter, PrintStream log, Device device) throws IOException {
        if (!Files.isRegularFile(dir.resolve(RunDir.CONFIG_FILE)))
            throw new IllegalArgumentException("--resume " + dir + ": not a run directory (no " + RunDir.CONFIG_FILE + ")");
        TeacherConfig cfg;
        try (RunDir probe = RunDir.resume(dir)) {
            cfg = TeacherConfig.fromMap(probe.readConfig()).validate();
        }
        Optional<Path> latest = new Checkpoint(dir.resolve(RunDir.CHECKPOINTS), cfg.keepCheckpoints()).latest();
        long step = latest.isPresent() ? Checkpoint.readState(latest.get()).step() : 0;
        if (step >= cfg.steps() && Files.isRegularFile(dir.resolve("report.md"))) {
            log.println("Run " + dir + " is already complete (step " + step + " of " + cfg.steps() + "); see " + dir.resolve("report.md"));
            return new Result(dir, step, Map.of(), null);
        }
        RunDir run = RunDir.resume(dir, step);
        return loop(cfg, run, latest.orElse(null), stopAfter, log, device);
    }

    /** The fixed training set of a toy teacher run: {@code dataSize} points of its toy, drawn once from its seed. */
    public static dev.distillery.distill.data.Dataset trainingData(TeacherConfig cfg) {
        return Toy2d.dataset(cfg.kind(), cfg.dataSize(), cfg.seed() + DATA_SEED_OFFSET);
    }

    /** Per-coordinate standard deviation of the training set (pooled over both coordinates). */
    static double dataStd(TeacherConfig cfg) {
        double[] p = Toy2d.sample(cfg.kind(), new Rng(cfg.seed() + DATA_SEED_OFFSET), cfg.dataSize()).toDoubleArray();
        double mx = 0, my = 0;
        int n = p.length / 2;
        for (int i = 0; i < n; i++) { mx += p[2 * i]; my += p[2 * i + 1]; }
        mx /= n; my /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) ss += sq(p[2 * i] - mx) + sq(p[2 * i + 1] - my);
        return Math.sqrt(ss / (2.0 * n));
    }

    private static double sq(double v) { return v * v; }

    /** A model shaped by {@code cfg} with its initial weights. */
    public static MlpDenoiser newModel(TeacherConfig cfg) {
        return new MlpDenoiser(cfg.width(), cfg.depth(), cfg.embDim(), new Rng(cfg.seed()));
    }

    private static Result loop(TeacherConfig cfg, RunDir run, Path from, long stopAfter, PrintStream log, Device device) throws IOException {
        try (run) {
            EdmPreconditioning pre = new EdmPreconditioning(cfg.sigmaData());
            MlpDenoiser model = newModel(cfg);
            model.to(device); // once, before the loop makes the optimiser and the EMA
            EdmMlpNet net = new EdmMlpNet(model, pre);
            DataLoader loader = new DataLoader(trainingData(cfg), cfg.batchSize(), true, true, false, cfg.seed());
            EdmTeacherLoop.Settings settings = new EdmTeacherLoop.Settings(TeacherObjective.EDM, "teacher " + cfg.dataset(), cfg.steps(), cfg.lr(), cfg.minLrFraction(),
                    cfg.weightDecay(), cfg.warmup(), cfg.gradClip(), cfg.emaDecay(), cfg.pMean(), cfg.pStd(), cfg.checkpointEvery(), cfg.keepCheckpoints(),
                    cfg.logEvery(), 0, -1, cfg.seed());
            EdmTeacherLoop.Outcome out = EdmTeacherLoop.run(settings, net, loader, run, from, stopAfter, log, (step, emaNet) -> {
                MlpDenoiser emaModel = ((EdmMlpNet) emaNet).mlp();
                Tensor gen = sample(emaModel, pre, cfg.plotSamples(), cfg.sampleSteps(), new Rng(cfg.seed() + EVAL_SEED_OFFSET));
                Tensor ref = Toy2d.sample(cfg.kind(), new Rng(cfg.seed() + EVAL_SEED_OFFSET + 1), cfg.plotSamples());
                ScatterPlot.compare(run.samples().resolve(String.format("step-%06d.png", step)), gen, ref, plotLimit(cfg.kind()), 512,
                        cfg.dataset() + " teacher (EMA, Heun " + cfg.sampleSteps() + " steps) at step " + step);
            });
            if (!out.complete()) {
                log.println("Stopped after step " + out.step() + " of " + cfg.steps() + "; continue with --resume " + run.root());
                return new Result(run.root(), out.step(), Map.of(), null);
            }
            return finish(cfg, run, ((EdmMlpNet) out.emaNet()).mlp(), pre, out.step(), log);
        }
    }

    /** One forward/backward pass of the shared {@link EdmLoss}; returns the loss. Leaves gradients in the model. */
    static double trainStep(MlpDenoiser model, EdmPreconditioning pre, TeacherConfig cfg, Tensor x0, Rng noiseRng, Rng sigmaRng, Adam opt) {
        opt.zeroGrad();
        Variable loss = EdmLoss.loss(new EdmMlpNet(model, pre), x0, null, cfg.pMean(), cfg.pStd(), noiseRng, sigmaRng);
        loss.backward();
        return loss.item();
    }

    /**
     * {@code n} Heun samples of the EDM ODE from {@code model} on the Karras grid (0.002 .. 80, rho 7): the starting
     * noise is drawn on the host, sampled where the model's weights are, and the samples returned on the host.
     */
    public static Tensor sample(MlpDenoiser model, EdmPreconditioning pre, int n, int steps, Rng rng) {
        return sample(model, pre, n, steps, rng, true);
    }

    public static Tensor sample(MlpDenoiser model, EdmPreconditioning pre, int n, int steps, Rng rng, boolean heun) {
        double[] sigmas = Sigmas.karras(steps, SIGMA_MIN, SIGMA_MAX, RHO);
        Tensor x = EdmSampler.initialNoise(rng, sigmas[0], DType.F32, n, 2).to(model.device());
        try (var g = NoGrad.enter()) {
            return (heun ? EdmSampler.heun(model.denoiser(pre), x, sigmas, null) : EdmSampler.euler(model.denoiser(pre), x, sigmas, null)).to(Device.CPU);
        }
    }

    public static double plotLimit(Toy2d.Kind kind) {
        return 3.0;
    }

    private static Result finish(TeacherConfig cfg, RunDir run, MlpDenoiser emaModel, EdmPreconditioning pre, long step, PrintStream log) throws IOException {
        log.println("Evaluating the EMA model (" + cfg.evalSamples() + " samples, Heun " + cfg.sampleSteps() + " steps)...");
        Map<String, Object> m = evaluate(emaModel, pre, cfg);
        Tensor gen = (Tensor) m.remove("_samples");
        Tensor ref = (Tensor) m.remove("_reference");
        run.logMetrics(step, m);
        run.syncMetrics();
        Path finalPng = run.samples().resolve("final.png");
        ScatterPlot.compare(finalPng, gen, ref, plotLimit(cfg.kind()), 640,
                cfg.dataset() + " teacher (EMA, Heun " + cfg.sampleSteps() + " steps), " + cfg.evalSamples() + " samples");
        Safetensors.write(run.samples().resolve("final.safetensors"), Map.of("samples", gen));
        Path lossPng = run.plots().resolve("loss.png");
        List<Map<String, Object>> rows = run.readMetrics();
        List<Long> steps = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        for (var r : rows) {
            if (r.get("loss_avg") == null) continue;
            steps.add(dev.distillery.distill.train.JsonWriter.toLong(r.get("step")));
            losses.add(dev.distillery.distill.train.JsonWriter.toDouble(r.get("loss_avg")));
        }
        LinePlot.builder().size(720, 420).logY(true).title(cfg.dataset() + " teacher: EDM loss (mean per logging interval)").labels("step", "loss")
                .series("loss", steps.stream().mapToLong(Long::longValue).toArray(), losses.stream().mapToDouble(Double::doubleValue).toArray())
                .write(lossPng);
        Path report = run.root().resolve("report.md");
        Files.writeString(report, report(cfg, step, m), StandardCharsets.UTF_8);
        return new Result(run.root(), step, m, report);
    }

    /** Final metrics of a model: SW_1/SW_2 and MMD to fresh data, their floors between two data samples, and for ring8 the exact-denoiser MSE. */
    public static Map<String, Object> evaluate(MlpDenoiser model, EdmPreconditioning pre, TeacherConfig cfg) {
        int n = cfg.evalSamples();
        long es = cfg.seed() + EVAL_SEED_OFFSET;
        Tensor gen = sample(model, pre, n, cfg.sampleSteps(), new Rng(es + 2));
        Tensor ref = Toy2d.sample(cfg.kind(), new Rng(es + 3), n);
        Tensor ref2 = Toy2d.sample(cfg.kind(), new Rng(es + 4), n);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eval_samples", n);
        m.put("sw1", SlicedWasserstein.distance(gen, ref, 256, new Rng(es + 5), 1));
        m.put("sw1_data_floor", SlicedWasserstein.distance(ref2, ref, 256, new Rng(es + 5), 1));
        m.put("sw2", SlicedWasserstein.distance(gen, ref, 256, new Rng(es + 5)));
        m.put("sw2_data_floor", SlicedWasserstein.distance(ref2, ref, 256, new Rng(es + 5)));
        Mmd.Result mmd = Mmd.computeMedianHeuristic(gen, ref);
        m.put("mmd2", mmd.mmd2());
        m.put("mmd2_data_floor", Mmd.compute(ref2, ref, mmd.bandwidth()).mmd2());
        m.put("mmd_bandwidth", mmd.bandwidth());
        if (cfg.kind() == Toy2d.Kind.RING8) {
            GaussianMixture mix = Toy2d.ring8Mixture();
            var learned = model.denoiser(pre);
            var exact = mix.edmDenoiser();
            Rng r = new Rng(es + 6);
            for (double s : EXACT_SIGMAS) {
                Tensor x0 = mix.sample(r, 2000);
                Tensor x = x0.add(Tensor.randn(r, DType.F32, 2000, 2).mul(s));
                double[] a, b;
                try (var g = NoGrad.enter()) {
                    a = learned.predict(x, s).toDoubleArray();
                    b = exact.predict(x, s).toDoubleArray();
                }
                double se = 0;
                for (int i = 0; i < a.length; i++) se += sq(a[i] - b[i]);
                m.put(String.format(Locale.ROOT, "denoiser_mse_sigma_%s", fmtSigma(s)), se / a.length);
            }
        }
        m.put("_samples", gen);
        m.put("_reference", ref);
        return m;
    }

    private static String fmtSigma(double s) {
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }

    private static String report(TeacherConfig cfg, long step, Map<String, Object> m) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(cfg.dataset()).append(" EDM teacher\n\n");
        sb.append("Teacher training and sampling only: distillation (DisBack) is not implemented yet, so this run has no student.\n\n");
        sb.append("Command:\n\n```\n").append(cfg.command() == null || cfg.command().isEmpty() ? "(not recorded)" : cfg.command()).append("\n```\n\n");
        sb.append(String.format(Locale.ROOT, "%d steps, batch %d, MLP %d x %d (SiLU, %d-d sinusoidal c_noise embedding), sigma_data %.4f, "
                        + "AdamW lr %.3g (warm-up %d, cosine to %.3g x), EMA %.4f, grad clip %.3g, seed %d.%n%n",
                step, cfg.batchSize(), cfg.depth(), cfg.width(), cfg.embDim(), cfg.sigmaData(), cfg.lr(), cfg.warmup(), cfg.minLrFraction(),
                cfg.emaDecay(), cfg.gradClip(), cfg.seed()));
        sb.append("## Metrics (EMA model, Heun ").append(cfg.sampleSteps()).append(" steps, ").append(cfg.evalSamples()).append(" samples vs fresh data)\n\n");
        sb.append("| metric | value | two data samples (floor) |\n|---|---|---|\n");
        row(sb, "sliced Wasserstein-1", m.get("sw1"), m.get("sw1_data_floor"));
        row(sb, "sliced Wasserstein-2", m.get("sw2"), m.get("sw2_data_floor"));
        row(sb, "MMD^2 (Gaussian kernel, median bandwidth)", m.get("mmd2"), m.get("mmd2_data_floor"));
        for (var e : m.entrySet())
            if (e.getKey().startsWith("denoiser_mse_sigma_"))
                row(sb, "MSE vs exact mixture denoiser, sigma = " + e.getKey().substring("denoiser_mse_sigma_".length()), e.getValue(), null);
        sb.append("\n## Plots\n\n");
        sb.append("- Samples vs data: [samples/final.png](samples/final.png) (samples as [samples/final.safetensors](samples/final.safetensors))\n");
        sb.append("- Loss curve: [plots/loss.png](plots/loss.png)\n");
        sb.append("- Samples at each checkpoint: `samples/step-*.png`\n\n");
        sb.append("![samples](samples/final.png)\n\n![loss](plots/loss.png)\n");
        return sb.toString();
    }

    private static void row(StringBuilder sb, String name, Object v, Object floor) {
        sb.append("| ").append(name).append(" | ").append(fmt(v)).append(" | ").append(floor == null ? "" : fmt(floor)).append(" |\n");
    }

    private static String fmt(Object v) {
        return v instanceof Number n ? String.format(Locale.ROOT, "%.4g", n.doubleValue()) : String.valueOf(v);
    }
}
