package dev.distillery.distill.data;


import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * scikit-learn's 8x8 handwritten digits ({@code sklearn.datasets.load_digits}): a CSV (plain or {@code .gz}) with one
 * row per image of 64 pixel values in 0..16 followed by the label 0..9 (1797 rows in the shipped file). Images come
 * out as {@code [1, 8, 8]} scaled to [-1, 1] ({@code v / 8 - 1}).
 *
 * <p>Without {@code --data FILE}, {@link #locate(String)} falls back to {@link #DEBIAN_SKLEARN_DIGITS}, where
 * Debian's {@code python3-sklearn} package installs it.
 */
public final class Digits {
    /** Where Debian's {@code python3-sklearn} installs the digits CSV. */
    public static final Path DEBIAN_SKLEARN_DIGITS = Path.of("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz");
    /** Rows in the file scikit-learn ships. */
    public static final int SKLEARN_ROWS = 1797;

    private Digits() {}

    /** {@code dataArg} when given (a {@code --data FILE} option), else the Debian file when it exists. */
    public static Path locate(String dataArg) throws DataFileException {
        if (dataArg != null && !dataArg.isBlank()) {
            Path p = Path.of(dataArg);
            if (!Files.isRegularFile(p)) throw new DataFileException(p, -1, "--data for digits must be the digits CSV file (plain or .gz)");
            return p;
        }
        return discover().orElseThrow(() -> new DataFileException(DEBIAN_SKLEARN_DIGITS, -1,
                "no digits CSV: pass --data FILE (scikit-learn's digits.csv[.gz]) or install Debian's python3-sklearn"));
    }

    public static Optional<Path> discover() {
        return Files.isRegularFile(DEBIAN_SKLEARN_DIGITS) ? Optional.of(DEBIAN_SKLEARN_DIGITS) : Optional.empty();
    }

    /** {@link #load(Path)} of {@link #locate(String) locate(dataArg)}: the {@code --data FILE} entry point. */
    public static InMemoryDataset open(String dataArg) throws IOException {
        return load(locate(dataArg));
    }

    /** Loads the whole CSV into memory. Errors name the file, the line and the byte offset of that line. */
    public static InMemoryDataset load(Path file) throws IOException {
        String text = new String(Idx.readAllBytes(file), StandardCharsets.UTF_8);
        List<float[]> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int pos = 0, line = 0;
        long nextOffset = 0;
        while (pos < text.length()) {
            int end = text.indexOf('\n', pos);
            if (end < 0) end = text.length();
            line++;
            String row = text.substring(pos, end).strip();
            long offset = nextOffset;
            nextOffset += text.substring(pos, Math.min(end + 1, text.length())).getBytes(StandardCharsets.UTF_8).length;
            if (!row.isEmpty()) {
                String[] f = row.split(",");
                if (f.length != 65)
                    throw new DataFileException(file, offset, "line " + line + " has " + f.length + " fields, expected 64 pixels and a label");
                float[] img = new float[64];
                double label;
                try {
                    for (int k = 0; k < 64; k++) {
                        double v = Double.parseDouble(f[k].strip());
                        if (v < 0 || v > 16) throw new DataFileException(file, offset, "line " + line + ": pixel " + k + " = " + v + " outside 0..16");
                        img[k] = (float) (v / 8 - 1);
                    }
                    label = Double.parseDouble(f[64].strip());
                } catch (NumberFormatException e) {
                    throw new DataFileException(file, offset, "line " + line + ": " + e.getMessage(), e);
                }
                if (label != Math.rint(label) || label < 0 || label > 9)
                    throw new DataFileException(file, offset, "line " + line + ": label " + f[64] + " is not a digit 0..9");
                images.add(img);
                labels.add((int) label);
            }
            pos = end + 1;
        }
        if (images.isEmpty()) throw new DataFileException(file, 0, "no rows");
        float[] all = new float[images.size() * 64];
        int[] lab = new int[images.size()];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(images.get(i), 0, all, i * 64, 64);
            lab[i] = labels.get(i);
        }
        return new InMemoryDataset(all, lab, 1, 8, 8);
    }
}
