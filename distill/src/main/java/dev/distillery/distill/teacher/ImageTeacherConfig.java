package dev.distillery.distill.teacher;

import dev.distillery.distill.train.JsonWriter;
import dev.distillery.models.diffusion.BetaSchedule;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.SchedulerConfig;

import static dev.distillery.distill.train.ConfigMap.bool;
import static dev.distillery.distill.train.ConfigMap.integer;
import static dev.distillery.distill.train.ConfigMap.longInt;
import static dev.distillery.distill.train.ConfigMap.real;
import static dev.distillery.distill.train.ConfigMap.required;
import static dev.distillery.distill.train.ConfigMap.string;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything that defines an image teacher run ({@code digits}: an MLP on 8x8 digits as 64-vectors; {@code fmnist},
 * {@code mnist}: a small class-conditional pixel UNet on 32x32); written to {@code config.json} (kind
 * {@code teacher-image}) and read back on resume and by {@code sample}.
 *
 * @param dataDir          the {@code --data} override, or "" for the installed default location
 * @param arch             "unet" or "mlp"
 * @param dataSize         use only the first N training images (0: all)
 * @param classes          number of classes when class-conditional (10), 0 when unconditional
 * @param labelDropout     probability of training with the null label (classifier-free guidance), 0..1
 * @param gridSamples      samples in each checkpoint's PNG grid (fixed seed; with classes, class = index mod classes)
 * @param objective        "edm" or "ddpm-eps" ({@link TeacherObjective}); absent from old configs, which read as "edm"
 * @param betaSchedule     ddpm-eps only: the VP schedule's diffusers {@code beta_schedule} ("linear", "scaled_linear", ...)
 * @param betaStart        ddpm-eps only: diffusers {@code beta_start}
 * @param betaEnd          ddpm-eps only: diffusers {@code beta_end}
 * @param numTrainTimesteps ddpm-eps only: T, diffusers {@code num_train_timesteps}
 */
