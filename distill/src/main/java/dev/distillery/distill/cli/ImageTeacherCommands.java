package dev.distillery.distill.cli;

import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.teacher.ImageTeacherConfig;
import dev.distillery.distill.teacher.ImageTeacherTrainer;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;
import dev.distillery.distill.viz.ImageGrid;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The image-teacher halves of {@code train-teacher} and {@code sample} (kept out of {@link Main}). */
final class ImageTeacherCommands {
    private ImageTeacherCommands() {}

    /**
     * Samples an image teacher run: a PNG grid (one class per column when class-conditional) and a
     * {@code .safetensors} with {@code samples} [N, C, H, W] in [-1, 1] and, when class-conditional, {@code labels} I64 [N].
     *
     * @param n        samples, or null for the run's grid size
     * @param steps    sampler steps, or null for the run's
     * @param guidance classifier-free guidance scale w (1: none)
     */
    static void sample(Path run, Path checkpoint, Integer n, Integer steps, boolean heun, boolean noEma, double guidance, long seed, Path out,
                       PrintWriter pw, Device device) throws IOException {
        ImageTeacherConfig cfg = ImageTeacherTrainer.readConfig(run);
        if (guidance != 1 && cfg.classes() == 0) throw new IllegalArgumentException("--guidance needs a class-conditional teacher; " + run + " is unconditional");
        int count = n != null ? n : cfg.gridSamples();
        int nSteps = steps != null ? steps : cfg.sampleSteps();
        Path ck = checkpoint;
        if (ck == null) ck = new Checkpoint(run.resolve(RunDir.CHECKPOINTS), cfg.keepCheckpoints()).latest()
                .orElseThrow(() -> new IllegalArgumentException("--run " + run + ": no complete checkpoint yet"));
        EdmDenoiserNet net = ImageTeacherTrainer.newNet(cfg);
        net.module().to(device); // before the EMA, which keeps its shadow where the weights are
        Ema ema = new Ema(net.module(), cfg.emaDecay());
        long step = Checkpoint.load(ck, net.module(), ema, null).step();
        if (!noEma) ema.copyTo(net.module());
        Tensor labels = cfg.classes() > 0 ? ImageTeacherTrainer.classLabels(count, cfg.classes()) : null;
        Tensor samples = ImageTeacherTrainer.sample(net, count, nSteps, labels, guidance, new Rng(seed), heun);
        Path dir = out != null ? out : run.resolve(RunDir.SAMPLES);
        Files.createDirectories(dir);
        String base = String.format(Locale.ROOT, "sample-step%06d-%s%d-w%s-seed%d", step, heun ? "heun" : "euler", nSteps, guidance, seed);
        Path png = dir.resolve(base + ".png"), st = dir.resolve(base + ".safetensors");
        ImageGrid.write(samples, png, ImageTeacherTrainer.gridOptions(cfg, count));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("samples", samples);
        if (labels != null) tensors.put("labels", labels);
        Safetensors.write(st, tensors, Map.of("run", run.toAbsolutePath().toString(), "checkpoint", ck.getFileName().toString(), "ema", Boolean.toString(!noEma),
                "guidance", Double.toString(guidance)));
        pw.println("Wrote " + count + " samples from " + ck + ":");
        pw.println("  " + png);
        pw.println("  " + st);
    }
}
