package dev.distillery.distill.teacher;

import dev.distillery.distill.data.Toy2d;

import static dev.distillery.distill.train.ConfigMap.integer;
import static dev.distillery.distill.train.ConfigMap.longInt;
import static dev.distillery.distill.train.ConfigMap.real;
import static dev.distillery.distill.train.ConfigMap.string;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Everything that defines a 2-D teacher run; written to {@code config.json} and read back on resume.
 * {@code sigmaData} NaN means "measure it from the training data" (resolved before the run starts).
 */
public record TeacherConfig(String dataset, int steps, int batchSize, double lr, double minLrFraction, double weightDecay, int warmup,
                            double gradClip, double emaDecay, int width, int depth, int embDim, double sigmaData, double pMean,
                            double pStd, int checkpointEvery, int keepCheckpoints, int logEvery, int sampleSteps, int plotSamples,
                            int evalSamples, int dataSize, long seed, String command) {

    public Toy2d.Kind kind() {
        return kindOf(dataset);
    }

    /** Maps a CLI dataset name to a toy; image datasets are trained by {@link ImageTeacherTrainer} instead. */
    public static Toy2d.Kind kindOf(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "ring8" -> Toy2d.Kind.RING8;
            case "swissroll", "swiss-roll", "swiss_roll" -> Toy2d.Kind.SWISS_ROLL;
            case "checkerboard" -> Toy2d.Kind.CHECKERBOARD;
            case "cifar10", "imagefolder", "images" -> throw new IllegalArgumentException(
                    "--dataset " + name + ": not yet available in train-teacher (2-D toys ring8, swissroll, checkerboard; images digits, fmnist, mnist)");
            default -> throw new IllegalArgumentException("--dataset: unknown dataset '" + name + "' (expected ring8, swissroll, checkerboard, digits, fmnist or mnist)");
        };
    }

    public TeacherConfig withSigmaData(double s) {
        return new TeacherConfig(dataset, steps, batchSize, lr, minLrFraction, weightDecay, warmup, gradClip, emaDecay, width, depth, embDim, s,
                pMean, pStd, checkpointEvery, keepCheckpoints, logEvery, sampleSteps, plotSamples, evalSamples, dataSize, seed, command);
    }

    /** Checks every value, failing with the flag's name. */
    public TeacherConfig validate() {
        kindOf(dataset);
        positive("--steps", steps);
        positive("--batch-size", batchSize);
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
        if (!(minLrFraction >= 0 && minLrFraction <= 1)) throw new IllegalArgumentException("--min-lr-fraction must be in [0, 1], got " + minLrFraction);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
        if (warmup < 0 || warmup >= steps) throw new IllegalArgumentException("--warmup must be in [0, --steps), got " + warmup + " with --steps " + steps);
        if (!(gradClip > 0)) throw new IllegalArgumentException("--grad-clip must be > 0, got " + gradClip);
        if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("--ema-decay must be in [0, 1), got " + emaDecay);
        positive("--width", width);
        positive("--depth", depth);
        if (embDim < 2) throw new IllegalArgumentException("--emb-dim must be >= 2, got " + embDim);
        if (!Double.isNaN(sigmaData) && !(sigmaData > 0)) throw new IllegalArgumentException("--sigma-data must be > 0, got " + sigmaData);
        if (!(pStd > 0)) throw new IllegalArgumentException("--p-std must be > 0, got " + pStd);
        positive("--checkpoint-every", checkpointEvery);
        positive("--keep-checkpoints", keepCheckpoints);
        positive("--log-every", logEvery);
        positive("--sample-steps", sampleSteps);
        positive("--plot-samples", plotSamples);
        positive("--eval-samples", evalSamples);
        if (dataSize < batchSize) throw new IllegalArgumentException("--data-size must be >= --batch-size, got " + dataSize);
        return this;
    }

    private static void positive(String flag, long v) {
        if (v < 1) throw new IllegalArgumentException(flag + " must be >= 1, got " + v);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "teacher-2d");
        m.put("dataset", dataset);
        m.put("steps", steps);
        m.put("batch_size", batchSize);
        m.put("lr", lr);
        m.put("min_lr_fraction", minLrFraction);
        m.put("weight_decay", weightDecay);
        m.put("warmup", warmup);
        m.put("grad_clip", gradClip);
        m.put("ema_decay", emaDecay);
        m.put("width", width);
        m.put("depth", depth);
        m.put("emb_dim", embDim);
        m.put("sigma_data", sigmaData);
        m.put("p_mean", pMean);
        m.put("p_std", pStd);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("log_every", logEvery);
        m.put("sample_steps", sampleSteps);
        m.put("plot_samples", plotSamples);
        m.put("eval_samples", evalSamples);
        m.put("data_size", dataSize);
        m.put("seed", seed);
        m.put("command", command);
        return m;
    }

    public static TeacherConfig fromMap(Map<String, Object> m) {
        return new TeacherConfig(string(m, "dataset"), integer(m, "steps"), integer(m, "batch_size"), real(m, "lr"), real(m, "min_lr_fraction"), real(m, "weight_decay"),
                integer(m, "warmup"), real(m, "grad_clip"), real(m, "ema_decay"), integer(m, "width"), integer(m, "depth"), integer(m, "emb_dim"), real(m, "sigma_data"),
                real(m, "p_mean"), real(m, "p_std"), integer(m, "checkpoint_every"), integer(m, "keep_checkpoints"), integer(m, "log_every"), integer(m, "sample_steps"),
                integer(m, "plot_samples"), integer(m, "eval_samples"), integer(m, "data_size"), longInt(m, "seed"),
                m.get("command") == null ? "" : m.get("command").toString());
    }
}
