package dev.distillery.distill.disback;

import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.OneStepGenerator;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Measures a one-step generator during distillation (fixed latents, so curves are comparable across runs). */
public interface Evaluator {
    /**
     * Metrics of the generator's samples.
     *
     * @param target  the network now playing the target (the teacher or a path node)
     * @param teacher the teacher
     */
    Map<String, Double> evaluate(OneStepGenerator generator, EdmDenoiserNet target, EdmDenoiserNet teacher);

    /** The metric the experiments compare (lower is better), e.g. {@code sw2} or {@code fd_digits}. */
    String primaryMetric();

    /** A picture of the generator's samples (scatter plot or image grid). */
    void writeSamples(Path png, OneStepGenerator generator, String title) throws IOException;
}
