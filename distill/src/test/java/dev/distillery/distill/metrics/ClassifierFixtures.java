package dev.distillery.distill.metrics;

import dev.distillery.distill.data.Digits;
import dev.distillery.distill.data.Mnist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real data for the classifier tests, found like {@code DebianDataDiscoveryTest} does (the environment variables
 * {@code DISTILLERY_DIGITS_CSV} / {@code DISTILLERY_FASHION_MNIST}, else Debian's locations; tests are skipped when
 * absent), and one digits classifier (seed 0) trained once per test JVM into a temporary cache directory.
 */
final class ClassifierFixtures {
    private static FeatureClassifier digits;
    private static Path digitsCache;

    private ClassifierFixtures() {}

    static Optional<Path> fromEnv(String var) {
        String v = System.getenv(var);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(Path.of(v)).filter(Files::exists);
    }

    /** The digits CSV, or the calling test is skipped. */
    static Path digitsCsv() {
        Optional<Path> f = fromEnv("DISTILLERY_DIGITS_CSV").or(Digits::discover);
        assumeTrue(f.isPresent(), "digits.csv.gz not installed (python3-sklearn) and DISTILLERY_DIGITS_CSV not set");
        return f.get();
    }

    /** The Fashion-MNIST directory, or the calling test is skipped. */
    static Path fashionMnistDir() {
        Optional<Path> d = fromEnv("DISTILLERY_FASHION_MNIST").or(Mnist::discover);
        assumeTrue(d.isPresent(), "Fashion-MNIST not installed (dataset-fashion-mnist) and DISTILLERY_FASHION_MNIST not set");
        return d.get();
    }

    static FeatureClassifier.Data digitsData() throws IOException {
        return FeatureClassifier.Data.load("digits", digitsCsv().toString());
    }

    /** The seed-0 digits classifier with the default recipe, trained on first use. */
    static synchronized FeatureClassifier digitsClassifier() throws IOException {
        if (digits == null) {
            FeatureClassifier.Data data = digitsData();
            digitsCache = Files.createTempDirectory("distillery-classifiers");
            digits = FeatureClassifier.obtain(data, FeatureClassifier.Recipe.forDataset("digits", 0), digitsCache);
        }
        return digits;
    }

    static synchronized Path digitsCacheDir() throws IOException {
        digitsClassifier();
        return digitsCache;
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
