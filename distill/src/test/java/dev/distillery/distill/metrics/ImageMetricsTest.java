package dev.distillery.distill.metrics;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class ImageMetricsTest {
    private static Tensor rows(Tensor images, int from, int count) {
        return images.narrow(0, from, count).contiguous();
    }

    private static long[] labels(FeatureClassifier c, int from, int count) {
        return java.util.Arrays.copyOfRange(c.testLabels(), from, from + count);
    }

    @Test
    void realTestSetAgainstItselfHasZeroDistanceAndFullCoverage() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        ImageMetrics m = ImageMetrics.evaluate(c, c.testImages(), null);
        // identical feature sets: mean term 0 and Tr(S + S - 2 sqrt(S S)) = 0 up to eigen-solver rounding
        double scale = 0;
        for (double v : FeatureStatistics.of(c.testFeatures()).covariance()) scale = Math.max(scale, Math.abs(v));
        assertEquals(0, m.frechetDistance(), 1e-6 * Math.max(1, scale * 64));
        assertEquals(1.0, m.precision(), 0.0);
        assertEquals(1.0, m.recall(), 0.0);
        assertEquals(297, m.samples());
        assertEquals(297, m.referenceSamples());
        assertEquals("FD-digits", m.fdName());
        assertTrue(Double.isNaN(m.accuracy()));
        assertFalse(m.report().has("accuracy"));
    }

    @Test
    void accuracyOfRealTestImagesWithTrueLabelsIsTheClassifierTestAccuracy() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        ImageMetrics m = ImageMetrics.evaluate(c, c.testImages(), c.testLabels());
        assertEquals(c.testAccuracy(), m.accuracy(), 0.0);
        assertEquals(297, m.labelledSamples());
        // the test split is roughly balanced: entropy close to ln 10
        assertTrue(m.classEntropy() > 0.97 * Math.log(10) && m.classEntropy() <= Math.log(10) + 1e-12, "entropy " + m.classEntropy());
        double sum = 0;
        for (double p : m.classHistogram()) sum += p;
        assertEquals(1.0, sum, 1e-9);
    }

    @Test
    void wrongLabelsGiveLowAccuracyAndOneClassGivesZeroEntropy() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        long[] shifted = c.testLabels();
        for (int i = 0; i < shifted.length; i++) shifted[i] = (shifted[i] + 1) % 10;
        assertTrue(ImageMetrics.evaluate(c, c.testImages(), shifted).accuracy() < 0.05);

        Tensor sameImage = c.testImages().narrow(0, 0, 1).expand(50, 1, 8, 8).contiguous();
        ImageMetrics collapsed = ImageMetrics.evaluate(c, sameImage, null);
        assertEquals(0.0, collapsed.classEntropy(), 0.0);
        assertTrue(collapsed.recall() < 0.2, "a single repeated image covers little of the real manifold: " + collapsed.recall());
    }

    @Test
    void disjointRealHalvesAreCloseAndNoiseOrShuffledPixelsAreFar() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        Tensor test = c.testImages();
        Tensor a = FeatureClassifierTestSupport.features(c, rows(test, 0, 148)), b = FeatureClassifierTestSupport.features(c, rows(test, 148, 149));
        double halves = FrechetDistance.compute(a, b);

        Tensor noise = Tensor.rand(new Rng(5), DType.F32, 297, 1, 8, 8).mul(2).sub(1);
        double noiseFd = ImageMetrics.evaluate(c, noise, null).frechetDistance();
        double shuffledFd = ImageMetrics.evaluate(c, FeatureClassifierTestSupport.shufflePixels(test, new Rng(6)), null).frechetDistance();
        // halves of the same split: positive (finite-sample noise), far below the distances to non-digits
        assertTrue(halves > 0, "halves " + halves);
        assertTrue(halves < 0.1 * noiseFd, "halves " + halves + " vs noise " + noiseFd);
        assertTrue(halves < 0.1 * shuffledFd, "halves " + halves + " vs shuffled " + shuffledFd);
        // the training split (other real images) is much closer than shuffled pixels
        double train = ImageMetrics.evaluate(c, FeatureClassifierTestSupport.trainImages(c), null).frechetDistance();
        assertTrue(train < 0.1 * shuffledFd, "train " + train + " vs shuffled " + shuffledFd);
    }

    @Test
    void rejectsMismatchedLabelsAndTooFewSamples() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.evaluate(c, c.testImages(), new long[5]));
        long[] bad = c.testLabels();
        bad[3] = 10;
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.evaluate(c, c.testImages(), bad));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.evaluate(c, rows(c.testImages(), 0, 3), null));
    }
}
