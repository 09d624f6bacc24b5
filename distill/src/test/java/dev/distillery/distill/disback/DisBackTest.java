package dev.distillery.distill.disback;

import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.score.EdmMlpNet;
import dev.distillery.distill.score.GaussianNets;
import dev.distillery.distill.score.NoiseLevels;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.score.DenoisingScoreMatching;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Spec disback.md §7 invariants 6, 7, 9, 10, 11 and the run's resumption. */
class DisBackTest {
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static DegradationPath.Spec spec(int steps, int every) {
        return new DegradationPath.Spec(steps, every, 64, 3e-3, 0, 0.999, "lognormal:-1.2,1.2", 1.0, 4);
    }

    /** A small, fast run config around a random-init 2-D teacher. */
    static DistillRunConfig config(String method, long iterations, int degSteps, int degEvery, long interval) {
        return new DistillRunConfig(method, "test-teacher", iterations, "di", "lognormal:-1.2,1.2", "lognormal:-1.2,1.2", 32, 1e-3, 1e-3, 0, 0.999, 0, 1,
                false, 0, 0, 1.0, 1.0, degSteps, degEvery, 3e-3, interval, "", 5, 256, 4, 2, 7, "");
    }

    @Test
    void pathStartsAtTheTeacherHasNPlusOneDistinctNodesAndLeavesTheTeacherAlone(@TempDir Path dir) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(1);
        String teacherDigest = WeightsDigest.of(teacher.module());
        DegradationPath path = DegradationRecorder.record(dir, spec(50, 10), teacher, null, 0, QUIET);
        assertTrue(path.isComplete());
        assertEquals(6, path.size(), "N + 1 = K_deg / Delta_deg + 1");
        assertEquals(teacherDigest, WeightsDigest.of(teacher.module()), "Stage 1 never touches the teacher (nor G^0, which is the teacher)");
        assertEquals(teacherDigest, path.nodes().get(0).digest(), "P[0] is bit-equal to the teacher");
        EdmMlpNet slot = teacher.copy();
        assertEquals(teacherDigest, path.loadInto(0, slot));
        Set<String> digests = new HashSet<>();
        for (int j = 0; j < path.size(); j++) {
            assertEquals(path.nodes().get(j).digest(), path.loadInto(j, slot), "node " + j + " on disk has the recorded weights");
            digests.add(path.nodes().get(j).digest());
            assertTrue(Files.size(dir.resolve(DegradationPath.nodeFileName(j))) > 0);
        }
        assertEquals(6, digests.size(), "nodes are snapshots taken at different steps, not one shared copy");
        // a second call reuses the path without recording
        long modified = Files.getLastModifiedTime(dir.resolve(DegradationPath.nodeFileName(5))).toMillis();
        DegradationPath again = DegradationRecorder.record(dir, spec(50, 10), teacher, null, 0, QUIET);
        assertEquals(path.nodes(), again.nodes());
        assertEquals(modified, Files.getLastModifiedTime(dir.resolve(DegradationPath.nodeFileName(5))).toMillis());
        // another spec or teacher is refused, naming the field
        IOException e = assertThrows(IOException.class, () -> DegradationRecorder.record(dir, spec(60, 10), teacher, null, 0, QUIET));
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
        e = assertThrows(IOException.class, () -> DegradationRecorder.record(dir, spec(50, 10), GaussianNets.tinyMlp(2), null, 0, QUIET));
        assertTrue(e.getMessage().contains("another teacher"), e.getMessage());
    }

    @Test
    void interruptedRecordingContinuesBitForBit(@TempDir Path a, @TempDir Path b) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(3);
        DegradationPath whole = DegradationRecorder.record(a, spec(40, 10), teacher, null, 0, QUIET);
        DegradationPath part = DegradationRecorder.record(b, spec(40, 10), teacher, null, 25, QUIET);   // killed after step 25
        assertEquals(3, part.size(), "nodes 0, 10, 20 were saved before the interruption");
        DegradationPath resumed = DegradationRecorder.record(b, spec(40, 10), teacher, null, 0, QUIET);
        assertEquals(whole.nodes().stream().map(DegradationPath.Node::digest).toList(), resumed.nodes().stream().map(DegradationPath.Node::digest).toList());
    }

    @Test
    void eachSwitchLoadsTheScheduledNode(@TempDir Path dir) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(4);
        DegradationPath path = DegradationRecorder.record(dir, spec(40, 10), teacher, null, 0, QUIET);
        BacktrackSchedule schedule = new BacktrackSchedule(4, 3);
        PathTarget target = new PathTarget(path, schedule, teacher.copy(), null);
        String previous = null;
        int switches = 0;
        for (long k = 0; k < 20; k++) {
            target.moveTo(k);
            int j = schedule.targetIndex(k);
            assertEquals(j, target.currentIndex());
            String now = WeightsDigest.of(target.network().module());
            assertEquals(path.nodes().get(j).digest(), now, "the target holds P[" + j + "] at k = " + k);
            if (previous != null && !now.equals(previous)) switches++;
            if (k > 0 && schedule.targetIndex(k) != schedule.targetIndex(k - 1)) assertNotEquals(previous, now, "switch at k = " + k + " changed the weights");
            previous = now;
        }
        assertEquals(3, switches);
        assertEquals(WeightsDigest.of(teacher.module()), previous, "ends at the teacher");
    }

    @Test
    void stage2StartsFromThePathEndOrTheTeacher(@TempDir Path dir) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(5);
        DegradationPath path = DegradationRecorder.record(dir, spec(30, 10), teacher, null, 0, QUIET);
        String t = WeightsDigest.of(teacher.module()), end = path.nodes().get(3).digest();
        var disback = DistillRun.Stage2.create(DistillMethod.DISBACK, teacher, path, new BacktrackSchedule(3, 5), null);
        assertEquals(end, WeightsDigest.of(disback.fake().module()), "DisBack: s_phi = P[N]");
        assertEquals(t, WeightsDigest.of(disback.generator().module()), "G = teacher copy");
        assertNotNull(disback.pathTarget());
        var warm = DistillRun.Stage2.create(DistillMethod.WARM_FAKE, teacher, path, new BacktrackSchedule(3, 5), null);
        assertEquals(end, WeightsDigest.of(warm.fake().module()));
        assertNull(warm.pathTarget(), "warm-fake targets the teacher");
        var base = DistillRun.Stage2.create(DistillMethod.BASELINE, teacher, null, new BacktrackSchedule(0, 5), null);
        assertEquals(t, WeightsDigest.of(base.fake().module()), "baseline: s_phi = teacher");
    }

    @Test
    void disbackWithAnEmptyPathIsTheBaselineBitForBit(@TempDir Path root) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(6);
        ToyEvaluator eval = new ToyEvaluator(Toy2d.Kind.RING8, 256, 1);
        DistillRun.Result b = DistillRun.start(config("baseline", 12, 0, 10, 5), teacher, root.resolve("path"), eval, root.resolve("b"), 0, QUIET);
        DistillRun.Result d = DistillRun.start(config("disback", 12, 0, 10, 5), teacher, root.resolve("path"), eval, root.resolve("d"), 0, QUIET);
        Path cb = new Checkpoint(b.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        Path cd = new Checkpoint(d.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        for (String f : new String[]{DistillRun.GENERATOR, DistillRun.FAKE, DistillRun.GENERATOR_OPT, DistillRun.FAKE_OPT})
            assertEquals(WeightsDigest.of(Checkpoint.readTensors(cb, f)), WeightsDigest.of(Checkpoint.readTensors(cd, f)), f);
        assertEquals(b.evaluations().getLast().get("sw2"), d.evaluations().getLast().get("sw2"));
        // and a real path changes the trajectory
        DistillRun.Result d3 = DistillRun.start(config("disback", 12, 20, 10, 5), teacher, root.resolve("path3"), eval, root.resolve("d3"), 0, QUIET);
        Path c3 = new Checkpoint(d3.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        assertNotEquals(WeightsDigest.of(Checkpoint.readTensors(cb, DistillRun.GENERATOR)), WeightsDigest.of(Checkpoint.readTensors(c3, DistillRun.GENERATOR)));
    }

    @Test
    void interruptedRunResumesBitForBit(@TempDir Path root) throws IOException {
        EdmMlpNet teacher = GaussianNets.tinyMlp(7);
        ToyEvaluator eval = new ToyEvaluator(Toy2d.Kind.RING8, 256, 1);
        DistillRunConfig cfg = config("disback", 16, 30, 10, 4);
        DistillRun.Result whole = DistillRun.start(cfg, teacher, root.resolve("path"), eval, root.resolve("whole"), 0, QUIET);
        DistillRun.Result part = DistillRun.start(cfg, teacher, root.resolve("path"), eval, root.resolve("part"), 9, QUIET);
        assertNull(part.report());
        DistillRun.Result rest = DistillRun.resume(teacher, root.resolve("path"), eval, root.resolve("part"), 0, QUIET);
        assertNotNull(rest.report());
        assertTrue(Files.isRegularFile(rest.runDir().resolve("samples/final.png")));
        assertTrue(Files.isRegularFile(rest.runDir().resolve("plots/sw2.png")));
        Path cw = new Checkpoint(whole.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        Path cr = new Checkpoint(rest.runDir().resolve("checkpoints"), 2).latest().orElseThrow();
        for (String f : new String[]{DistillRun.GENERATOR, DistillRun.GENERATOR_EMA, DistillRun.FAKE, DistillRun.GENERATOR_OPT, DistillRun.FAKE_OPT})
            assertEquals(WeightsDigest.of(Checkpoint.readTensors(cw, f)), WeightsDigest.of(Checkpoint.readTensors(cr, f)), f);
        assertEquals(whole.evaluations().getLast().get("sw2"), rest.evaluations().getLast().get("sw2"));
    }

    @Test
    void degradationMovesThePathFromTheDataTowardTheInitialGenerator(@TempDir Path dir) throws IOException {
        // invariant 7 on ring8 with the exact mixture denoiser as the teacher's stand-in: a quickly trained MLP teacher
        EdmMlpNet teacher = GaussianNets.tinyMlp(8);
        var mix = Toy2d.ring8Mixture();
        var opt = dev.distillery.autograd.optim.Adam.adam(teacher.module().namedParameters(), 3e-3, 0.9, 0.999, 1e-8, 0);
        NoiseLevels levels = new NoiseLevels.LogNormal(-1.2, 1.2);
        Rng rng = new Rng(1);
        for (int s = 0; s < 400; s++) {
            opt.zeroGrad();
            DenoisingScoreMatching.loss(teacher, mix.sample(rng, 256), null, levels.sample(rng, 256), Tensor.randn(rng, DType.F32, 256, 2)).backward();
            opt.step();
        }
        DegradationPath path = DegradationRecorder.record(dir, new DegradationPath.Spec(200, 20, 128, 3e-4, 0, 0.999, "lognormal:-1.2,1.2", 1.0, 2), teacher, null, 0, QUIET);
        Tensor g0 = new OneStepGenerator(teacher, 1.0).sample(new Rng(3), 2048, 2048, null), data = mix.sample(new Rng(4), 2048);
        double[] onGenerator = new double[path.size()], onData = new double[path.size()];
        EdmMlpNet slot = teacher.copy();
        for (int j = 0; j < path.size(); j++) {
            path.loadInto(j, slot);
            onGenerator[j] = dsm(slot, g0);
            onData[j] = dsm(slot, data);
        }
        assertTrue(spearman(onGenerator) < -0.8, "DSM loss on G^0 samples falls along the path: " + java.util.Arrays.toString(onGenerator));
        assertTrue(spearman(onData) > 0.8, "DSM loss on data rises along the path: " + java.util.Arrays.toString(onData));
    }

    private static double dsm(EdmMlpNet net, Tensor x0) {
        Rng r = new Rng(99);
        try (var g = dev.distillery.autograd.NoGrad.enter()) {
            return DenoisingScoreMatching.loss(net, x0, null, new NoiseLevels.LogNormal(-1.2, 1.2).sample(r, x0.size(0)), Tensor.randn(r, DType.F32, x0.shape())).item();
        }
    }

    /** Spearman rank correlation of v against its index (no ties expected). */
    static double spearman(double[] v) {
        int n = v.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(v[x], v[y]));
        double[] rank = new double[n];
        for (int r = 0; r < n; r++) rank[order[r]] = r;
        double d2 = 0;
        for (int i = 0; i < n; i++) d2 += (rank[i] - i) * (rank[i] - i);
        return 1 - 6 * d2 / (n * (n * (double) n - 1));
    }
}
