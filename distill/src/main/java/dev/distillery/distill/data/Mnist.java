package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * MNIST / Fashion-MNIST from a directory with the standard IDX file names ({@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each plain or
 * {@code .gz}; the dotted {@code train-images.idx3-ubyte} spelling is accepted too). Images come out as
 * {@code [1, S, S]} in [-1, 1] ({@code v / 127.5 - 1}); labels are kept.
 *
 * <p>Without {@code --data DIR}, {@link #locate(String)} falls back to {@link #DEBIAN_FASHION_MNIST}, where Debian's
 * {@code dataset-fashion-mnist} package installs the four {@code .gz} files.
 */
public final class Mnist {
    /** Where Debian's {@code dataset-fashion-mnist} package installs the gzipped IDX files. */
    public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    /** How 28x28 images become the model's size. */
    public enum Fit {
        /** Keep 28x28. */
        NONE,
        /** Pad 2 pixels of background (-1 after scaling) on every side: 28 -> 32. */
        PAD_32,
        /** Resize to 32x32 (bilinear). */
        RESIZE_32
    }

    public enum Split {
        TRAIN("train"), TEST("t10k");
        final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private Mnist() {}

    /**
     * The directory to read: {@code dataArg} when given (a {@code --data DIR} option), else the Debian location when
     * it holds the training files; an error names both when neither works.
     */
    public static Path locate(String dataArg) throws DataFileException {
        if (dataArg != null && !dataArg.isBlank()) {
            Path p = Path.of(dataArg);
            if (!Files.isDirectory(p)) throw new DataFileException(p, -1, "--data for MNIST must be a directory holding the IDX files");
            return p;
        }
        return discover().orElseThrow(() -> new DataFileException(DEBIAN_FASHION_MNIST, -1,
                "no MNIST / Fashion-MNIST data: pass --data DIR (a directory with train-images-idx3-ubyte[.gz] etc.) or install Debian's dataset-fashion-mnist"));
    }

    /** The Debian Fashion-MNIST directory, if its training files are there. */
    public static Optional<Path> discover() {
        return hasSplit(DEBIAN_FASHION_MNIST, Split.TRAIN) ? Optional.of(DEBIAN_FASHION_MNIST) : Optional.empty();
    }

    static boolean hasSplit(Path dir, Split split) {
        return find(dir, split.prefix + "-images", "idx3-ubyte").isPresent() && find(dir, split.prefix + "-labels", "idx1-ubyte").isPresent();
    }

    /** {@link #load(Path, Split, Fit)} of {@link #locate(String) locate(dataArg)}: the {@code --data DIR} entry point. */
    public static MnistDataset open(String dataArg, Split split, Fit fit) throws IOException {
        return load(locate(dataArg), split, fit);
    }

    /** Loads one split from {@code dir}. */
    public static MnistDataset load(Path dir, Split split, Fit fit) throws IOException {
        Path imgFile = find(dir, split.prefix + "-images", "idx3-ubyte").orElseThrow(() -> missing(dir, split.prefix + "-images-idx3-ubyte"));
        Path lblFile = find(dir, split.prefix + "-labels", "idx1-ubyte").orElseThrow(() -> missing(dir, split.prefix + "-labels-idx1-ubyte"));
        return load(imgFile, lblFile, fit);
    }

    /** Loads a pair of IDX files. */
    public static MnistDataset load(Path imageFile, Path labelFile, Fit fit) throws IOException {
        Idx.IdxData images = Idx.read(imageFile, Idx.MAGIC_IMAGES);
        Idx.IdxData labels = Idx.read(labelFile, Idx.MAGIC_LABELS);
        if (images.count() != labels.count())
            throw new DataFileException(labelFile, 4, labels.count() + " labels but " + imageFile.getFileName() + " holds " + images.count() + " images");
        return new MnistDataset(images, labels.data(), fit);
    }

    private static DataFileException missing(Path dir, String name) {
        return new DataFileException(dir.resolve(name), -1, "missing IDX file (looked for " + name + " and " + name + ".gz in " + dir + ")");
    }

    private static Optional<Path> find(Path dir, String stem, String kind) {
        for (String name : List.of(stem + "-" + kind, stem + "-" + kind + ".gz", stem + "." + kind, stem + "." + kind + ".gz")) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** The images as raw bytes; each {@link #get(int)} scales and fits one. */
    public static final class MnistDataset implements Dataset {
        private final byte[] pixels;
        private final byte[] labels;
        private final int n, rows, cols;
        private final Fit fit;

        MnistDataset(Idx.IdxData images, byte[] labels, Fit fit) {
            this.pixels = images.data();
            this.labels = labels;
            this.n = images.dims()[0];
            this.rows = images.dims()[1];
            this.cols = images.dims()[2];
            this.fit = fit;
        }

        @Override
        public int size() {
            return n;
        }

        /** Output side lengths {@code [H, W]}. */
        public int[] imageSize() {
            return fit == Fit.NONE ? new int[]{rows, cols} : new int[]{32, 32};
        }

        @Override
        public Sample get(int i) {
            if (i < 0 || i >= n) throw new IndexOutOfBoundsException("image " + i + " outside [0, " + n + ")");
            float[] img = new float[rows * cols];
            int base = i * rows * cols;
            for (int k = 0; k < img.length; k++) img[k] = (pixels[base + k] & 0xFF) / 127.5f - 1f;
            int label = labels[i] & 0xFF;
            return switch (fit) {
                case NONE -> new Sample(Tensor.of(img, 1, rows, cols), label);
                case RESIZE_32 -> new Sample(Tensor.of(Resample.resize(img, 1, rows, cols, 32, 32), 1, 32, 32), label);
                case PAD_32 -> {
                    if (rows > 32 || cols > 32) throw new IllegalStateException("cannot pad " + rows + "x" + cols + " images to 32x32");
                    float[] out = new float[32 * 32];
                    java.util.Arrays.fill(out, -1f);
                    int top = (32 - rows) / 2, left = (32 - cols) / 2;
                    for (int y = 0; y < rows; y++) System.arraycopy(img, y * cols, out, (y + top) * 32 + left, cols);
                    yield new Sample(Tensor.of(out, 1, 32, 32), label);
                }
            };
        }
    }
}
