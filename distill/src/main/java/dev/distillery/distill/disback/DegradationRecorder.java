package dev.distillery.distill.disback;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.distill.score.DenoisingScoreMatching;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.NoiseLevels;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.train.NanGuard;
import dev.distillery.distill.train.Progress;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DisBack Stage 1, degradation recording (spec disback.md §2.5 steps 1-3, paper Alg. 1, Eq. (7)):
 * <pre>
 *   s' = copy(teacher);  P = [teacher]
 *   for k = 1 .. K_deg:  x0 = G^0(z) (frozen initial generator, no gradient)
 *                        one Adam step on s' with the DSM loss on x0
 *                        if k mod Delta_deg == 0: append a copy of s' to P
 * </pre>
 * G^0 is the initial generator, {@code teacher(sigma_init z; sigma_init)}; it and the teacher are only read (the
 * teacher's weights are digested before and after to prove it). Nodes are written to disk as they are made (only the
 * score weights, {@link DegradationPath}), with the Adam state and the random streams of the last node beside them, so
 * an interrupted recording continues from its last node bit for bit; a complete path is reused as is. The recording
 * runs where the teacher's weights are: latents, noise and labels are drawn on the host and moved, and the nodes
 * and the optimiser state are written as host tensors (the safetensors writer downloads), so a path recorded on one
 * device is reused on any other.
 */
public final class DegradationRecorder {
    private static final System.Logger LOG = System.getLogger(DegradationRecorder.class.getName());
    private static final long LATENT_STREAM = 21, SIGMA_STREAM = 22, NOISE_STREAM = 23, COND_STREAM = 24;

    private DegradationRecorder() {}

    static String stateFileName(int node) {
        return String.format("stage1-state-%03d.safetensors", node);
    }

