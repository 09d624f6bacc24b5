package dev.distillery.distill.cli;

import dev.distillery.distill.metrics.FeatureClassifier;
import dev.distillery.distill.metrics.ImageMetrics;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import dev.distillery.tensor.io.SafetensorsException;
import dev.distillery.tensor.io.SafetensorsReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code distillery eval}: image metrics of generated samples against a dataset's real test split, in the feature
 * space of the dataset's {@link FeatureClassifier} (trained on first use, then cached). See {@link ImageMetrics} for
 * the definitions. {@code --real-train N} evaluates N real training images instead of a samples file: the score of
 * a perfect generator with N samples, i.e. the floor of FD for that sample count.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Image metrics of generated samples: FD-<dataset> (the FID formula on the dataset classifier's penultimate features),",
                "precision/recall (k=3), accuracy of class-conditional samples against their intended labels, and the entropy of the",
                "predicted-class histogram. The dataset's classifier is trained on first use (seconds for digits, 2-3 minutes for",
                "fmnist on 2 cores) and cached by content hash."})
public final class Eval implements Callable<Integer> {
    /** Values beyond this magnitude mean the samples are not in [-1, 1] (diffusion samples overshoot a little, never this far). */
    static final double MAX_ABS_VALUE = 1.5;

    @Spec CommandSpec spec;
    @Option(names = "--samples", paramLabel = "FILE", description = "A .safetensors file with a tensor 'samples' [N, C, H, W] (or [N, 64] for digits) in [-1, 1] and optionally 'labels' (I64 [N], the intended classes).")
    Path samples;
    @Option(names = "--real-train", paramLabel = "N", description = "Instead of --samples: evaluate the first N real training images with their labels (the floor a perfect generator reaches with N samples).")
    Integer realTrain;
    @Option(names = "--real-offset", paramLabel = "K", defaultValue = "0", description = "With --real-train: start at training image K (disjoint offsets give independent real draws). Default: ${DEFAULT-VALUE}.")
    int realOffset;
    @Option(names = "--dataset", required = true, paramLabel = "NAME", description = "digits | fmnist | mnist (mnist needs --data).")
    String dataset;
    @Option(names = "--data", paramLabel = "PATH", description = "The dataset's location (digits: the CSV file; fmnist/mnist: the IDX directory); default: where Debian installs it.")
    String data;
    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Classifier cache. Default: system property " + FeatureClassifier.CACHE_DIR_PROPERTY + " or ~/.cache/distillery/classifiers.")
    Path cacheDir;
    @Option(names = "--classifier-seed", defaultValue = "0", description = "Seed of the classifier (another seed trains and caches another classifier). Default: ${DEFAULT-VALUE}.")
    long classifierSeed;
    @Option(names = "--clamp", description = "Clamp the samples to [-1, 1] first (raw ODE samples overshoot slightly; PNGs clamp the same way). Without it, values beyond +-" + MAX_ABS_VALUE + " are an error (a sign of images in another range).")
    boolean clamp;
    @Option(names = {"--out", "-o"}, paramLabel = "FILE", description = "Also write the metrics as JSON to FILE.")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if ((samples == null) == (realTrain == null)) throw new ParameterException(cl, "give exactly one of --samples FILE and --real-train N");
        if (realOffset != 0 && realTrain == null) throw new ParameterException(cl, "--real-offset only goes with --real-train");
        String name;
        try {
            name = FeatureClassifier.canonical(dataset);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--dataset: " + e.getMessage());
        }
        Loaded input = null;
        if (samples != null) input = readSamples(samples, clamp);   // check the file before spending time on the classifier

        FeatureClassifier.Data d = FeatureClassifier.Data.load(name, data);
        FeatureClassifier clf = FeatureClassifier.obtain(d, FeatureClassifier.Recipe.forDataset(name, classifierSeed),
                cacheDir != null ? cacheDir : FeatureClassifier.defaultCacheDir());
        String source;
        if (input == null) {
            if (realTrain < 4 || realOffset < 0 || (long) realOffset + realTrain > d.train().size())
                throw new ParameterException(cl, "--real-train N with --real-offset K needs N >= 4, K >= 0 and K + N <= " + d.train().size()
                        + " (the training images), got N = " + realTrain + ", K = " + realOffset);
            input = realTrainImages(d, realOffset, realTrain);
            source = realTrain + " real training images (" + realOffset + ".." + (realOffset + realTrain - 1) + ")";
        } else source = samples.toString();
        checkShape(input.images, clf, source);

