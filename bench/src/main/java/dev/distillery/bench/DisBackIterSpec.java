package dev.distillery.bench;

import dev.distillery.distill.disback.DistillRun;
import dev.distillery.distill.score.DistillConfig;
import dev.distillery.distill.score.EdmUNetNet;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * One score-distillation iteration on Fashion-MNIST, the baseline's (Diff-Instruct) {@link ScoreDistiller#iteration}
 * with the default fmnist teacher of {@link EdmTeacherStepSpec#teacherNet} (random weights): the generator and the
 * fake score start as copies of the teacher, {@link DistillConfig#diffInstruct} at {@code batch} (lr 1e-5), labels
 * uniform over the 10 classes ({@link DistillRun#classSampler}), the teacher as the target without guidance.
 *
 * <p>One measured unit is {@code iteration(k, target)} for k = 0, 1, 2, ... (one per run), which in Diff-Instruct order is
 * <ol>
 *   <li>the fake step: x0 = G(z) without graph on fresh z and labels, the DSM loss of the fake score at
 *       ln sigma ~ N(-1.2, 1.2^2), backward, gradient norm, Adam(0, 0.999);</li>
 *   <li>the generator step: x0 = G(z) = D_eta(sigma_init z; sigma_init) with graph on fresh z and labels,
 *       x_t = sg(x0) + sigma eps, D_fake(x_t) and D_teacher(x_t) without graph, the DI loss
 *       sum(sg(D_fake - D_teacher) x0)/B backpropagated into G, gradient norm, Adam(0, 0.999), EMA update (decay 0).</li>
 * </ol>
 * That is 9 UNet forwards' worth of FLOPs (3 forwards without graph, 2 forward+backward). The PyTorch peer
 * ({@code disback_iteration} in {@code bench/peers/torch_cases.py}) does the same work on the same architecture.
 */
public record DisBackIterSpec(int batch) implements Spec {
    public static final double LR = 1e-5;

    /** UNet forwards per iteration: G, the fake's DSM (x3), G with backward (x3), the fake and the teacher at x_t. */
    public static final int FORWARDS_PER_ITERATION = 9;

    @Override
    public double flops() {
        return FORWARDS_PER_ITERATION * new EdmTeacherStepSpec(batch).forwardFlops();
    }

    @Override
    public double bytes() {
        return 0;
    }

    @Override
    public Workload prepare(DType dtype, long seed) {
        EdmUNetNet teacher = EdmTeacherStepSpec.teacherNet(new Rng(seed));
        ScoreDistiller distiller = new ScoreDistiller(DistillConfig.diffInstruct(batch, LR, seed), teacher.copy(), teacher.copy(),
                DistillRun.classSampler(teacher));
        TargetScore target = TargetScore.of(teacher, null);
        long[] k = {0};
        return () -> {
            ScoreDistiller.IterationResult r = distiller.iteration(k[0]++, target);
            return Tensor.of(new double[]{r.generatorLoss(), r.fakeLoss(), r.generatorGradNorm(), r.fakeGradNorm()}, 4);
        };
    }
}