    /**
     * Records (or continues, or reuses) the path in {@code dir}.
     *
     * @param conditions class-label sampler for conditional teachers, or null
     * @param stopAfter  stop after this many steps in total, as an interruption would (0: run to the end)
     */
    public static DegradationPath record(Path dir, DegradationPath.Spec spec, EdmDenoiserNet teacher, ScoreDistiller.ConditionSampler conditions,
                                         long stopAfter, PrintStream log) throws IOException {
        String teacherDigest = WeightsDigest.of(teacher.module());
        Files.createDirectories(dir);
        DegradationPath path = DegradationPath.readIndex(dir);
        if (path != null) {
            path.requireSame(spec, teacherDigest);
            if (path.isComplete()) {
                log.println("Reusing the degradation path in " + dir + " (" + path.size() + " nodes, " + path.bytesPerNode() + " bytes each)");
                return path;
            }
        }
        NoiseLevels noise = NoiseLevels.parse(spec.noise());
        EdmDenoiserNet degrading = teacher.copyOnDevice(); // where the teacher is, before the optimiser is made
        Adam opt = Adam.adam(degrading.module().namedParameters(), spec.lr(), spec.beta1(), spec.beta2(), 1e-8, 0);
        OneStepGenerator initial = new OneStepGenerator(teacher, spec.sigmaInit());
        Rng base = new Rng(spec.seed());
        Rng latentRng = base.fork(LATENT_STREAM), sigmaRng = base.fork(SIGMA_STREAM), noiseRng = base.fork(NOISE_STREAM), condRng = base.fork(COND_STREAM);
        List<DegradationPath.Node> nodes = new ArrayList<>();
        long step = 0;
        if (path == null || path.size() == 0) {
            nodes.add(writeNode(dir, 0, degrading));
            path = new DegradationPath(dir, spec, teacherDigest, nodes);
            path.writeIndex();
        } else {
            nodes.addAll(path.nodes());
            int last = nodes.size() - 1;
            path.loadInto(last, degrading);
            if (last > 0) {
                Path st = dir.resolve(stateFileName(last));
                Map<String, Tensor> saved = Safetensors.read(st);
                Map<String, String> meta;
                try (var reader = Safetensors.openFile(st)) {
                    meta = reader.metadata();
                }
                try {
                    opt.loadStateDict(saved);
                } catch (IllegalArgumentException e) {
                    throw new IOException(st + ": " + e.getMessage(), e);
                }
                latentRng = rng(meta, "latent", st);
                sigmaRng = rng(meta, "sigma", st);
                noiseRng = rng(meta, "noise", st);
                condRng = rng(meta, "cond", st);
            }
            step = (long) last * spec.every();
            log.println("Continuing the degradation path in " + dir + " from node " + last + " (step " + step + " of " + spec.steps() + ")");
        }
        long end = stopAfter > 0 ? Math.min(stopAfter, spec.steps()) : spec.steps();
        Progress bar = Progress.stderr("stage 1 (degradation)", spec.steps()).start(step);
        NanGuard guard = new NanGuard(null);
        double loss = Double.NaN;
        while (step < end) {
            step++;
            Tensor cond = conditions == null ? null : conditions.sample(condRng, spec.batchSize()).to(degrading.device()); // host draws, moved
            Tensor x0 = initial.sample(initial.latents(latentRng, spec.batchSize()), cond);
            double[] sigma = noise.sample(sigmaRng, spec.batchSize());
            Tensor n = Tensor.randn(noiseRng, DType.F32, x0.shape()).to(x0.device());
            opt.zeroGrad();
            Variable l = DenoisingScoreMatching.loss(degrading, x0, cond, sigma, n);
            l.backward();
            loss = l.item();
            guard.check(step, loss);
            opt.step();
            opt.zeroGrad();
            bar.update(step, String.format(Locale.ROOT, "dsm=%.4f nodes=%d", loss, nodes.size()));
            if (step % spec.every() == 0) {
                int j = (int) (step / spec.every());
                nodes.add(writeNode(dir, j, degrading));
                Map<String, String> meta = new LinkedHashMap<>();
                put(meta, "latent", latentRng);
                put(meta, "sigma", sigmaRng);
                put(meta, "noise", noiseRng);
                put(meta, "cond", condRng);
                meta.put("step", Long.toString(step));
                Safetensors.write(dir.resolve(stateFileName(j)), opt.stateDict(), meta);
                path = new DegradationPath(dir, spec, teacherDigest, nodes);
                path.writeIndex();
                Files.deleteIfExists(dir.resolve(stateFileName(j - 1)));
            }
        }
        bar.finish(String.format(Locale.ROOT, "dsm=%.4f nodes=%d", loss, nodes.size()));
        if (!WeightsDigest.of(teacher.module()).equals(teacherDigest)) throw new IllegalStateException("Stage 1 modified the teacher's weights (a bug)");
        if (path.isComplete()) {
            Files.deleteIfExists(dir.resolve(stateFileName(path.size() - 1)));
            LOG.log(System.Logger.Level.INFO, "degradation path {0}: {1} nodes, {2} bytes per node", dir, path.size(), path.bytesPerNode());
        }
        return path;
    }

    private static DegradationPath.Node writeNode(Path dir, int j, EdmDenoiserNet net) throws IOException {
        String name = DegradationPath.nodeFileName(j);
        Map<String, Tensor> w = new LinkedHashMap<>(net.module().stateDict());
        Safetensors.write(dir.resolve(name), w, Map.of("node", Integer.toString(j)));
        return new DegradationPath.Node(j, name, Files.size(dir.resolve(name)), WeightsDigest.of(w));
    }

    private static void put(Map<String, String> meta, String name, Rng r) {
        meta.put("rng." + name, r.seed() + ":" + r.offset());
    }

    private static Rng rng(Map<String, String> meta, String name, Path file) throws IOException {
        String v = meta.get("rng." + name);
        if (v == null) throw new IOException(file + ": metadata lacks rng." + name);
        String[] p = v.split(":");
        return new Rng(Long.parseLong(p[0]), Long.parseLong(p[1]));
    }
}