        ImageMetrics m = ImageMetrics.evaluate(clf, input.images, input.labels);
        PrintWriter pw = cl.getOut();
        pw.println("Metrics of " + source + " against the " + m.referenceSamples() + " " + name + " test images:");
        pw.println(String.format(Locale.ROOT, "  %-14s %.6g   (%d samples vs %d test images)", m.fdName(), m.frechetDistance(), m.samples(), m.referenceSamples()));
        pw.println(String.format(Locale.ROOT, "  %-14s %.4f   (k=%d)", "precision", m.precision(), m.k()));
        pw.println(String.format(Locale.ROOT, "  %-14s %.4f", "recall", m.recall()));
        if (m.labelledSamples() > 0)
            pw.println(String.format(Locale.ROOT, "  %-14s %.4f   (%d labelled samples)", "accuracy", m.accuracy(), m.labelledSamples()));
        pw.println(String.format(Locale.ROOT, "  %-14s %.4f   nats (ln 10 = %.4f: all classes equally often)", "class_entropy", m.classEntropy(), Math.log(10)));
        pw.println(String.format(Locale.ROOT, "Classifier: test accuracy %.4f on %d images, %s", clf.testAccuracy(), d.test().size(), clf.cacheFile()));
        if (out != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("dataset", name);
            json.put("source", source);
            json.put("metrics", m.report().values());
            json.put("class_histogram", m.classHistogram());
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("test_accuracy", clf.testAccuracy());
            c.put("test_images", d.test().size());
            c.put("recipe", clf.recipe().describe());
            c.put("content_sha256", clf.contentHash());
            c.put("cache_file", clf.cacheFile().toString());
            json.put("classifier", c);
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(out, JsonWriter.write(json) + "\n", StandardCharsets.UTF_8);
            pw.println("Wrote " + out);
        }
        pw.flush();
        return 0;
    }

    /** Images and optional intended labels. */
    record Loaded(Tensor images, long[] labels) {}

    /** Reads and checks {@code samples} / {@code labels}; every error names the file and the tensor. */
    static Loaded readSamples(Path file) throws SafetensorsException {
        return readSamples(file, false);
    }

    /** Reads and checks a samples file; with {@code clamp}, values are clamped to [-1, 1] instead of range-checked. */
    static Loaded readSamples(Path file, boolean clamp) throws SafetensorsException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--samples " + file + ": no such file");
        try (SafetensorsReader r = Safetensors.open(file)) {
            if (!r.contains("samples"))
                throw new IllegalArgumentException(file + " has no tensor named 'samples' (it has " + r.names() + ")");
            Tensor raw = r.load("samples");
            if (!raw.dtype().isFloatingPoint())
                throw new IllegalArgumentException(file + ": tensor 'samples' has dtype " + raw.dtype() + "; expected floating point images in [-1, 1]");
            Tensor images = raw.to(DType.F32).contiguous();
            int[] s = images.shape();
            if (s.length != 2 && s.length != 4)
                throw new IllegalArgumentException(file + ": tensor 'samples' has shape " + Arrays.toString(s) + "; expected [N, C, H, W] (or [N, 64] for digits)");
            float[] v = images.toFloatArray();
            float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) throw new IllegalArgumentException(file + ": tensor 'samples' has a non-finite value at flat index " + i);
                min = Math.min(min, v[i]);
                max = Math.max(max, v[i]);
            }
            if (clamp) images = images.clamp(-1, 1);
            else if (min < -MAX_ABS_VALUE || max > MAX_ABS_VALUE)
                throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: tensor 'samples' has values in [%.4g, %.4g], far outside [-1, 1]; scale images to [-1, 1] (or pass --clamp for slightly overshooting sampler output)", file, min, max));
            long[] labels = null;
            if (r.contains("labels")) {
                Tensor l = r.load("labels");
                if (l.dtype() != DType.I64 || l.dim() != 1 || l.size(0) != s[0])
                    throw new IllegalArgumentException(file + ": tensor 'labels' must be I64 [" + s[0] + "] (one intended class per sample), got "
                            + l.dtype() + " " + Arrays.toString(l.shape()));
                labels = l.toLongArray();
                for (int i = 0; i < labels.length; i++)
                    if (labels[i] < 0 || labels[i] >= FeatureClassifier.NUM_CLASSES)
                        throw new IllegalArgumentException(file + ": tensor 'labels' has " + labels[i] + " at index " + i + ", not a class 0.." + (FeatureClassifier.NUM_CLASSES - 1));
            }
            return new Loaded(images, labels);
        }
    }

    private static void checkShape(Tensor images, FeatureClassifier clf, String source) {
        int[] s = images.shape();
        int[] want = clf.recipe().architecture().imageShape();
        boolean image = s.length == 4 && s[1] == want[0] && s[2] == want[1] && s[3] == want[2];
        boolean flatDigits = clf.dataset().equals("digits") && s.length == 2 && s[1] == 64;
        if (!image && !flatDigits)
            throw new IllegalArgumentException(source + ": tensor 'samples' has shape " + Arrays.toString(s) + "; " + clf.dataset() + " needs [N, "
                    + want[0] + ", " + want[1] + ", " + want[2] + "]" + (clf.dataset().equals("digits") ? " or [N, 64]" : ""));
        if (s[0] <= 3) throw new IllegalArgumentException(source + ": " + s[0] + " samples; precision/recall need at least 4");
    }

    private static Loaded realTrainImages(FeatureClassifier.Data d, int offset, int n) {
        var first = d.train().get(0).image();
        int per = first.numel();
        float[] all = new float[n * per];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            var s = d.train().get(offset + i);
            System.arraycopy(s.image().toFloatArray(), 0, all, i * per, per);
            labels[i] = s.label();
        }
        int[] shape = new int[first.dim() + 1];
        shape[0] = n;
        System.arraycopy(first.shape(), 0, shape, 1, first.dim());
        return new Loaded(Tensor.of(all, shape), labels);
    }
}