public record ImageTeacherConfig(String dataset, String dataDir, String arch, int steps, int batchSize, double lr, double minLrFraction,
                                 double weightDecay, int warmup, double gradClip, double emaDecay, double sigmaData, double pMean, double pStd,
                                 List<Integer> blockOutChannels, int layersPerBlock, boolean attention, int attentionHeadDim, int normGroups,
                                 double cNoiseScale, int mlpWidth, int mlpDepth, int embDim, int classes, double labelDropout, boolean hflip,
                                 int dataSize, int checkpointEvery, int keepCheckpoints, int logEvery, int sampleSteps, int gridSamples,
                                 String objective, String betaSchedule, double betaStart, double betaEnd, int numTrainTimesteps, long seed,
                                 String command) {
    public static final String KIND = "teacher-image";
    /** The default 32x32 UNet: 949,185 parameters with attention and 10 classes (+ null label); see {@link #defaultUNetConfig}. */
    public static final List<Integer> DEFAULT_BLOCK_OUT_CHANNELS = List.of(32, 48, 64);
    public static final int DEFAULT_LAYERS_PER_BLOCK = 1, DEFAULT_ATTENTION_HEAD_DIM = 32, DEFAULT_NORM_GROUPS = 8, DEFAULT_CLASSES = 10;

    /** The UNet that {@code train-teacher --dataset fmnist} trains by default (1 channel, 32x32, class-conditional). */
    public static dev.distillery.models.unet.UNet2DConfig defaultUNetConfig() {
        return dev.distillery.distill.score.EdmUNetNet.smallConfig(1, 32, DEFAULT_BLOCK_OUT_CHANNELS, DEFAULT_LAYERS_PER_BLOCK, true,
                DEFAULT_ATTENTION_HEAD_DIM, DEFAULT_NORM_GROUPS, DEFAULT_CLASSES);
    }

    public ImageTeacherConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        dataDir = dataDir == null ? "" : dataDir;
        command = command == null ? "" : command;
        objective = objective == null ? TeacherObjective.EDM.configName() : objective;
    }

    /** The DDPM defaults of the ddpm-eps schedule (diffusers' DDPMScheduler: linear 1e-4 .. 0.02, T = 1000). */
    public static final SchedulerConfig DDPM_SCHEDULE_DEFAULTS = SchedulerConfig.defaults();

    /** The training objective ({@code --objective}). */
    public TeacherObjective trainingObjective() {
        return TeacherObjective.of(objective);
    }

    /** The VP schedule of a ddpm-eps teacher, built by models' {@link NoiseSchedule#fromConfig} (diffusers' beta formulas). */
    public NoiseSchedule noiseSchedule() {
        try {
            SchedulerConfig c = DDPM_SCHEDULE_DEFAULTS.withBetas(BetaSchedule.fromConfig(betaSchedule), betaStart, betaEnd).withNumTrainTimesteps(numTrainTimesteps);
            return NoiseSchedule.fromConfig(c);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--beta-schedule " + betaSchedule + " --beta-start " + betaStart + " --beta-end " + betaEnd
                    + " --num-train-timesteps " + numTrainTimesteps + ": " + e.getMessage(), e);
        }
    }

    /** The image data sets train-teacher knows, by CLI name. */
    public enum Data {
        DIGITS, FMNIST, MNIST;

        public static Data of(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "digits" -> DIGITS;
                case "fmnist", "fashion-mnist", "fashion_mnist" -> FMNIST;
                case "mnist" -> MNIST;
                default -> throw new IllegalArgumentException("--dataset: unknown image dataset '" + name + "' (expected digits, fmnist or mnist)");
            };
        }
    }

    /** Whether {@code name} names an image data set (rather than a 2-D toy). */
    public static boolean isImageDataset(String name) {
        try {
            Data.of(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public Data data() {
        return Data.of(dataset);
    }

    /** Checks every value, failing with the flag's name. */
    public ImageTeacherConfig validate() {
        data();
        if (trainingObjective() == TeacherObjective.DDPM_EPS) {
            if (numTrainTimesteps < 2) throw new IllegalArgumentException("--num-train-timesteps must be >= 2, got " + numTrainTimesteps);
            if (!(betaStart > 0 && betaEnd >= betaStart && betaEnd < 1))
                throw new IllegalArgumentException("--beta-start and --beta-end must satisfy 0 < start <= end < 1, got " + betaStart + " and " + betaEnd);
            noiseSchedule();
        }
        if (!arch.equals("unet") && !arch.equals("mlp")) throw new IllegalArgumentException("--arch must be unet or mlp, got '" + arch + "'");
        positive("--steps", steps);
        positive("--batch-size", batchSize);
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
        if (!(minLrFraction >= 0 && minLrFraction <= 1)) throw new IllegalArgumentException("--min-lr-fraction must be in [0, 1], got " + minLrFraction);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
        if (warmup < 0 || warmup >= steps) throw new IllegalArgumentException("--warmup must be in [0, --steps), got " + warmup + " with --steps " + steps);
        if (!(gradClip > 0)) throw new IllegalArgumentException("--grad-clip must be > 0, got " + gradClip);
        if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("--ema-decay must be in [0, 1), got " + emaDecay);
        if (!(sigmaData > 0)) throw new IllegalArgumentException("--sigma-data must be > 0, got " + sigmaData);
        if (!(pStd > 0)) throw new IllegalArgumentException("--p-std must be > 0, got " + pStd);
        if (arch.equals("unet")) {
            if (blockOutChannels.isEmpty()) throw new IllegalArgumentException("--block-out-channels must name at least one level");
            for (int c : blockOutChannels)
                if (c < 1 || normGroups < 1 || c % normGroups != 0)
                    throw new IllegalArgumentException("--block-out-channels " + blockOutChannels + ": each width must be a positive multiple of --norm-groups " + normGroups);
            positive("--layers-per-block", layersPerBlock);
            positive("--attention-head-dim", attentionHeadDim);
            if (!(cNoiseScale > 0)) throw new IllegalArgumentException("--c-noise-scale must be > 0, got " + cNoiseScale);
        } else {
            positive("--width", mlpWidth);
            positive("--depth", mlpDepth);
            if (embDim < 2) throw new IllegalArgumentException("--emb-dim must be >= 2, got " + embDim);
            if (classes > 0) throw new IllegalArgumentException("--class-cond: the MLP teacher is unconditional; use --no-class-cond (or --arch unet)");
        }
        if (classes < 0) throw new IllegalArgumentException("classes must be >= 0, got " + classes);
        if (!(labelDropout >= 0 && labelDropout < 1)) throw new IllegalArgumentException("--label-dropout must be in [0, 1), got " + labelDropout);
        if (labelDropout > 0 && classes == 0) throw new IllegalArgumentException("--label-dropout needs class conditioning (--class-cond)");
        if (dataSize < 0) throw new IllegalArgumentException("--data-size must be >= 0 (0: all), got " + dataSize);
        if (dataSize > 0 && dataSize < batchSize) throw new IllegalArgumentException("--data-size must be 0 (all) or >= --batch-size, got " + dataSize);
        positive("--checkpoint-every", checkpointEvery);
        positive("--keep-checkpoints", keepCheckpoints);
        positive("--log-every", logEvery);
        positive("--sample-steps", sampleSteps);
        positive("--grid-samples", gridSamples);
        return this;
    }

    private static void positive(String flag, long v) {
        if (v < 1) throw new IllegalArgumentException(flag + " must be >= 1, got " + v);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", KIND);
        m.put("dataset", dataset);
        m.put("data_dir", dataDir);
        m.put("arch", arch);
        m.put("steps", steps);
        m.put("batch_size", batchSize);
        m.put("lr", lr);
        m.put("min_lr_fraction", minLrFraction);
        m.put("weight_decay", weightDecay);
        m.put("warmup", warmup);
        m.put("grad_clip", gradClip);
        m.put("ema_decay", emaDecay);
        m.put("sigma_data", sigmaData);
        m.put("p_mean", pMean);
        m.put("p_std", pStd);
        m.put("block_out_channels", blockOutChannels);
        m.put("layers_per_block", layersPerBlock);
        m.put("attention", attention);
        m.put("attention_head_dim", attentionHeadDim);
        m.put("norm_groups", normGroups);
        m.put("c_noise_scale", cNoiseScale);
        m.put("mlp_width", mlpWidth);
        m.put("mlp_depth", mlpDepth);
        m.put("emb_dim", embDim);
        m.put("classes", classes);
        m.put("label_dropout", labelDropout);
        m.put("hflip", hflip);
        m.put("data_size", dataSize);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("log_every", logEvery);
        m.put("sample_steps", sampleSteps);
        m.put("grid_samples", gridSamples);
        m.put("objective", objective);
        m.put("beta_schedule", betaSchedule);
        m.put("beta_start", betaStart);
        m.put("beta_end", betaEnd);
        m.put("num_train_timesteps", numTrainTimesteps);
        m.put("seed", seed);
        m.put("command", command);
        return m;
    }

    /** Whether a parsed {@code config.json} is an image teacher's. */
    public static boolean isImageConfig(Map<String, Object> m) {
        return KIND.equals(String.valueOf(m.get("kind")));
    }

    public static ImageTeacherConfig fromMap(Map<String, Object> m) {
        List<Integer> ch = new ArrayList<>();
        if (!(required(m, "block_out_channels") instanceof List<?> l)) throw new IllegalArgumentException("config.json: 'block_out_channels' must be a list");
        for (Object o : l) ch.add(Math.toIntExact(JsonWriter.toLong(o)));
        return new ImageTeacherConfig(string(m, "dataset"), string(m, "data_dir"), string(m, "arch"), integer(m, "steps"), integer(m, "batch_size"), real(m, "lr"),
                real(m, "min_lr_fraction"), real(m, "weight_decay"), integer(m, "warmup"), real(m, "grad_clip"), real(m, "ema_decay"), real(m, "sigma_data"), real(m, "p_mean"),
                real(m, "p_std"), ch, integer(m, "layers_per_block"), bool(m, "attention"), integer(m, "attention_head_dim"), integer(m, "norm_groups"),
                real(m, "c_noise_scale"), integer(m, "mlp_width"), integer(m, "mlp_depth"), integer(m, "emb_dim"), integer(m, "classes"), real(m, "label_dropout"),
                bool(m, "hflip"), integer(m, "data_size"), integer(m, "checkpoint_every"), integer(m, "keep_checkpoints"), integer(m, "log_every"), integer(m, "sample_steps"),
                integer(m, "grid_samples"), m.containsKey("objective") ? string(m, "objective") : TeacherObjective.EDM.configName(),
                m.containsKey("beta_schedule") ? string(m, "beta_schedule") : DDPM_SCHEDULE_DEFAULTS.betaSchedule().configName(),
                m.containsKey("beta_start") ? real(m, "beta_start") : DDPM_SCHEDULE_DEFAULTS.betaStart(),
                m.containsKey("beta_end") ? real(m, "beta_end") : DDPM_SCHEDULE_DEFAULTS.betaEnd(),
                m.containsKey("num_train_timesteps") ? integer(m, "num_train_timesteps") : DDPM_SCHEDULE_DEFAULTS.numTrainTimesteps(), longInt(m, "seed"), m.get("command") == null ? "" : m.get("command").toString());
    }
}
