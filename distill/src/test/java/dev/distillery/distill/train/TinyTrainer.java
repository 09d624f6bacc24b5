package dev.distillery.distill.train;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.distill.data.DataLoader;
import dev.distillery.distill.data.Toy2d;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A deterministic tiny training job for the checkpoint tests: linear regression y = x w + b + 0.1 noise on 2-D ring
 * points, a Linear(2, 1) trained by AdamW with an EMA, data order from a shuffling {@link DataLoader} and label noise
 * from an {@link Rng}. Also the child JVM's main for the SIGKILL test.
 */
final class TinyTrainer {
    static final Tensor TRUE_W = Tensor.of(new float[]{0.5f, -1.5f}, 2, 1);

    final Linear model = new Linear(2, 1, true, new Rng(7));
    final Optimizer opt = Adam.adamW(model.namedParameters(), 5e-2, 0.9, 0.99, 1e-8, 0.01);
    final Ema ema = new Ema(model, 0.9);
    final DataLoader loader = new DataLoader(Toy2d.dataset(Toy2d.Kind.RING8, 40, 3), 8, 11);
    Rng noise = new Rng(13);
    long step;
    /** Multiplies the learning rate by this from step {@link #blowUpAt} on (to provoke a NaN). */
    double blowUpFactor = 1;
    long blowUpAt = Long.MAX_VALUE;

    /** One optimisation step; returns the loss of the batch (before the update). */
    double step(NanGuard guard) {
        Tensor x = loader.next().images();
        Tensor y = x.matmul(TRUE_W).add(0.3).add(Tensor.randn(noise, DType.F32, x.shape()[0], 1).mul(0.1));
        if (step + 1 >= blowUpAt) y = y.mul(blowUpFactor);
        opt.zeroGrad();
        Variable l = model.forward(Variable.constant(x)).sub(Variable.constant(y)).square().mean();
        double loss = l.item();
        step++;
        if (guard != null) guard.check(step, loss);
        l.backward();
        opt.step();
        ema.update();
        return loss;
    }

    Checkpoint.State state() {
        Map<String, Rng> rngs = new LinkedHashMap<>();
        rngs.put("noise", noise);
        return new Checkpoint.State(step, rngs, loader.state().encode(), Map.of("note", "tiny"));
    }

    /** Restores everything from {@code ckpt}. */
    Checkpoint.State load(Path ckpt) throws IOException {
        Checkpoint.State s = Checkpoint.load(ckpt, model, ema, opt);
        noise = s.rng("noise");
        loader.restore(DataLoader.State.decode(s.dataState()));
        step = s.step();
        return s;
    }

    static Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", "linear-2-1");
        c.put("lr", 5e-2);
        c.put("batch", 8);
        return c;
    }

    /**
     * Trains in {@code dir} up to {@code total} steps, logging each loss and checkpointing every {@code every} steps
     * (keeping {@code keep}); resumes from the latest checkpoint when the run exists.
     */
    static TinyTrainer train(Path dir, long total, int every, int keep) throws IOException {
        TinyTrainer t = new TinyTrainer();
        RunDir run;
        Checkpoint ck;
        if (java.nio.file.Files.exists(dir.resolve(RunDir.CONFIG_FILE))) {
            ck = new Checkpoint(dir.resolve(RunDir.CHECKPOINTS), keep);
            var latest = ck.latest();
            if (latest.isPresent()) t.load(latest.get());
            run = RunDir.resume(dir, t.step);
        } else {
            run = RunDir.create(dir, config());
            ck = new Checkpoint(run.checkpoints(), keep);
        }
        try (run) {
            NanGuard guard = new NanGuard(ck);
            while (t.step < total) {
                double loss = t.step(guard);
                run.logMetrics(t.step, Map.of("loss", loss));
                if (t.step % every == 0) {
                    run.syncMetrics();
                    ck.save(t.model, t.ema, t.opt, t.state());
                }
            }
        }
        return t;
    }

    /** Child-JVM entry: {@code dir total every keep}. */
    public static void main(String[] args) throws IOException {
        train(Path.of(args[0]), Long.parseLong(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    }
}
