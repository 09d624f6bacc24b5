package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The PNG / JPEG images directly in a directory (sorted by file name), each center-cropped to a square, resized to
 * {@code size x size} ({@link Resample}: area filter when shrinking, bilinear when enlarging), scaled to [-1, 1]
 * ({@code v / 127.5 - 1}) and returned as {@code [3, S, S]} RGB or {@code [1, S, S]} grayscale (ITU-R BT.601 luma);
 * alpha is ignored.
 *
 * <p>Captions, optional: a {@code captions.txt} in the directory with {@code filename<TAB>caption} lines (blank lines
 * and lines starting with {@code #} skipped), else a {@code <stem>.txt} next to the image; images without either have
 * a {@code null} caption. Images are decoded on each {@link #get(int)}.
 */
public final class ImageFolder implements Dataset {
    public static final String CAPTIONS_FILE = "captions.txt";

    private final List<Path> files;
    private final Map<String, String> captions;
    private final int size;
    private final boolean grayscale;

    private ImageFolder(List<Path> files, Map<String, String> captions, int size, boolean grayscale) {
        this.files = files;
        this.captions = captions;
        this.size = size;
        this.grayscale = grayscale;
    }

    /** Indexes {@code dir}; fails when it holds no PNG / JPEG files or the captions file is malformed. */
    public static ImageFolder open(Path dir, int size, boolean grayscale) throws IOException {
        if (size <= 0) throw new IllegalArgumentException("image size must be positive, got " + size);
        if (!Files.isDirectory(dir)) throw new DataFileException(dir, -1, "not a directory");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).filter(ImageFolder::isImage).sorted().toList();
        }
        if (files.isEmpty()) throw new DataFileException(dir, -1, "no .png, .jpg or .jpeg files");
        Map<String, String> captions = new HashMap<>();
        Path capFile = dir.resolve(CAPTIONS_FILE);
        if (Files.isRegularFile(capFile)) {
            List<String> lines = Files.readAllLines(capFile, StandardCharsets.UTF_8);
            long offset = 0;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    int tab = line.indexOf('\t');
                    if (tab <= 0) throw new DataFileException(capFile, offset, "line " + (i + 1) + " is not 'filename<TAB>caption'");
                    captions.put(line.substring(0, tab).strip(), line.substring(tab + 1).strip());
                }
                offset += line.getBytes(StandardCharsets.UTF_8).length + 1;
            }
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (captions.containsKey(name)) continue;
            Path txt = dir.resolve(name.substring(0, name.lastIndexOf('.')) + ".txt");
            if (Files.isRegularFile(txt)) captions.put(name, Files.readString(txt, StandardCharsets.UTF_8).strip());
        }
        return new ImageFolder(files, captions, size, grayscale);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    @Override
    public int size() {
        return files.size();
    }

    public Path file(int i) {
        return files.get(i);
    }

    public String caption(int i) {
        return captions.get(files.get(i).getFileName().toString());
    }

    @Override
    public Sample get(int i) {
        Path f = files.get(i);
        try {
            return new Sample(load(f, size, grayscale), Sample.NO_LABEL, caption(i));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One image file as {@code [C, size, size]} in [-1, 1]. */
    public static Tensor load(Path file, int size, boolean grayscale) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new DataFileException(file, -1, "cannot decode image: " + e.getMessage(), e);
        }
        if (img == null) throw new DataFileException(file, -1, "not a readable PNG or JPEG image");
        int w = img.getWidth(), h = img.getHeight();
        int side = Math.min(w, h), x0 = (w - side) / 2, y0 = (h - side) / 2;
        int c = grayscale ? 1 : 3;
        float[] planes = new float[c * side * side];
        Raster raster = img.getRaster();
        boolean rawGray = raster.getNumBands() <= 2 && img.getColorModel().getNumColorComponents() == 1;
        int maxVal = rawGray ? (1 << img.getColorModel().getComponentSize(0)) - 1 : 255;
        int n = side * side;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                int k = y * side + x;
                float r, g, b;
                if (rawGray) { // read gray samples directly: getRGB would gamma-convert them
                    r = g = b = raster.getSample(x0 + x, y0 + y, 0) * 255f / maxVal;
                } else {
                    int rgb = img.getRGB(x0 + x, y0 + y);
                    r = (rgb >> 16) & 0xFF;
                    g = (rgb >> 8) & 0xFF;
                    b = rgb & 0xFF;
                }
                if (grayscale) planes[k] = rawGray ? r : 0.299f * r + 0.587f * g + 0.114f * b;
                else {
                    planes[k] = r;
                    planes[n + k] = g;
                    planes[2 * n + k] = b;
                }
            }
        float[] out = Resample.resize(planes, c, side, side, size, size);
        for (int i = 0; i < out.length; i++) out[i] = out[i] / 127.5f - 1f;
        return Tensor.of(out, c, size, size);
    }
}
