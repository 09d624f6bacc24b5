package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/**
 * Sample-quality numbers for generated images of a dataset, all in the penultimate-layer feature space of that
 * dataset's {@link FeatureClassifier}, against the features of the real test split:
 *
 * <ul>
 *   <li><b>FD-&lt;dataset&gt;</b>: {@link FrechetDistance}, the FID formula
 *       {@code |mu_g - mu_r|^2 + Tr(S_g + S_r - 2 sqrt(S_g S_r))} on Gaussian fits (unbiased covariances) of the
 *       generated and the real test features. Like FID it is biased upwards for small sample counts, so only numbers
 *       with the same counts compare.</li>
 *   <li><b>precision / recall</b>: {@link PrecisionRecall} with k = {@link PrecisionRecall#DEFAULT_K} (generated
 *       points inside the real k-NN manifold / real points inside the generated one).</li>
 *   <li><b>accuracy</b> (only with intended labels): fraction of samples the classifier assigns to the class they
 *       were generated for.</li>
 *   <li><b>class entropy</b>: {@code H = -sum_c p_c ln p_c} of the histogram of predicted classes, in nats; ln 10 =
 *       2.303 means all ten classes equally often, lower values mean missing or over-represented classes.</li>
 * </ul>
 *
 * @param dataset          the dataset name ({@code digits}, {@code fmnist}, {@code mnist})
 * @param frechetDistance  FD-&lt;dataset&gt;
 * @param samples          generated samples used by every number
 * @param referenceSamples real test images the FD and precision/recall compare against
 * @param k                k of precision/recall
 * @param accuracy         classifier accuracy against the intended labels; NaN without labels
 * @param labelledSamples  samples with an intended label (0 without labels)
 * @param classHistogram   fraction of samples predicted as each class
 * @param classEntropy     entropy of {@code classHistogram} in nats
 */
public record ImageMetrics(String dataset, double frechetDistance, int samples, int referenceSamples, double precision, double recall, int k,
                           double accuracy, int labelledSamples, double[] classHistogram, double classEntropy) {

    /** Metrics of {@code images} ([N, C, H, W] in [-1, 1], or [N, 64] for digits); {@code intendedLabels} may be null. */
    public static ImageMetrics evaluate(FeatureClassifier classifier, Tensor images, long[] intendedLabels) {
        int n = images.size(0);
        if (intendedLabels != null && intendedLabels.length != n)
            throw new IllegalArgumentException(intendedLabels.length + " labels for " + n + " samples");
        int k = PrecisionRecall.DEFAULT_K;
        if (n <= k) throw new IllegalArgumentException("need more than " + k + " samples, got " + n);
        FeatureClassifier.Outputs out = classifier.evaluate(images);
        Tensor real = classifier.testFeatures();
        int dim = real.size(1), m = real.size(0);
        double[] r = real.toDoubleArray(), g = out.features().toDoubleArray();
        double fd = FrechetDistance.compute(FeatureStatistics.of(g, n, dim), FeatureStatistics.of(r, m, dim));
        PrecisionRecall.Result pr = PrecisionRecall.compute(r, m, g, n, dim, k);

        double accuracy = Double.NaN;
        int labelled = 0;
        if (intendedLabels != null) {
            int correct = 0;
            for (int i = 0; i < n; i++) {
                if (intendedLabels[i] < 0 || intendedLabels[i] >= FeatureClassifier.NUM_CLASSES)
                    throw new IllegalArgumentException("label " + intendedLabels[i] + " of sample " + i + " is not a class 0.." + (FeatureClassifier.NUM_CLASSES - 1));
                if (out.predictions()[i] == intendedLabels[i]) correct++;
            }
            labelled = n;
            accuracy = (double) correct / n;
        }
        // integer counts first: summing 1/n per sample would leave a single class at 1 - ulp and a negative entropy
        int[] counts = new int[FeatureClassifier.NUM_CLASSES];
        for (long p : out.predictions()) counts[(int) p]++;
        double[] histogram = new double[counts.length];
        for (int c = 0; c < counts.length; c++) histogram[c] = (double) counts[c] / n;
        double entropy = 0;
        for (double p : histogram) if (p > 0) entropy -= p * Math.log(p);
        return new ImageMetrics(classifier.dataset(), fd, n, m, pr.precision(), pr.recall(), k, accuracy, labelled, histogram, entropy);
    }

    /** The FD metric's name, {@code FD-<dataset>}. */
    public String fdName() {
        return "FD-" + dataset;
    }

    /** The numbers as a report: {@code FD-<dataset>}, {@code precision}, {@code recall}, {@code accuracy} (when labelled), {@code class_entropy}, and the counts. */
    public MetricsReport report() {
        MetricsReport rep = MetricsReport.empty()
                .with(fdName(), frechetDistance)
                .with("precision", precision)
                .with("recall", recall);
        if (labelledSamples > 0) rep = rep.with("accuracy", accuracy);
        return rep.with("class_entropy", classEntropy)
                .with("samples", samples)
                .with("reference_samples", referenceSamples)
                .with("labelled_samples", labelledSamples)
                .with("k", k);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageMetrics m && m.report().equals(report()) && Arrays.equals(m.classHistogram, classHistogram) && m.dataset.equals(dataset);
    }

    @Override
    public int hashCode() {
        return report().hashCode();
    }

    @Override
    public String toString() {
        return report().toString();
    }
}
