package dev.distillery.distill.disback;

import dev.distillery.distill.metrics.FeatureClassifier;
import dev.distillery.distill.metrics.ImageMetrics;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.teacher.ImageTeacherTrainer;
import dev.distillery.distill.viz.ImageGrid;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Image-dataset metrics of a one-step generator (spec disback.md §6B/6C): {@code n} samples from fixed latents, scored
 * by the project's {@link FeatureClassifier} for the dataset: {@code fd} (FD-&lt;dataset&gt;, the primary metric),
 * {@code precision}, {@code recall}, {@code class_entropy} (mode coverage, nats) and, for class-conditional generators
 * (labels {@code i mod classes}), the classifier {@code accuracy} against the intended labels. Samples of flat MLP generators
 * ([N, 64] for digits) are shaped to the dataset's images for the classifier and the grid.
 */
public final class ImageEvaluator implements Evaluator {
    private final FeatureClassifier classifier;
    private final int n;
    private final long seed;
    private final int[] imageShape;

    /**
     * @param imageShape one image's [C, H, W] (e.g. 1, 8, 8 for digits)
     */
    public ImageEvaluator(FeatureClassifier classifier, int n, long seed, int... imageShape) {
        if (n <= 3) throw new IllegalArgumentException("--eval-samples must be > 3 for image metrics, got " + n);
        this.classifier = classifier;
        this.n = n;
        this.seed = seed;
        this.imageShape = imageShape.clone();
    }

    @Override
    public String primaryMetric() {
        return "fd";
    }

    /** Labels {@code i mod classes} for a class-conditional generator (so accuracy is measured), else null. */
    static Tensor labels(OneStepGenerator g, int count) {
        int classes = g.net().classes();
        return classes == 0 ? null : ImageTeacherTrainer.classLabels(count, classes);
    }

    Tensor samples(OneStepGenerator g, int count) {
        Tensor s = g.sample(new Rng(seed).fork(2), count, 256, labels(g, count));
        return s.reshape(count, imageShape[0], imageShape[1], imageShape[2]).clamp(-1, 1);
    }

    @Override
    public Map<String, Double> evaluate(OneStepGenerator generator, EdmDenoiserNet target, EdmDenoiserNet teacher) {
        Tensor labels = labels(generator, n);
        ImageMetrics m = ImageMetrics.evaluate(classifier, samples(generator, n), labels == null ? null : labels.toLongArray());
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("fd", m.frechetDistance());
        out.put("precision", m.precision());
        out.put("recall", m.recall());
        out.put("class_entropy", m.classEntropy());
        if (labels != null) out.put("accuracy", m.accuracy());
        return out;
    }

    @Override
    public void writeSamples(Path png, OneStepGenerator generator, String title) throws IOException {
        ImageGrid.write(samples(generator, Math.min(n, 100)), png, ImageGrid.Options.columns(10).withScale(imageShape[1] <= 16 ? 4 : 2));
    }
}
