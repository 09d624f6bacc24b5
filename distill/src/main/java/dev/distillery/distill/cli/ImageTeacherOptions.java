package dev.distillery.distill.cli;

import dev.distillery.distill.teacher.ImageTeacherConfig;
import dev.distillery.distill.score.EdmUNetNet;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

import java.util.ArrayList;
import java.util.List;

/**
 * The train-teacher flags that only image data sets use, and the per-data-set defaults of the shared flags: a flag
 * given on the command line always wins; otherwise {@code digits} and {@code fmnist}/{@code mnist} take the values of
 * {@link Defaults} rather than the 2-D toys' defaults printed by {@code --help}.
 */
final class ImageTeacherOptions {
    @Option(names = "--data", paramLabel = "PATH", description = "Image data location: the (Fashion-)MNIST IDX directory, or the digits CSV file. "
            + "Default: the installed Debian copy (/usr/share/datasets/fashion-mnist, sklearn's digits.csv.gz); --dataset mnist needs it.")
    String data;
    @Option(names = "--arch", paramLabel = "unet|mlp", description = "Image denoiser: unet (fmnist, mnist default) or mlp (digits default).")
    String arch;
    @Option(names = "--block-out-channels", paramLabel = "C1,C2,..", split = ",",
            description = "UNet widths per resolution level (diffusers block_out_channels). Default: 32,48,64 (949k parameters with attention and 10 classes).")
    List<Integer> blockOutChannels;
    @Option(names = "--layers-per-block", description = "UNet ResNet layers per down block (diffusers layers_per_block). Default: 1.")
    Integer layersPerBlock;
    @Option(names = "--attention", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Self-attention at the lowest UNet resolution (and in the mid block); --no-attention: ResNet blocks only. Default: on.")
    boolean attention;
    @Option(names = "--attention-head-dim", description = "Channels per attention head. Default: 32.")
    Integer attentionHeadDim;
    @Option(names = "--norm-groups", description = "UNet GroupNorm groups (divides every width). Default: 8.")
    Integer normGroups;
    @Option(names = "--c-noise-scale", description = "UNet timestep = this x ln(sigma)/4 (see EdmUNetNet). Default: 1000.")
    Double cNoiseScale;
    @Option(names = "--class-cond", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Condition the UNet on the class labels (an extra null label for CFG); --no-class-cond: unconditional. Default: on for fmnist/mnist, off for digits.")
    boolean classCond;
    @Option(names = "--label-dropout", description = "Probability of training with the null label (classifier-free guidance). Default: 0.1 with --class-cond.")
    Double labelDropout;
    @Option(names = "--hflip", description = "Random horizontal flips of the training images (not for digits: flips change their meaning).")
    boolean hflip;
    @Option(names = "--objective", paramLabel = "edm|ddpm-eps", defaultValue = "edm",
            description = "Training objective: edm (the preconditioned denoiser, EDM loss) or ddpm-eps (the raw network predicts the noise from "
                    + "(x_t, t) on a DDPM schedule; sampled through the exact VE<->VP conversion). Default: ${DEFAULT-VALUE}.")
    String objective;
    @Option(names = "--beta-schedule", paramLabel = "NAME", description = "ddpm-eps: diffusers beta_schedule (linear, scaled_linear, squaredcos_cap_v2, sigmoid). Default: linear.")
    String betaSchedule;
    @Option(names = "--beta-start", description = "ddpm-eps: diffusers beta_start. Default: 1e-4.")
    Double betaStart;
    @Option(names = "--beta-end", description = "ddpm-eps: diffusers beta_end. Default: 0.02.")
    Double betaEnd;
    @Option(names = "--num-train-timesteps", paramLabel = "T", description = "ddpm-eps: training timesteps T. Default: 1000.")
    Integer numTrainTimesteps;
    @Option(names = "--grid-samples", description = "Samples in each checkpoint's PNG grid (fixed seed; one class per column). Default: 100 (64 for digits).")
    Integer gridSamples;

    /** Defaults of one image data set for the flags shared with the 2-D toys. */
    record Defaults(int steps, int batchSize, double lr, int warmup, double emaDecay, double weightDecay, int checkpointEvery, int logEvery,
                    int sampleSteps, String arch, int gridSamples) {}

    static Defaults defaults(ImageTeacherConfig.Data d) {
        return switch (d) {
            // about 0.03 s per step on 2 cores: minutes
            case DIGITS -> new Defaults(6000, 256, 1e-3, 200, 0.999, 0, 1000, 50, 24, "mlp", 64);
            // 0.7-1 s per step at batch 32 on 2 shared cores: about 40-50 minutes
            case FMNIST, MNIST -> new Defaults(3000, 32, 1e-3, 100, 0.998, 0, 500, 20, 18, "unet", 100);
        };
    }

    /** The image config: shared flags from {@code t} when given on the command line, else this data set's defaults. */
    ImageTeacherConfig config(Main.TeacherOptions t, ParseResult pr, String command) {
        ImageTeacherConfig.Data data = ImageTeacherConfig.Data.of(t.dataset);
        Defaults d = defaults(data);
        String a = arch != null ? arch : d.arch();
        boolean unet = a.equals("unet");
        boolean conditional = pr.hasMatchedOption("--class-cond") ? classCond : data != ImageTeacherConfig.Data.DIGITS;
        int classes = conditional && (unet || pr.hasMatchedOption("--class-cond")) ? ImageTeacherConfig.DEFAULT_CLASSES : 0;   // an MLP asked for labels fails validation
        double dropout = labelDropout != null ? labelDropout : classes > 0 ? 0.1 : 0;
        return new ImageTeacherConfig(t.dataset, this.data, a,
                given(pr, "--steps") ? t.steps : d.steps(),
                given(pr, "--batch-size") ? t.batchSize : d.batchSize(),
                given(pr, "--lr") ? t.lr : d.lr(),
                t.minLrFraction,
                given(pr, "--weight-decay") ? t.weightDecay : d.weightDecay(),
                given(pr, "--warmup") ? t.warmup : d.warmup(),
                t.gradClip,
                given(pr, "--ema-decay") ? t.emaDecay : d.emaDecay(),
                t.sigmaData != null ? t.sigmaData : 0.5, t.pMean, t.pStd,
                blockOutChannels != null ? new ArrayList<>(blockOutChannels) : ImageTeacherConfig.DEFAULT_BLOCK_OUT_CHANNELS,
                layersPerBlock != null ? layersPerBlock : ImageTeacherConfig.DEFAULT_LAYERS_PER_BLOCK, attention,
                attentionHeadDim != null ? attentionHeadDim : ImageTeacherConfig.DEFAULT_ATTENTION_HEAD_DIM,
                normGroups != null ? normGroups : ImageTeacherConfig.DEFAULT_NORM_GROUPS,
                cNoiseScale != null ? cNoiseScale : EdmUNetNet.DEFAULT_C_NOISE_SCALE,
                given(pr, "--width") ? t.width : 256, given(pr, "--depth") ? t.depth : 4, given(pr, "--emb-dim") ? t.embDim : 32,
                classes, dropout, hflip,
                given(pr, "--data-size") ? t.dataSize : 0,
                given(pr, "--checkpoint-every") ? t.checkpointEvery : d.checkpointEvery(),
                t.keepCheckpoints,
                given(pr, "--log-every") ? t.logEvery : d.logEvery(),
                given(pr, "--sample-steps") ? t.sampleSteps : d.sampleSteps(),
                gridSamples != null ? gridSamples : d.gridSamples(),
                objective,
                betaSchedule != null ? betaSchedule : ImageTeacherConfig.DDPM_SCHEDULE_DEFAULTS.betaSchedule().configName(),
                betaStart != null ? betaStart : ImageTeacherConfig.DDPM_SCHEDULE_DEFAULTS.betaStart(),
                betaEnd != null ? betaEnd : ImageTeacherConfig.DDPM_SCHEDULE_DEFAULTS.betaEnd(),
                numTrainTimesteps != null ? numTrainTimesteps : ImageTeacherConfig.DDPM_SCHEDULE_DEFAULTS.numTrainTimesteps(),
                t.seed, command);
    }

    private static boolean given(ParseResult pr, String flag) {
        return pr.hasMatchedOption(flag);
    }
}
