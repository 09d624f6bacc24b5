package dev.distillery.distill.disback;

import dev.distillery.distill.score.Conditioning;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.distill.teacher.TeacherData;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.distill.train.NanGuard;
import dev.distillery.distill.train.Progress;
import dev.distillery.distill.train.RunDir;
import dev.distillery.distill.viz.LinePlot;
import dev.distillery.tensor.Tensor;

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
 * One distillation run (baseline, DisBack or the warm-fake ablation) in a run directory: Stage 1 when the method
 * needs the path (recorded once in the path directory and reused by later runs), then Stage 2 with
 * {@link ScoreDistiller}, evaluating the generator every {@code evalEvery} iterations (and before the first),
 * logging {@code metrics.jsonl}, checkpointing generator, EMA, fake score, both optimisers, the random streams and
 * the iteration atomically, and writing sample pictures, metric curves and {@code report.md}. {@link #resume}
 * continues from the newest checkpoint bit for bit.
 *
 * <p>Devices: the run trains where the teacher's weights are ({@link EdmDenoiserNet#device()}; move the teacher with
 * {@code module().to(device)} before calling {@link #start} or {@link #resume}). Generator, fake score, path slot and
 * the Stage-1 copy are made there before their optimisers; random draws are made on the host exactly as on the CPU
 * and moved; checkpoints and path nodes are written as host tensors, so a run or path made on one device resumes or
 * is reused on any other; evaluation samples come back to the host.
 */
public final class DistillRun {
    /** The generator is the run's model (so tools that read {@code model.safetensors} / {@code ema.safetensors} find it). */
    public static final String GENERATOR = Checkpoint.MODEL_FILE, GENERATOR_EMA = Checkpoint.EMA_FILE, FAKE = "fake.safetensors",
            GENERATOR_OPT = "generator_optimizer.safetensors", FAKE_OPT = "fake_optimizer.safetensors";
    /** The optional GAN head's weights (only when the GAN is on; its Adam state is in {@link #FAKE_OPT}). */
    public static final String GAN_HEAD = "gan_head.safetensors";

    /** The checkpoint's record of {@link Conditioning#key()} (prompt runs), checked on resume. */
    static final String CONDITIONING_KEY = "conditioning";

    /** Iteration-indexed metric rows (iteration 0 = before training) and where the report is. */
    public record Result(Path runDir, long iterations, List<Map<String, Object>> evaluations, Path report, DegradationPath path) {}

    private DistillRun() {}

    /** The default path directory for a spec: {@code <teacherDir>/paths/<method-independent spec digest>}. */
    public static Path defaultPathDir(Path teacherDir, DistillRunConfig cfg, EdmDenoiserNet teacher) {
        return defaultPathDir(teacherDir, cfg, teacher, Conditioning.of(teacher));
    }

    /** As above, with the conditioning's {@link Conditioning#key()} appended where it has one (prompts change what Stage 1 records). */
    public static Path defaultPathDir(Path teacherDir, DistillRunConfig cfg, EdmDenoiserNet teacher, Conditioning conditioning) {
        String key = WeightsDigest.of(teacher.module()).substring(0, 12) + "-" + Integer.toHexString(cfg.pathSpec().toString().hashCode());
        if (!conditioning.key().isEmpty()) key += "-" + conditioning.key();
        return teacherDir.resolve("paths").resolve(key);
    }

    /** A new run in {@code dir}. {@code stopAfter} (0: none) stops after that iteration, as a kill would. */
    public static Result start(DistillRunConfig cfg, EdmDenoiserNet teacher, Path pathDir, Evaluator eval, Path dir, long stopAfter, PrintStream log)
            throws IOException {
        return start(cfg, teacher, Conditioning.of(teacher), pathDir, eval, dir, stopAfter, log);
    }

    /**
     * A new run in {@code dir} whose batches are conditioned by {@code conditioning} (class labels, prompts or none);
     * guidance at the config's scale applies to the target only.
     */
    public static Result start(DistillRunConfig cfg, EdmDenoiserNet teacher, Conditioning conditioning, Path pathDir, Evaluator eval, Path dir, long stopAfter,
                               PrintStream log) throws IOException {
        cfg.validate();
        RunDir run = RunDir.create(dir, cfg.toMap());
        return loop(cfg, teacher, conditioning, pathDir, eval, run, null, stopAfter, log);
    }

    /** Continues the run in {@code dir} from its newest complete checkpoint. */
    public static Result resume(EdmDenoiserNet teacher, Path pathDir, Evaluator eval, Path dir, long stopAfter, PrintStream log) throws IOException {
        return resume(teacher, Conditioning.of(teacher), pathDir, eval, dir, stopAfter, log);
    }

    /** Continues the run in {@code dir}; {@code conditioning} must be the one it was started with. */
    public static Result resume(EdmDenoiserNet teacher, Conditioning conditioning, Path pathDir, Evaluator eval, Path dir, long stopAfter, PrintStream log)
            throws IOException {
        DistillRunConfig cfg = readConfig(dir).validate();
        Optional<Path> latest = new Checkpoint(dir.resolve(RunDir.CHECKPOINTS), cfg.keepCheckpoints()).latest();
        long k = 0;
        if (latest.isPresent()) {
            Checkpoint.State st = Checkpoint.readState(latest.get());
            k = st.step();
            String savedKey = st.extra().getOrDefault(CONDITIONING_KEY, "");
            if (!savedKey.equals(conditioning.key())) // before Stage 1 could record a path for other prompts
                throw new IllegalArgumentException(latest.get() + ": the run was made with conditioning '" + savedKey + "', this resume passes '"
                        + conditioning.key() + "' (other prompts or text encoder?)");
        }
        RunDir run = RunDir.resume(dir, k);
        return loop(cfg, teacher, conditioning, pathDir, eval, run, latest.orElse(null), stopAfter, log);
    }

    /** Reads a run's config (for the CLI's --resume). */
    public static DistillRunConfig readConfig(Path dir) throws IOException {
        try (RunDir probe = RunDir.resume(dir)) {
            return DistillRunConfig.fromMap(probe.readConfig());
        }
    }

    private static Result loop(DistillRunConfig cfg, EdmDenoiserNet teacher, Conditioning conditioning, Path pathDir, Evaluator eval, RunDir run, Path from, long stopAfter,
                               PrintStream log) throws IOException {
        try (run) {
            DistillMethod method = cfg.distillMethod();
            String teacherDigest = WeightsDigest.of(teacher.module());
            DegradationPath path = null;
            ScoreDistiller.ConditionSampler conditions = conditioning.sampler();
            TargetScore.Guidance guidance = conditioning.guidance(cfg.guidanceScale()); // the target's only: Stage 1, the fake score and G never see it
            if (method.needsPath()) path = DegradationRecorder.record(pathDir, cfg.pathSpec(), teacher, conditions, 0, log);
            Stage2 nets = Stage2.create(method, teacher, path, cfg.schedule(), guidance);
            EdmDenoiserNet generatorNet = nets.generator(), fake = nets.fake();
            ScoreDistiller distiller = new ScoreDistiller(cfg.distillConfig(), generatorNet, fake, conditions,
                    cfg.distillConfig().ganEnabled() ? TeacherData.forGan(Path.of(cfg.teacher()), teacher.classes()) : null);
            PathTarget pathTarget = nets.pathTarget();
            TargetScore target = nets.target();
            Checkpoint ckpt = new Checkpoint(run.checkpoints(), cfg.keepCheckpoints());
            long k = 0;
            if (from != null) {
                Checkpoint.State st = Checkpoint.readState(from);
                load(generatorNet, Checkpoint.readTensors(from, GENERATOR), from.resolve(GENERATOR));
                load(fake, Checkpoint.readTensors(from, FAKE), from.resolve(FAKE));
                if (distiller.ganHead() != null) distiller.ganHead().loadStateDict(Checkpoint.readTensors(from, GAN_HEAD), true);
                distiller.ema().loadStateDict(Checkpoint.readTensors(from, GENERATOR_EMA));
                distiller.generatorOptimizer().loadStateDict(Checkpoint.readTensors(from, GENERATOR_OPT));
                distiller.fakeOptimizer().loadStateDict(Checkpoint.readTensors(from, FAKE_OPT));
                distiller.restore(st.rngs());
                k = st.step();
                log.println("Resumed " + run.root() + " from " + from.getFileName() + " (iteration " + k + " of " + cfg.iterations() + ")");
            }
            EdmDenoiserNet evalNet = teacher.copyOnDevice();
            OneStepGenerator evalGen = new OneStepGenerator(evalNet, cfg.sigmaInit());
            List<Map<String, Object>> evaluations = new ArrayList<>();
            if (k == 0) evaluations.add(evaluate(run, eval, distiller, evalNet, evalGen, pathTarget, teacher, 0, Map.of()));
            NanGuard guard = new NanGuard(ckpt);
            long end = stopAfter > 0 ? Math.min(stopAfter, cfg.iterations()) : cfg.iterations();
            Progress bar = Progress.stderr(method.cliName(), cfg.iterations()).start(k);
            long t0 = System.nanoTime(), kAtT0 = k;
            while (k < end) {
                if (pathTarget != null) pathTarget.moveTo(k);
                ScoreDistiller.IterationResult r = distiller.iteration(k, target);
                guard.check(k + 1, r.fakeLoss());
                if (!Double.isNaN(r.generatorLoss())) guard.check(k + 1, r.generatorLoss());
                k++;
                bar.update(k, String.format(Locale.ROOT, "fake=%.4f", r.fakeLoss()));
                if (k % cfg.evalEvery() == 0 || k == cfg.iterations()) {
                    Map<String, Object> losses = new LinkedHashMap<>(); // the last iteration's, logged with the evaluation
                    losses.put("fake_loss", r.fakeLoss());
                    if (!Double.isNaN(r.generatorLoss())) losses.put("generator_loss", r.generatorLoss());
                    if (!Double.isNaN(r.discriminatorLoss())) losses.put("discriminator_loss", r.discriminatorLoss());
                    Map<String, Object> row = evaluate(run, eval, distiller, evalNet, evalGen, pathTarget, teacher, k, losses);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    row.put("it_per_s", (k - kAtT0) / Math.max(secs, 1e-9)); // in memory only: metrics.jsonl stays deterministic
                    evaluations.add(row);
                }
                if (k % cfg.checkpointEvery() == 0 || k == cfg.iterations()) {
                    run.syncMetrics();
                    Map<String, Map<String, Tensor>> files = new LinkedHashMap<>();
                    files.put(GENERATOR, generatorNet.module().stateDict());
                    files.put(GENERATOR_EMA, distiller.ema().stateDict());
                    files.put(FAKE, fake.module().stateDict());
                    if (distiller.ganHead() != null) files.put(GAN_HEAD, distiller.ganHead().stateDict());
                    files.put(GENERATOR_OPT, distiller.generatorOptimizer().stateDict());
                    files.put(FAKE_OPT, distiller.fakeOptimizer().stateDict());
                    Map<String, String> extra = new LinkedHashMap<>();
                    extra.put("method", method.cliName());
                    extra.put("teacher_digest", teacherDigest);
                    if (!conditioning.key().isEmpty()) extra.put(CONDITIONING_KEY, conditioning.key()); // absent for labels: their checkpoints stay as they were
                    if (pathTarget != null) extra.put("target_node", Integer.toString(pathTarget.currentIndex()));
                    ckpt.save(files, new Checkpoint.State(k, distiller.state(), null, extra));
                }
            }
            bar.finish("");
            if (!WeightsDigest.of(teacher.module()).equals(teacherDigest)) throw new IllegalStateException("distillation modified the teacher's weights (a bug)");
            if (k < cfg.iterations()) {
                log.println("Stopped after iteration " + k + " of " + cfg.iterations() + "; continue with --resume " + run.root());
                return new Result(run.root(), k, evaluations, null, path);
            }
            run.syncMetrics();
            Path report = finish(cfg, run, eval, distiller, evalNet, evalGen, path);
            return new Result(run.root(), k, evaluations, report, path);
        }
    }

    /**
     * The networks of Stage 2 (spec disback.md §2.5 step 4, invariant 9): the generator starts as a copy of the
     * teacher; the fake score as a copy of the teacher (baseline) or of the path end P[N] (DisBack, warm-fake); the
     * target is the teacher (baseline, warm-fake) or the path node of the schedule (DisBack).
     *
     * @param guidance classifier-free guidance for the target (null: none)
     */
    public record Stage2(EdmDenoiserNet generator, EdmDenoiserNet fake, TargetScore target, PathTarget pathTarget) {
        public static Stage2 create(DistillMethod method, EdmDenoiserNet teacher, DegradationPath path, BacktrackSchedule schedule,
                                    TargetScore.Guidance guidance) throws IOException {
            if (method.needsPath() && path == null) throw new IllegalArgumentException(method.cliName() + " needs a degradation path");
            EdmDenoiserNet generator = teacher.copyOnDevice(), fake = teacher.copyOnDevice();
            if (method.needsPath()) path.loadInto(path.size() - 1, fake);
            PathTarget pathTarget = method == DistillMethod.DISBACK ? new PathTarget(path, schedule, teacher.copyOnDevice(), guidance) : null;
            return new Stage2(generator, fake, pathTarget != null ? pathTarget : TargetScore.of(teacher, guidance), pathTarget);
        }
    }

    /** Uniform class labels for a class-conditional teacher, null for an unconditional one ({@link Conditioning#of}). */
    public static ScoreDistiller.ConditionSampler classSampler(EdmDenoiserNet teacher) {
        return Conditioning.of(teacher).sampler();
    }

    private static void load(EdmDenoiserNet net, Map<String, Tensor> w, Path file) throws IOException {
        try {
            net.module().loadStateDict(w, true);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Evaluates the EMA generator (the generator itself when the EMA decay is 0) and logs the row. */
    private static Map<String, Object> evaluate(RunDir run, Evaluator eval, ScoreDistiller d, EdmDenoiserNet evalNet, OneStepGenerator evalGen,
                                                PathTarget pathTarget, EdmDenoiserNet teacher, long k, Map<String, Object> losses) {
        d.ema().copyTo(evalNet.module());
        EdmDenoiserNet targetNet = pathTarget != null && pathTarget.currentIndex() >= 0 ? pathTarget.network() : teacher;
        Map<String, Object> row = new LinkedHashMap<>(eval.evaluate(evalGen, targetNet, teacher));
        if (pathTarget != null) row.put("target_node", (double) Math.max(pathTarget.currentIndex(), 0));
        row.putAll(losses);
        run.logMetrics(k, row);
        Map<String, Object> withK = new LinkedHashMap<>();
        withK.put("iteration", k);
        withK.putAll(row);
        return withK;
    }

    private static Path finish(DistillRunConfig cfg, RunDir run, Evaluator eval, ScoreDistiller d, EdmDenoiserNet evalNet, OneStepGenerator evalGen,
                               DegradationPath path) throws IOException {
        d.ema().copyTo(evalNet.module());
        eval.writeSamples(run.samples().resolve("final.png"), evalGen, cfg.method() + ": one-step samples after " + cfg.iterations() + " iterations");
        List<Map<String, Object>> rows = run.readMetrics();
        String metric = eval.primaryMetric();
        List<Long> ks = new ArrayList<>();
        List<Double> vs = new ArrayList<>();
        for (var r : rows) {
            if (r.get(metric) == null) continue;
            ks.add(JsonWriter.toLong(r.get("step")));
            vs.add(JsonWriter.toDouble(r.get(metric)));
        }
        Path png = run.plots().resolve(metric + ".png");
        boolean positive = vs.stream().allMatch(v -> !(v <= 0)); // a log axis only for metrics that stay above 0 (FD, SW2, MSE)
        LinePlot.builder().size(720, 420).logY(positive).title(cfg.method() + ": " + metric + " of one-step samples").labels("iteration", metric)
                .series(metric, ks.stream().mapToLong(Long::longValue).toArray(), vs.stream().mapToDouble(Double::doubleValue).toArray()).write(png);
        StringBuilder sb = new StringBuilder();
        sb.append("# Distillation run: ").append(cfg.method()).append("\n\n");
        sb.append("Command:\n\n```\n").append(cfg.command() == null || cfg.command().isEmpty() ? "(not recorded)" : cfg.command()).append("\n```\n\n");
        sb.append(String.format(Locale.ROOT, "%d iterations, %s generator loss, batch %d, lr %.3g / %.3g, sigma_init %.3g, seed %d.%n%n",
                cfg.iterations(), cfg.generatorLoss(), cfg.batchSize(), cfg.lrGenerator(), cfg.lrFake(), cfg.sigmaInit(), cfg.seed()));
        if (path != null)
            sb.append(String.format(Locale.ROOT, "Degradation path: %s, N = %d nodes after the teacher, %d bytes per node on disk, Delta_back = %d.%n%n",
                    path.dir(), path.spec().nodes(), path.bytesPerNode(), cfg.backtrackInterval()));
        sb.append("| iteration | ").append(metric).append(" |\n|---|---|\n");
        for (int i = 0; i < ks.size(); i++) sb.append(String.format(Locale.ROOT, "| %d | %.5g |%n", ks.get(i), vs.get(i)));
        sb.append("\n![samples](samples/final.png)\n\n![").append(metric).append("](plots/").append(metric).append(".png)\n");
        Path report = run.root().resolve("report.md");
        Files.writeString(report, sb.toString(), StandardCharsets.UTF_8);
        return report;
    }
}
