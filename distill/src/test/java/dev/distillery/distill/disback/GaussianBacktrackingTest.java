package dev.distillery.distill.disback;

import dev.distillery.distill.score.DistillConfig;
import dev.distillery.distill.score.GaussianNets;
import dev.distillery.distill.score.GeneratorLoss;
import dev.distillery.distill.score.NoiseLevels;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Spec disback.md §7 invariant 15 for DisBack: 1-D data N(0, 1), affine generator G(z) = a z + b from N(3, 0.04), and
 * a path built analytically as Gaussians interpolating from the data (P[0], the teacher) to the generator's initial
 * distribution (P[N]). Backtracking along it must visit the nodes in order and end at the data.
 */
class GaussianBacktrackingTest {
    @Test
    void generatorFollowsTheNodesInOrderAndEndsAtTheData(@TempDir Path dir) throws IOException {
        int n = 4;
        long interval = 400;
        double[] means = new double[n + 1], vars = new double[n + 1];
        List<DegradationPath.Node> nodes = new ArrayList<>();
        for (int j = 0; j <= n; j++) {
            double t = j / (double) n;
            means[j] = 3 * t;
            double sd = 1 + (0.2 - 1) * t;
            vars[j] = sd * sd;
            GaussianNets.GaussianScoreNet node = new GaussianNets.GaussianScoreNet(means[j], vars[j]);
            String file = DegradationPath.nodeFileName(j);
            Safetensors.write(dir.resolve(file), node.module().stateDict());
            nodes.add(new DegradationPath.Node(j, file, Files.size(dir.resolve(file)), WeightsDigest.of(node.module())));
        }
        GaussianNets.GaussianScoreNet teacher = new GaussianNets.GaussianScoreNet(0, 1);
        DegradationPath path = new DegradationPath(dir, new DegradationPath.Spec(n, 1, 1, 0, 0, 0.999, "lognormal:-1.2,1.2", 1, 0),
                WeightsDigest.of(teacher.module()), nodes);
        BacktrackSchedule schedule = new BacktrackSchedule(n, interval);
        PathTarget target = new PathTarget(path, schedule, teacher.copy(), null);

        GaussianNets.AffineGenerator gen = new GaussianNets.AffineGenerator(0.2, 3);
        GaussianNets.GaussianScoreNet fake = new GaussianNets.GaussianScoreNet(means[n], vars[n]);   // s_phi = P[N]
        NoiseLevels ln = new NoiseLevels.LogNormal(-1.2, 1.2);
        DistillConfig cfg = new DistillConfig(GeneratorLoss.DIFF_INSTRUCT, ln, ln, 256, 0.01, 0.05, 0, 0.999, 0, 1, false, 0, 0, 1, 1, 5);
        ScoreDistiller d = new ScoreDistiller(cfg, gen, fake, null);
        long total = schedule.teacherFrom() + 1200;
        for (long k = 0; k < total; k++) {
            target.moveTo(k);
            d.iteration(k, target);
            long next = k + 1;
            if (next < schedule.teacherFrom() && next % interval == 0) {
                int j = schedule.targetIndex(k);
                // at the end of node j's budget the generator is nearer node j's mean than the node it came from
                assertTrue(Math.abs(gen.b() - means[j]) < Math.abs(gen.b() - means[j + 1]),
                        "after node " + j + ": b = " + gen.b() + ", node means " + means[j] + " / " + means[j + 1]);
            }
        }
        assertEquals(0, target.currentIndex());
        assertEquals(1.0, Math.abs(gen.a()), 0.1, "|a| -> 1");
        assertEquals(0.0, gen.b(), 0.1, "b -> 0");
    }
}
