package dev.distillery.distill.teacher;

import dev.distillery.autograd.optim.Ema;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;
import dev.distillery.models.diffusion.EdmPreconditioning;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads trained teachers from their run directories as {@link dev.distillery.distill.score.EdmDenoiserNet}s. */
public final class Teachers {
    private Teachers() {}

    /** The teacher of a 2-D toy {@code train-teacher} run: its EMA weights from the newest complete checkpoint. */
    public static EdmMlpNet loadToy(Path runDir) throws IOException {
        if (!Files.isRegularFile(runDir.resolve(RunDir.CONFIG_FILE)))
            throw new IllegalArgumentException("--teacher " + runDir + ": not a run directory (no " + RunDir.CONFIG_FILE + ")");
        TeacherConfig cfg;
        try (RunDir rd = RunDir.resume(runDir)) {
            cfg = TeacherConfig.fromMap(rd.readConfig());
        }
        MlpDenoiser model = TeacherTrainer.newModel(cfg);
        loadEmaWeights(runDir, cfg.keepCheckpoints(), model, cfg.emaDecay());
        return new EdmMlpNet(model, new EdmPreconditioning(cfg.sigmaData()));
    }

    /** A teacher loaded from its run: the network (EMA weights) and what it was trained on. */
    public record Loaded(dev.distillery.distill.score.EdmDenoiserNet net, String dataset, boolean image, String dataDir) {}

    /** The teacher of any {@code train-teacher} run (2-D toy or image): EMA weights of the newest complete checkpoint. */
    public static Loaded load(Path runDir) throws IOException {
        if (dev.distillery.distill.text.DiffusersTextTeacher.isPipelineFolder(runDir) && !Files.isRegularFile(runDir.resolve(RunDir.CONFIG_FILE)))
            throw new IllegalArgumentException("--teacher " + runDir + ": a diffusers pipeline folder (text-conditional); it needs --prompts FILE (see DiffusersTextTeacher)");
        if (!Files.isRegularFile(runDir.resolve(RunDir.CONFIG_FILE)))
            throw new IllegalArgumentException("--teacher " + runDir + ": not a run directory (no " + RunDir.CONFIG_FILE + ")");
        if (!ImageTeacherTrainer.isImageRun(runDir)) return new Loaded(loadToy(runDir), datasetOf(runDir), false, "");
        ImageTeacherConfig cfg = ImageTeacherTrainer.readConfig(runDir);
        var net = ImageTeacherTrainer.newNet(cfg);
        loadEmaWeights(runDir, cfg.keepCheckpoints(), net.module(), cfg.emaDecay());
        return new Loaded(net, cfg.dataset(), true, cfg.dataDir());
    }

    /** Puts the EMA weights of the run's newest complete checkpoint into {@code module}. */
    private static void loadEmaWeights(Path runDir, int keepCheckpoints, dev.distillery.autograd.nn.Module module, double emaDecay) throws IOException {
        Path ck = new Checkpoint(runDir.resolve(RunDir.CHECKPOINTS), keepCheckpoints).latest()
                .orElseThrow(() -> new IllegalArgumentException("--teacher " + runDir + ": no complete checkpoint yet"));
        Ema ema = new Ema(module, emaDecay);
        Checkpoint.load(ck, module, ema, null);
        ema.copyTo(module);
    }

    /** The dataset name a teacher run was trained on. */
    public static String datasetOf(Path runDir) throws IOException {
        try (RunDir rd = RunDir.resume(runDir)) {
            Object d = rd.readConfig().get("dataset");
            if (d == null) throw new IllegalArgumentException("--teacher " + runDir + ": config.json has no 'dataset'");
            return d.toString();
        }
    }
}
