package dev.distillery.distill.data;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Reads the real data where Debian installs it ({@code dataset-fashion-mnist}, {@code python3-sklearn}); skipped when
 * the packages are absent. The environment variables {@code DISTILLERY_FASHION_MNIST} (directory) and
 * {@code DISTILLERY_DIGITS_CSV} (file) point the test at another copy.
 */
class DebianDataDiscoveryTest {
    private static Optional<Path> fromEnv(String var) {
        String v = System.getenv(var);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(Path.of(v)).filter(Files::exists);
    }

    @Test
    void fashionMnistTestSplit() throws IOException {
        Optional<Path> dir = fromEnv("DISTILLERY_FASHION_MNIST").or(Mnist::discover);
        assumeTrue(dir.isPresent() && Mnist.hasSplit(dir.get(), Mnist.Split.TEST), "Fashion-MNIST not installed");
        if (System.getenv("DISTILLERY_FASHION_MNIST") == null) assertEquals(Mnist.DEBIAN_FASHION_MNIST, Mnist.locate(null));
        Mnist.MnistDataset ds = Mnist.load(dir.get(), Mnist.Split.TEST, Mnist.Fit.PAD_32);
        assertEquals(10_000, ds.size());
        Sample s = ds.get(0);
        assertArrayEquals(new int[]{1, 32, 32}, s.image().shape());
        assertEquals(9, s.label()); // Fashion-MNIST test item 0 is an ankle boot
        int[] counts = new int[10];
        for (int i = 0; i < ds.size(); i += 10) counts[ds.get(i).label()]++;
        for (int c : counts) assertTrue(c > 50);
    }

    @Test
    void sklearnDigits() throws IOException {
        Optional<Path> f = fromEnv("DISTILLERY_DIGITS_CSV").or(Digits::discover);
        assumeTrue(f.isPresent(), "python3-sklearn's digits.csv.gz not installed");
        InMemoryDataset ds = Digits.load(f.get());
        assertEquals(Digits.SKLEARN_ROWS, ds.size());
        assertEquals(0, ds.get(0).label());
        assertEquals(1, ds.get(1).label());
        assertEquals(5 / 8.0 - 1, ds.get(0).image().get(0, 0, 2), 1e-6);
    }
}
