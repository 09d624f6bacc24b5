package dev.distillery.distill.score;

import dev.distillery.tensor.Tensor;

/**
 * What a teacher is conditioned on, as distillation needs it: a sampler for training batches (Stage 1 and 2 draw from
 * it), classifier-free guidance for the target (the teacher or a path node, never the generator or the fake score),
 * and fixed conditioning for evaluation. Implementations: {@link #NONE} (unconditional), {@link #classLabels}
 * (class-conditional UNets: I64 ids [B], null label for guidance) and {@code PromptConditions} (text-conditional
 * UNets: prompt embeddings [B, L, D], the empty prompt for guidance).
 */
public interface Conditioning {
    /** Draws a training batch's conditioning on the host; null for an unconditional teacher. */
    ScoreDistiller.ConditionSampler sampler();

    /** Classifier-free guidance at scale {@code w} for the target; null where there is nothing to guide ({@code w = 1} or unconditional). */
    TargetScore.Guidance guidance(double w);

    /** Conditioning of {@code n} evaluation samples (a fixed, deterministic list); null when unconditional. */
    Tensor evaluation(int n);

    /**
     * A text identifying what is sampled (e.g. a digest of the prompts), so a degradation path recorded under other
     * conditioning is not reused; empty where the teacher alone determines it.
     */
    default String key() {
        return "";
    }

    /** No conditioning. */
    Conditioning NONE = new Conditioning() {
        @Override public ScoreDistiller.ConditionSampler sampler() { return null; }
        @Override public TargetScore.Guidance guidance(double w) { return null; }
        @Override public Tensor evaluation(int n) { return null; }
    };

    /** The conditioning of a label-conditioned or unconditional teacher ({@link EdmDenoiserNet#classes()}); text teachers need {@code PromptConditions}. */
    static Conditioning of(EdmDenoiserNet teacher) {
        return teacher.classes() == 0 ? NONE : classLabels(teacher.classes(), teacher.nullLabel());
    }

    /**
     * Class labels: uniform ids in {@code 0..classes-1} for training, {@code i mod classes} for evaluation, and the
     * extra id {@code nullLabel} as the unconditional branch of guidance.
     */
    static Conditioning classLabels(int classes, long nullLabel) {
        if (classes < 1) throw new IllegalArgumentException("class labels need classes >= 1, got " + classes);
        return new Conditioning() {
            @Override
            public ScoreDistiller.ConditionSampler sampler() {
                return (rng, n) -> Tensor.randint(rng, 0, classes, n);
            }

            @Override
            public TargetScore.Guidance guidance(double w) {
                return w == 1 ? null : TargetScore.Guidance.classLabels(w, nullLabel);
            }

            @Override
            public Tensor evaluation(int n) {
                return dev.distillery.distill.teacher.ImageTeacherTrainer.classLabels(n, classes);
            }
        };
    }
}
