package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class FeatureClassifierTest {
    /** Independent count of correct predictions on the test split. */
    private static double accuracyOnTestSplit(FeatureClassifier c) {
        long[] pred = c.evaluate(c.testImages()).predictions();
        long[] truth = new long[c.data().test().size()];
        for (int i = 0; i < truth.length; i++) truth[i] = c.data().test().get(i).label();
        int correct = 0;
        for (int i = 0; i < truth.length; i++) if (pred[i] == truth[i]) correct++;
        return (double) correct / truth.length;
    }

    @Test
    void digitsClassifierReachesTheAccuracyFloorOnTheFixedSplit() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        assertEquals(1500, c.data().train().size());
        assertEquals(297, c.data().test().size());
        assertEquals(64, c.featureDim());
        assertEquals(accuracyOnTestSplit(c), c.testAccuracy(), 0.0);
        assertTrue(c.testAccuracy() >= 0.95, "digits test accuracy " + c.testAccuracy());
        Tensor f = c.features(c.testImages());
        assertArrayEquals(new int[]{297, 64}, f.shape());
    }

    @Test
    void flatAndImageShapedDigitsGiveTheSameFeatures() throws IOException {
        FeatureClassifier c = ClassifierFixtures.digitsClassifier();
        Tensor img = c.testImages().narrow(0, 0, 10).contiguous();
        assertArrayEquals(c.features(img).toFloatArray(), c.features(img.reshape(10, 64)).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> c.features(Tensor.zeros(dev.distillery.tensor.DType.F32, 10, 1, 32, 32)));
    }

    @Test
    void splitDoesNotDependOnTheClassifierSeedAndSplitsAreDisjointRows() throws IOException {
        FeatureClassifier.Data a = ClassifierFixtures.digitsData(), b = ClassifierFixtures.digitsData();
        for (int i = 0; i < a.test().size(); i += 37)
            assertArrayEquals(a.test().get(i).image().toFloatArray(), b.test().get(i).image().toFloatArray());
        assertEquals(1797, a.train().size() + a.test().size());
    }

    @Test
    void cacheHitReturnsBitIdenticalWeightsWithoutTraining() throws IOException {
        FeatureClassifier first = ClassifierFixtures.digitsClassifier();
        assertTrue(Files.isRegularFile(first.cacheFile()));
        FeatureClassifier again = FeatureClassifier.obtain(first.data(), first.recipe(), ClassifierFixtures.digitsCacheDir());
        assertTrue(again.fromCache());
        assertEquals(first.testAccuracy(), again.testAccuracy(), 0.0);
        assertSameWeights(first.stateDict(), again.stateDict());
    }

    @Test
    void aDifferentSeedOrDataIsADifferentCacheKey() throws IOException {
        FeatureClassifier.Data data = ClassifierFixtures.digitsData();
        var recipe = FeatureClassifier.Recipe.forDataset("digits", 0);
        String h = FeatureClassifier.contentHash(data, recipe);
        assertEquals(h, FeatureClassifier.contentHash(ClassifierFixtures.digitsData(), recipe));
        assertNotEquals(h, FeatureClassifier.contentHash(data, recipe.withSeed(1)));
        assertNotEquals(h, FeatureClassifier.contentHash(data, recipe.withEpochs(59)));
        var swapped = new FeatureClassifier.Data("digits", data.test(), data.train());
        assertNotEquals(h, FeatureClassifier.contentHash(swapped, recipe));
    }

    @Test
    void corruptedCacheFileIsDetectedAndRetrained(@TempDir Path dir) throws IOException {
        FeatureClassifier original = ClassifierFixtures.digitsClassifier();
        Path copy = dir.resolve(original.cacheFile().getFileName());
        Files.copy(original.cacheFile(), copy);
        // flip one byte of the last tensor's data (the file ends with tensor bytes)
        try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long pos = ch.size() - 7;
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, pos);
            b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
            ch.write(b, pos);
        }
        FeatureClassifier retrained = FeatureClassifier.obtain(original.data(), original.recipe(), dir);
        assertFalse(retrained.fromCache());
        // training is deterministic, so the retrained weights equal the uncorrupted ones
        assertSameWeights(original.stateDict(), retrained.stateDict());
        assertTrue(FeatureClassifier.obtain(original.data(), original.recipe(), dir).fromCache(), "the rewritten cache file is valid");

        // intact weights but an edited accuracy in the metadata: also detected
        Map<String, String> meta;
        Map<String, Tensor> weights;
        try (var r = dev.distillery.tensor.io.Safetensors.open(copy)) {
            meta = new java.util.LinkedHashMap<>(r.metadata());
            weights = r.loadAll();
        }
        meta.put("test_accuracy", "0.999");
        dev.distillery.tensor.io.Safetensors.write(copy, weights, meta);
        FeatureClassifier afterEdit = FeatureClassifier.obtain(original.data(), original.recipe(), dir);
        assertFalse(afterEdit.fromCache());
        assertEquals(original.testAccuracy(), afterEdit.testAccuracy(), 0.0);

        Files.writeString(copy, "not a safetensors file");
        assertFalse(FeatureClassifier.obtain(original.data(), original.recipe(), dir).fromCache());
    }

    @Test
    @Tag("slow")
    void fashionMnistClassifierReachesTheAccuracyFloor(@TempDir Path dir) throws IOException {
        Path data = ClassifierFixtures.fashionMnistDir();
        FeatureClassifier c = FeatureClassifier.obtain(FeatureClassifier.Data.load("fmnist", data.toString()),
                FeatureClassifier.Recipe.forDataset("fmnist", 0), dir);
        assertEquals(10_000, c.data().test().size());
        assertEquals(accuracyOnTestSplit(c), c.testAccuracy(), 0.0);
        assertTrue(c.testAccuracy() >= 0.88, "Fashion-MNIST test accuracy " + c.testAccuracy());
    }

    static void assertSameWeights(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
    }
}
