package dev.distillery.distill.teacher;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.autograd.optim.GradClip;
import dev.distillery.autograd.optim.LrSchedule;
import dev.distillery.distill.data.DataLoader;
import dev.distillery.distill.score.DdpmEpsLoss;
import dev.distillery.distill.score.DdpmEpsNet;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.EdmLoss;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.NanGuard;
import dev.distillery.distill.train.Progress;
import dev.distillery.distill.train.RunDir;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The one teacher training loop, shared by the 2-D toys and the image data sets: per step, the learning rate of
 * a linear warm-up then cosine decay, one forward/backward of the objective's loss ({@link TeacherObjective#EDM}:
 * {@link EdmLoss} of any {@link EdmDenoiserNet}; {@link TeacherObjective#DDPM_EPS}: {@link DdpmEpsLoss} of a
 * {@link DdpmEpsNet}), a NaN guard (before the update, so the last checkpoint predates a blow-up), global
 * gradient-norm clipping, an AdamW step and an EMA update; a {@code metrics.jsonl} line every {@code logEvery}
 * steps; every {@code checkpointEvery} steps (and at the end) an atomic checkpoint (model, EMA, optimiser, the
 * generators and the data loader's position) followed by the caller's {@link CheckpointHook} on the EMA weights
 * (sample pictures).
 *
 * <p>Devices: the loop trains where the net's weights are ({@link EdmDenoiserNet#device()}; move the net with
 * {@code module().to(device)} before calling {@link #run}, which makes the optimiser and the EMA after that). Batches,
 * labels and noise are drawn on the host exactly as on the CPU and moved to the device; checkpoints are written from
 * host copies (the safetensors writer downloads) and restored into the device tensors; the EMA copies given to the
 * hook and returned are on the same device.
 *
 * <p>Random streams, all forks of {@code new Rng(seed)}: 2 the noise, 3 ln sigma (edm) or the timestep t (ddpm-eps;
 * checkpointed under the same name "sigma"), 4 label dropout (only when labels are dropped). With class labels, each
 * label is replaced by {@code nullLabel} with probability {@code labelDropout} (uniform draw i of the step from
 * stream 4), which trains the unconditional denoiser used by classifier-free guidance.
 */
public final class EdmTeacherLoop {
    private static final long NOISE_STREAM = 2, SIGMA_STREAM = 3, LABEL_STREAM = 4;

    /**
     * The optimisation settings.
     *
     * @param labelDropout probability of replacing a label by {@code nullLabel}; 0 without class conditioning
     * @param nullLabel    the "no label" id, or -1 when the net is unconditional (labels are then not passed)
     * @param objective    the loss; {@link TeacherObjective#DDPM_EPS} needs a {@link DdpmEpsNet}
     * @param pMean        EDM's P_mean (edm only)
     * @param pStd         EDM's P_std (edm only)
     */
    public record Settings(TeacherObjective objective, String label, long steps, double lr, double minLrFraction, double weightDecay, int warmup,
                           double gradClip, double emaDecay, double pMean, double pStd, int checkpointEvery, int keepCheckpoints, int logEvery,
                           double labelDropout, long nullLabel, long seed) {}

    /** Called after each checkpoint with the step and a copy of the net holding the EMA weights. */
    @FunctionalInterface
    public interface CheckpointHook {
        void afterCheckpoint(long step, EdmDenoiserNet emaNet) throws IOException;
    }

    /** Where the loop stopped: the step, a copy of the net with the EMA weights, and whether it reached the last step. */
    public record Outcome(long step, EdmDenoiserNet emaNet, boolean complete) {}

    private EdmTeacherLoop() {}

    /**
     * Trains {@code net} in place from step 0, or from checkpoint {@code from} (null: fresh start), until
     * {@code s.steps()} or {@code stopAfter} (0: no early stop), writing into {@code run}.
     */
    public static Outcome run(Settings s, EdmDenoiserNet net, DataLoader loader, RunDir run, Path from, long stopAfter, PrintStream log,
                              CheckpointHook hook) throws IOException {
        if (s.objective() == TeacherObjective.DDPM_EPS && !(net instanceof DdpmEpsNet))
            throw new IllegalArgumentException("--objective ddpm-eps trains an epsilon-prediction DdpmEpsNet, got " + net.getClass().getSimpleName());
        var model = net.module();
        Device device = net.device();
        Ema ema = new Ema(model, s.emaDecay());
        Adam opt = Adam.adamW(model.namedParameters(), s.lr(), 0.9, 0.999, 1e-8, s.weightDecay());
        LrSchedule sched = LrSchedule.cosine(s.lr(), s.lr() * s.minLrFraction(), s.warmup(), s.steps());
        boolean conditional = s.nullLabel() >= 0, dropLabels = conditional && s.labelDropout() > 0;
        Rng base = new Rng(s.seed());
        Rng noiseRng = base.fork(NOISE_STREAM), sigmaRng = base.fork(SIGMA_STREAM), labelRng = base.fork(LABEL_STREAM);
        Checkpoint ckpt = new Checkpoint(run.checkpoints(), s.keepCheckpoints());
        long step = 0;
        if (from != null) {
            Checkpoint.State st = Checkpoint.load(from, model, ema, opt);
            step = st.step();
            noiseRng = st.rng("noise");
            sigmaRng = st.rng("sigma");
            if (dropLabels) labelRng = st.rng("labels");
            if (st.dataState() != null) loader.restore(DataLoader.State.decode(st.dataState()));
            log.println("Resumed " + run.root() + " from " + from.getFileName() + " (step " + step + " of " + s.steps() + ")");
        }
        NanGuard guard = new NanGuard(ckpt);
        Progress bar = Progress.stderr(s.label(), s.steps()).start(step);
        long end = stopAfter > 0 ? Math.min(stopAfter, s.steps()) : s.steps();
        double lossSum = 0;
        int lossCount = 0;
        long t0 = System.nanoTime(), tStep = step;
        double loss = Double.NaN;
        while (step < end) {
            step++;
            opt.setLearningRate(sched.at(step));
            DataLoader.Batch batch = loader.next();
            Tensor x0 = batch.images().to(DType.F32).to(device);
            Tensor cond = null;
            if (conditional) {
                long[] labels = batch.labels().clone();
                if (dropLabels) {
                    double[] u = Tensor.rand(labelRng, DType.F64, labels.length).toDoubleArray();
                    for (int i = 0; i < labels.length; i++) if (u[i] < s.labelDropout()) labels[i] = s.nullLabel();
                }
                cond = Tensor.ofLongs(labels, labels.length).to(device);
            }
            opt.zeroGrad();
            var lossVar = switch (s.objective()) {
                case EDM -> EdmLoss.loss(net, x0, cond, s.pMean(), s.pStd(), noiseRng, sigmaRng);
                case DDPM_EPS -> DdpmEpsLoss.loss((DdpmEpsNet) net, x0, cond, noiseRng, sigmaRng);
            };
            lossVar.backward();
            loss = lossVar.item();
            guard.check(step, loss);
            double gradNorm = GradClip.clipGradNorm(model.trainableParameters(), s.gradClip());
            opt.step();
            try (var g = NoGrad.enter()) {
                ema.update();
            }
            lossSum += loss;
            lossCount++;
            if (step % s.logEvery() == 0 || step == end) {
                long now = System.nanoTime();
                double its = (step - tStep) / Math.max(1e-9, (now - t0) / 1e9);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("loss", loss);
                m.put("loss_avg", lossSum / lossCount);
                m.put("lr", opt.learningRate());
                m.put("grad_norm", gradNorm);
                m.put("it_per_s", its);
                run.logMetrics(step, m);
                lossSum = 0;
                lossCount = 0;
                t0 = now;
                tStep = step;
            }
            bar.update(step, String.format(Locale.ROOT, "loss=%.4f", loss));
            if (step % s.checkpointEvery() == 0 || step == s.steps()) {
                run.syncMetrics();
                Map<String, Rng> rngs = new LinkedHashMap<>();
                rngs.put("noise", noiseRng);
                rngs.put("sigma", sigmaRng);
                if (dropLabels) rngs.put("labels", labelRng);
                ckpt.save(model, ema, opt, new Checkpoint.State(step, rngs, loader.state().encode()));
                hook.afterCheckpoint(step, emaCopy(net, ema));
            }
        }
        bar.finish(String.format(Locale.ROOT, "loss=%.4f", loss));
        return new Outcome(step, emaCopy(net, ema), step >= s.steps());
    }

    private static EdmDenoiserNet emaCopy(EdmDenoiserNet net, Ema ema) {
        EdmDenoiserNet copy = net.copyOnDevice();
        ema.copyTo(copy.module());
        return copy;
    }
}
