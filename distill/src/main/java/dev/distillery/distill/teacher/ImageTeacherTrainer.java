package dev.distillery.distill.teacher;

import dev.distillery.autograd.NoGrad;
import dev.distillery.distill.data.DataLoader;
import dev.distillery.distill.data.Dataset;
import dev.distillery.distill.data.Digits;
import dev.distillery.distill.data.Mnist;
import dev.distillery.distill.data.Sample;
import dev.distillery.distill.score.DdpmEpsNet;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.score.EdmUNetNet;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.distill.train.RunDir;
import dev.distillery.distill.viz.ImageGrid;
import dev.distillery.distill.viz.LinePlot;
import dev.distillery.models.diffusion.Denoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.EdmSampler;
import dev.distillery.models.diffusion.Guidance;
import dev.distillery.models.diffusion.Sigmas;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Json;
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
 * Trains an image teacher with the shared {@link EdmTeacherLoop} (the loss, optimiser, EMA, checkpoints and
 * resume are the 2-D toys'): sklearn's 8x8 digits with an MLP ({@link EdmMlpNet} over 64-vectors) or
 * (Fashion-)MNIST padded to 32x32 with a small class-conditional pixel UNet ({@link EdmUNetNet}), labels dropped to
 * the null label with probability {@code label_dropout} for classifier-free guidance. With {@code objective ddpm-eps}
 * the same raw MLP or UNet is trained as a DDPM epsilon-prediction {@link DdpmEpsNet} on
 * {@link ImageTeacherConfig#noiseSchedule()} and sampled, like the EDM nets, through its exact VE/VP conversion. Writes a PNG grid of
 * fixed-seed EMA samples at every checkpoint ({@code samples/step-N.png}; with classes, column = class), a grid of
 * training images ({@code samples/data.png}), and at the end {@code samples/final.png}, {@code samples/final.safetensors}
 * ({@code samples} [N, C, H, W] in [-1, 1], {@code labels} I64 when class-conditional), {@code plots/loss.png} and
 * {@code report.md}.
 */
public final class ImageTeacherTrainer {
    private static final System.Logger LOG = System.getLogger(ImageTeacherTrainer.class.getName());
    /** The sampler's Karras grid. */
    public static final double SIGMA_MIN = 0.002, SIGMA_MAX = 80, RHO = 7;
    private static final long GRID_SEED_OFFSET = 1000;
    /** Samples denoised per batched sampler call (bounds memory for large -n). */
    private static final int SAMPLE_CHUNK = 128;

    private ImageTeacherTrainer() {}

    /** A new run in {@code dir} (empty or absent). {@code stopAfter} (0: none) stops after that step, as a kill would. */
    public static TeacherTrainer.Result train(ImageTeacherConfig cfg, Path dir, long stopAfter, PrintStream log) throws IOException {
        return train(cfg, dir, stopAfter, log, Device.CPU);
    }

    /** {@link #train(ImageTeacherConfig, Path, long, PrintStream)} with the net moved once to {@code device} and trained there. */
    public static TeacherTrainer.Result train(ImageTeacherConfig cfg, Path dir, long stopAfter, PrintStream log, Device device) throws IOException {
        cfg.validate();
        Dataset data = loadData(cfg);   // before creating the run, so a bad --data leaves nothing behind
        RunDir run = RunDir.create(dir, cfg.toMap());
        writeDataGrid(cfg, data, run);
        return loop(cfg, data, run, null, stopAfter, log, device);
    }

    /** Continues the run in {@code dir} from its newest complete checkpoint. */
    public static TeacherTrainer.Result resume(Path dir, long stopAfter, PrintStream log) throws IOException {
        return resume(dir, stopAfter, log, Device.CPU);
    }

    /** {@link #resume(Path, long, PrintStream)} on {@code device}. */
    public static TeacherTrainer.Result resume(Path dir, long stopAfter, PrintStream log, Device device) throws IOException {
        ImageTeacherConfig cfg = readConfig(dir);
        Optional<Path> latest = new Checkpoint(dir.resolve(RunDir.CHECKPOINTS), cfg.keepCheckpoints()).latest();
        long step = latest.isPresent() ? Checkpoint.readState(latest.get()).step() : 0;
        if (step >= cfg.steps() && Files.isRegularFile(dir.resolve("report.md"))) {
            log.println("Run " + dir + " is already complete (step " + step + " of " + cfg.steps() + "); see " + dir.resolve("report.md"));
            return new TeacherTrainer.Result(dir, step, Map.of(), null);
        }
        Dataset data = loadData(cfg);
        RunDir run = RunDir.resume(dir, step);
        return loop(cfg, data, run, latest.orElse(null), stopAfter, log, device);
    }

    /** The image config of run {@code dir}; errors name the directory. */
    public static ImageTeacherConfig readConfig(Path dir) throws IOException {
        try (RunDir probe = RunDir.resume(dir)) {
            Map<String, Object> m = probe.readConfig();
            if (!ImageTeacherConfig.isImageConfig(m)) throw new IllegalArgumentException(dir + " is not an image teacher run (config.json kind " + m.get("kind") + ")");
            return ImageTeacherConfig.fromMap(m).validate();
        }
    }

    /** Whether run directory {@code dir} holds an image teacher (its config.json kind is {@value ImageTeacherConfig#KIND}). */
    @SuppressWarnings("unchecked")
    public static boolean isImageRun(Path dir) throws IOException {
        Path file = dir.resolve(RunDir.CONFIG_FILE);
        try {
            return Json.parse(Files.readAllBytes(file)) instanceof Map<?, ?> m && ImageTeacherConfig.isImageConfig((Map<String, Object>) m);
        } catch (Json.ParseException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The training images: digits 8x8 in [-1, 1], or (Fashion-)MNIST padded to 32x32; the first {@code dataSize} when > 0. */
    public static Dataset loadData(ImageTeacherConfig cfg) throws IOException {
        String dir = cfg.dataDir().isEmpty() ? null : cfg.dataDir();
        Dataset full = switch (cfg.data()) {
            case DIGITS -> Digits.open(dir);
            case FMNIST -> Mnist.open(dir, Mnist.Split.TRAIN, Mnist.Fit.PAD_32);
            case MNIST -> {
                if (dir == null)   // the installed default is Fashion-MNIST; never train on it under the name mnist
                    throw new IllegalArgumentException("--dataset mnist needs --data DIR (a directory with train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz])");
                yield Mnist.open(dir, Mnist.Split.TRAIN, Mnist.Fit.PAD_32);
            }
        };
        if (cfg.dataSize() == 0 || cfg.dataSize() >= full.size()) return full;
        int n = cfg.dataSize();
        return new Dataset() {
            @Override public int size() { return n; }
            @Override public Sample get(int i) { return full.get(i); }
        };
    }

    /** A fresh network shaped by {@code cfg} (weights from {@code new Rng(seed)}). */
    public static EdmDenoiserNet newNet(ImageTeacherConfig cfg) {
        EdmPreconditioning pre = new EdmPreconditioning(cfg.sigmaData());
        int[] shape = imageShape(cfg);
        boolean eps = cfg.trainingObjective() == TeacherObjective.DDPM_EPS;
        if (cfg.arch().equals("mlp")) {
            int dim = shape[0] * shape[1] * shape[2];
            MlpDenoiser mlp = new MlpDenoiser(dim, cfg.mlpWidth(), cfg.mlpDepth(), cfg.embDim(), new Rng(cfg.seed()));
            return eps ? DdpmEpsNet.mlp(mlp, cfg.noiseSchedule(), pre, shape) : new EdmMlpNet(mlp, pre, shape);
        }
        var unetCfg = EdmUNetNet.smallConfig(shape[0], shape[1], cfg.blockOutChannels(), cfg.layersPerBlock(), cfg.attention(), cfg.attentionHeadDim(),
                cfg.normGroups(), cfg.classes());
        UNet2DModel unet = new UNet2DModel(unetCfg, new Rng(cfg.seed()));
        return eps ? DdpmEpsNet.unet(unet, cfg.noiseSchedule(), pre, shape[1], shape[2]) : new EdmUNetNet(unet, pre, cfg.cNoiseScale(), shape[1], shape[2]);
    }

    /** [C, H, W] of the data set's images. */
    public static int[] imageShape(ImageTeacherConfig cfg) {
        return cfg.data() == ImageTeacherConfig.Data.DIGITS ? new int[]{1, 8, 8} : new int[]{1, 32, 32};
    }

    private static TeacherTrainer.Result loop(ImageTeacherConfig cfg, Dataset data, RunDir run, Path from, long stopAfter, PrintStream log, Device device)
            throws IOException {
        try (run) {
            EdmDenoiserNet net = newNet(cfg);
            net.module().to(device); // once, before the loop makes the optimiser and the EMA
            long nullLabel = cfg.classes() > 0 ? cfg.classes() : -1;
            LOG.log(System.Logger.Level.INFO, "{0} teacher: {1} parameters, {2} training images", cfg.dataset(), net.module().parameterCount(), data.size());
            DataLoader loader = new DataLoader(data, cfg.batchSize(), true, true, cfg.hflip(), cfg.seed());
            var settings = new EdmTeacherLoop.Settings(cfg.trainingObjective(), "teacher " + cfg.dataset(), cfg.steps(), cfg.lr(), cfg.minLrFraction(), cfg.weightDecay(),
                    cfg.warmup(), cfg.gradClip(), cfg.emaDecay(), cfg.pMean(), cfg.pStd(), cfg.checkpointEvery(), cfg.keepCheckpoints(), cfg.logEvery(),
                    cfg.labelDropout(), nullLabel, cfg.seed());
            long t0 = System.nanoTime();
            EdmTeacherLoop.Outcome out = EdmTeacherLoop.run(settings, net, loader, run, from, stopAfter, log, (step, emaNet) -> {
                Grid g = gridSamples(cfg, emaNet);
                ImageGrid.write(g.samples(), run.samples().resolve(String.format(Locale.ROOT, "step-%06d.png", step)), gridOptions(cfg, g.samples().size(0)));
            });
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            if (!out.complete()) {
                log.println("Stopped after step " + out.step() + " of " + cfg.steps() + "; continue with --resume " + run.root());
                return new TeacherTrainer.Result(run.root(), out.step(), Map.of(), null);
            }
            return finish(cfg, run, out, net.module().parameterCount(), trainSeconds);
        }
    }

    /** Fixed-seed samples for the checkpoint grids and the final picture. */
    public record Grid(Tensor samples, Tensor labels) {}

    static Grid gridSamples(ImageTeacherConfig cfg, EdmDenoiserNet net) {
        int n = cfg.gridSamples();
        Tensor labels = cfg.classes() > 0 ? classLabels(n, cfg.classes()) : null;
        return new Grid(sample(net, n, cfg.sampleSteps(), labels, 1.0, new Rng(cfg.seed() + GRID_SEED_OFFSET), true), labels);
    }

    /** Labels {@code i mod classes}, so a grid with {@code classes} columns has one class per column. */
    public static Tensor classLabels(int n, int classes) {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) l[i] = i % classes;
        return Tensor.ofLongs(l, n);
    }

    public static ImageGrid.Options gridOptions(ImageTeacherConfig cfg, int n) {
        int columns = cfg.classes() > 0 ? cfg.classes() : (int) Math.ceil(Math.sqrt(n));
        return ImageGrid.Options.columns(Math.min(columns, n)).withScale(cfg.data() == ImageTeacherConfig.Data.DIGITS ? 4 : 2);
    }

    /**
     * {@code n} samples of the EDM probability-flow ODE (Heun or Euler on the Karras grid 0.002..80, rho 7) from
     * {@code x_T ~ N(0, 80^2 I)} drawn from {@code rng}, in chunks of {@value #SAMPLE_CHUNK}. With class labels and
     * {@code guidance != 1}: classifier-free guidance {@code D_null + w (D_y - D_null)}.
     *
     * @param labels I64 [n] class ids, or null for an unconditional net
     */
    public static Tensor sample(EdmDenoiserNet net, int n, int steps, Tensor labels, double guidance, Rng rng, boolean heun) {
        double[] sigmas = Sigmas.karras(steps, SIGMA_MIN, SIGMA_MAX, RHO);
        int[] shape = net.sampleShape();
        int[] full = new int[shape.length + 1];
        full[0] = n;
        System.arraycopy(shape, 0, full, 1, shape.length);
        Tensor x = EdmSampler.initialNoise(rng, sigmas[0], DType.F32, full);
        List<Tensor> parts = new ArrayList<>();
        // more than one chunk takes minutes for a UNet: show progress (samples done, ETA)
        dev.distillery.distill.train.Progress bar = n > SAMPLE_CHUNK ? dev.distillery.distill.train.Progress.stderr("sampling", n).start(0) : null;
        // The starting noise is drawn on the host (the same on every device), sampled where the net's weights are,
        // and the samples come back to the host.
        Device dev = net.device();
        try (var g = NoGrad.enter()) {
            for (int start = 0; start < n; start += SAMPLE_CHUNK) {
                int len = Math.min(SAMPLE_CHUNK, n - start);
                Tensor xc = x.narrow(0, start, len).contiguous().to(dev);
                Denoiser d;
                if (labels == null) d = net.asDenoiser(null);
                else {
                    Tensor lc = labels.narrow(0, start, len).contiguous().to(dev);
                    d = net.asDenoiser(lc);
                    if (guidance != 1) {
                        long[] nul = new long[len];
                        java.util.Arrays.fill(nul, net.nullLabel());
                        d = Guidance.cfg(net.asDenoiser(Tensor.ofLongs(nul, len).to(dev)), d, guidance);
                    }
                }
                parts.add((heun ? EdmSampler.heun(d, xc, sigmas, null) : EdmSampler.euler(d, xc, sigmas, null)).to(Device.CPU));
                if (bar != null) bar.update(start + len, "");
            }
        }
        if (bar != null) bar.finish("");
        return parts.size() == 1 ? parts.get(0) : Tensor.concat(parts, 0);
    }

    private static void writeDataGrid(ImageTeacherConfig cfg, Dataset data, RunDir run) {
        int n = Math.min(cfg.gridSamples(), data.size());
        List<Tensor> imgs = new ArrayList<>();
        for (int i = 0; i < n; i++) imgs.add(data.get(i).image());
        ImageGrid.write(Tensor.stack(imgs, 0), run.samples().resolve("data.png"), ImageGrid.Options.columns(gridOptions(cfg, n).columns())
                .withScale(gridOptions(cfg, n).scale()));
    }

    private static TeacherTrainer.Result finish(ImageTeacherConfig cfg, RunDir run, EdmTeacherLoop.Outcome out, long params, double trainSeconds) throws IOException {
        Grid g = gridSamples(cfg, out.emaNet());
        Path finalPng = run.samples().resolve("final.png");
        ImageGrid.write(g.samples(), finalPng, gridOptions(cfg, g.samples().size(0)));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("samples", g.samples());
        if (g.labels() != null) tensors.put("labels", g.labels());
        Safetensors.write(run.samples().resolve("final.safetensors"), tensors);

        List<Map<String, Object>> rows = run.readMetrics();
        List<Long> steps = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        double seconds = 0;
        for (var r : rows) {
            if (r.get("loss_avg") == null) continue;
            steps.add(JsonWriter.toLong(r.get("step")));
            losses.add(JsonWriter.toDouble(r.get("loss_avg")));
        }
        LinePlot.builder().size(720, 420).logY(true).title(cfg.dataset() + " teacher: " + lossName(cfg) + " (mean per logging interval)").labels("step", "loss")
                .series("loss", steps.stream().mapToLong(Long::longValue).toArray(), losses.stream().mapToDouble(Double::doubleValue).toArray())
                .write(run.plots().resolve("loss.png"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", params);
        m.put("final_loss_avg", losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1));
        m.put("first_loss_avg", losses.isEmpty() ? Double.NaN : losses.get(0));
        m.put("train_seconds_this_session", trainSeconds);
        run.logMetrics(out.step(), m);
        run.syncMetrics();
        Path report = run.root().resolve("report.md");
        Files.writeString(report, report(cfg, out.step(), m), StandardCharsets.UTF_8);
        return new TeacherTrainer.Result(run.root(), out.step(), m, report);
    }

    private static String report(ImageTeacherConfig cfg, long step, Map<String, Object> m) {
        StringBuilder sb = new StringBuilder();
        boolean eps = cfg.trainingObjective() == TeacherObjective.DDPM_EPS;
        sb.append("# ").append(cfg.dataset()).append(eps ? " DDPM epsilon-prediction teacher\n\n" : " EDM teacher\n\n");
        sb.append("Command:\n\n```\n").append(cfg.command().isEmpty() ? "(not recorded)" : cfg.command()).append("\n```\n\n");
        String model = cfg.arch().equals("mlp")
                ? String.format(Locale.ROOT, "MLP %d x %d (SiLU, %d-d sinusoidal %s embedding) on flat %s images", cfg.mlpDepth(), cfg.mlpWidth(), cfg.embDim(),
                eps ? "3 t / T" : "c_noise", dims(imageShape(cfg)))
                : String.format(Locale.ROOT, "UNet2DModel block_out_channels %s, %d layer(s) per block, attention %s, GroupNorm %d groups, timestep %s%s",
                cfg.blockOutChannels(), cfg.layersPerBlock(), cfg.attention() ? "at the lowest resolution (head dim " + cfg.attentionHeadDim() + ")" : "off",
                cfg.normGroups(), eps ? "t (DDPM, no preconditioning)" : String.format(Locale.ROOT, "= %.4g ln(sigma)/4", cfg.cNoiseScale()), cfg.classes() > 0 ? String.format(Locale.ROOT, ", %d classes + null label (label dropout %.2f)", cfg.classes(), cfg.labelDropout()) : "");
        String objective = eps
                ? "epsilon prediction, t ~ U{0..T-1} on " + cfg.noiseSchedule() + " (beta_schedule " + cfg.betaSchedule() + "), loss mean (eps_hat - eps)^2"
                : String.format(Locale.ROOT, "sigma_data %.3g, ln sigma ~ N(%.2f, %.2f^2)", cfg.sigmaData(), cfg.pMean(), cfg.pStd());
        sb.append(String.format(Locale.ROOT, "%d steps, batch %d, %s, %s parameters; %s; AdamW lr %.3g (warm-up %d, cosine to %.3g x), "
                        + "weight decay %.3g, EMA %.4f, grad clip %.3g, horizontal flips %s, %s training images, seed %d.%n%n",
                step, cfg.batchSize(), model, m.get("parameters"), objective, cfg.lr(), cfg.warmup(), cfg.minLrFraction(),
                cfg.weightDecay(), cfg.emaDecay(), cfg.gradClip(), cfg.hflip() ? "on" : "off", cfg.dataSize() == 0 ? "all" : Integer.toString(cfg.dataSize()), cfg.seed()));
        sb.append("## Training\n\n| metric | value |\n|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| %s, first logging interval | %.4g |%n", lossName(cfg), (Double) m.get("first_loss_avg")));
        sb.append(String.format(Locale.ROOT, "| %s, last logging interval | %.4g |%n", lossName(cfg), (Double) m.get("final_loss_avg")));
        sb.append(String.format(Locale.ROOT, "| training time of the last session | %.0f s |%n%n", (Double) m.get("train_seconds_this_session")));
        sb.append("## Samples\n\n");
        sb.append(String.format(Locale.ROOT, "EMA weights, Heun %d steps (%d model calls per sample), fixed seed%s: [samples/final.png](samples/final.png) "
                + "(as tensors: [samples/final.safetensors](samples/final.safetensors)); training images: [samples/data.png](samples/data.png); "
                + "each checkpoint: `samples/step-*.png`.%n%n", cfg.sampleSteps(), 2 * cfg.sampleSteps() - 1,
                cfg.classes() > 0 ? ", one class per column, no guidance" : ""));
        sb.append("![samples](samples/final.png) ![data](samples/data.png)\n\n![loss](plots/loss.png)\n");
        return sb.toString();
    }

    private static String lossName(ImageTeacherConfig cfg) {
        return cfg.trainingObjective() == TeacherObjective.DDPM_EPS ? "DDPM eps loss" : "EDM loss";
    }

    private static String dims(int[] s) {
        return s[0] + "x" + s[1] + "x" + s[2];
    }
}
