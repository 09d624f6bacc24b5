package dev.distillery.distill.cli;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class EvalTest {
    private static Path digitsCsv() {
        String v = System.getenv("DISTILLERY_DIGITS_CSV");
        Optional<Path> f = v == null || v.isBlank() ? dev.distillery.distill.data.Digits.discover() : Optional.of(Path.of(v)).filter(Files::exists);
        assumeTrue(f.isPresent(), "digits.csv.gz not installed and DISTILLERY_DIGITS_CSV not set");
        return f.get();
    }

    @Test
    void helpListsEvalAndItsFlags() {
        MainTest.Out top = MainTest.run("--help");
        assertTrue(top.out().contains("eval"));
        MainTest.Out h = MainTest.run("eval", "--help");
        assertEquals(0, h.code());
        for (String f : new String[]{"--samples", "--real-train", "--real-offset", "--dataset", "--data", "--cache-dir", "--classifier-seed", "--out"})
            assertTrue(h.out().contains(f), f);
    }

    @Test
    void missingSamplesTensorIsAnErrorNamingTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("gen.safetensors");
        Safetensors.write(f, Map.of("images", Tensor.zeros(DType.F32, 8, 1, 8, 8)));
        MainTest.Out o = MainTest.run("eval", "--samples", f.toString(), "--dataset", "digits", "--cache-dir", dir.resolve("cache").toString());
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains(f.toString()) && o.err().contains("'samples'") && o.err().contains("images"), o.err());
        assertFalse(Files.exists(dir.resolve("cache")), "no classifier work before the input is checked");
    }

    @Test
    void badShapeValuesLabelsAndFlagsAreClearErrors(@TempDir Path dir) throws Exception {
        Path csv = digitsCsv();
        String cache = dir.resolve("cache").toString();
        Path far = dir.resolve("far.safetensors");
        Safetensors.write(far, Map.of("samples", Tensor.rand(new Rng(1), DType.F32, 20, 1, 8, 8).mul(255)));
        MainTest.Out o = MainTest.run("eval", "--samples", far.toString(), "--dataset", "digits", "--data", csv.toString(), "--cache-dir", cache);
        assertEquals(2, o.code());
        assertTrue(o.err().contains(far.toString()) && o.err().contains("outside [-1, 1]"), o.err());
        // --clamp scores the same file, clamped: every value becomes 1 (all-white images)
        var clamped = Eval.readSamples(far, true).images().toDoubleArray();
        for (double v : clamped) assertTrue(v >= -1 && v <= 1, "clamped value " + v);
        assertEquals(1.0, java.util.Arrays.stream(clamped).max().orElseThrow());

        Path badLabels = dir.resolve("labels.safetensors");
        Safetensors.write(badLabels, new java.util.LinkedHashMap<>(Map.of("samples", Tensor.zeros(DType.F32, 20, 64),
                "labels", Tensor.ofLongs(new long[19], 19))));
        o = MainTest.run("eval", "--samples", badLabels.toString(), "--dataset", "digits", "--data", csv.toString(), "--cache-dir", cache);
        assertEquals(2, o.code());
        assertTrue(o.err().contains(badLabels.toString()) && o.err().contains("'labels'"), o.err());

        Path wrongShape = dir.resolve("shape.safetensors");
        Safetensors.write(wrongShape, Map.of("samples", Tensor.zeros(DType.F32, 20, 1, 32, 32)));
        o = MainTest.run("eval", "--samples", wrongShape.toString(), "--dataset", "digits", "--data", csv.toString(), "--cache-dir", cache);
        assertEquals(2, o.code());
        assertTrue(o.err().contains(wrongShape.toString()) && o.err().contains("[20, 1, 32, 32]"), o.err());

        o = MainTest.run("eval", "--samples", wrongShape.toString(), "--dataset", "cifar");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--dataset") && o.err().contains("cifar"), o.err());
        o = MainTest.run("eval", "--dataset", "digits");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--samples") && o.err().contains("--real-train"), o.err());
        o = MainTest.run("eval", "--samples", dir.resolve("absent.safetensors").toString(), "--dataset", "digits");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("absent.safetensors"), o.err());
    }

    @Test
    void evaluatesLabelledSamplesAndWritesJson(@TempDir Path dir) throws Exception {
        Path csv = digitsCsv();
        // "generated" samples: real digits images (all 1797 rows; the 297 test rows among them), with true labels
        var all = dev.distillery.distill.data.Digits.load(csv);
        int n = all.size();
        float[] px = new float[n * 64];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(all.get(i).image().toFloatArray(), 0, px, i * 64, 64);
            labels[i] = all.get(i).label();
        }
        Path f = dir.resolve("real.safetensors");
        Safetensors.write(f, new java.util.LinkedHashMap<>(Map.of("samples", Tensor.of(px, n, 1, 8, 8), "labels", Tensor.ofLongs(labels, n))));
        Path json = dir.resolve("out/metrics.json");
        MainTest.Out o = MainTest.run("eval", "--samples", f.toString(), "--dataset", "digits", "--data", csv.toString(),
                "--cache-dir", dir.resolve("cache").toString(), "--out", json.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("FD-digits") && o.out().contains("accuracy") && o.out().contains("1797 samples vs 297 test images"), o.out());
        String text = Files.readString(json);
        for (String key : new String[]{"\"FD-digits\"", "\"precision\"", "\"recall\"", "\"accuracy\"", "\"class_entropy\"", "\"samples\":1797",
                "\"reference_samples\":297", "\"class_histogram\"", "\"test_accuracy\""})
            assertTrue(text.contains(key), key + " in " + text);
        // real images with their true labels: the classifier is right on >= 95% of the test rows and fits its training rows
        @SuppressWarnings("unchecked")
        Map<String, Object> metrics = (Map<String, Object>) ((Map<String, Object>) dev.distillery.tensor.io.Json.parse(text)).get("metrics");
        assertTrue(dev.distillery.distill.train.JsonWriter.toDouble(metrics.get("accuracy")) >= 0.95, text);
        assertTrue(dev.distillery.distill.train.JsonWriter.toDouble(metrics.get("class_entropy")) > 0.97 * Math.log(10), text);
    }
}
