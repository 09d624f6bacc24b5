package dev.distillery.distill.viz;

import dev.distillery.tensor.Tensor;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A PNG grid of images from a tensor {@code [N, C, H, W]} with values in [-1, 1] and {@code C} = 1 (grayscale) or 3
 * (channels in RGB order).
 *
 * <p><b>Value mapping.</b> Each value {@code v} is clamped to [-1, 1] and mapped to {@code round((v + 1) / 2 * 255)}
 * (round half up), so -1 gives 0, 0 gives 128 and 1 gives 255. NaN is drawn as 0 (black). Grayscale images set R = G
 * = B. The tensor may have any dtype, device or strides; it is copied to host doubles once (NCHW), and each image is
 * written into the HWC pixels of the output.
 *
 * <p><b>Layout.</b> Images are placed row-major, {@code columns} per row; the last row may be partly empty. With
 * padding {@code p} and scale {@code s}, image {@code i} sits at column {@code i % columns}, row {@code i / columns},
 * its top-left pixel at {@code x = p + col * (W*s + p)}, {@code y = p + row * (H*s + labelHeight + p)}, where
 * {@code labelHeight} is 0 without labels. Everything that is not image pixels (padding, empty cells, label strips) has
 * the padding colour. The output is {@code p + cols * (W*s + p)} wide and {@code p + rows * (H*s + labelHeight + p)}
 * high, with {@code cols = min(columns, N)}.
 *
 * <p><b>Labels.</b> Optional, one per image, drawn in a small font in a strip under the image (never over its pixels),
 * in black or white, whichever contrasts with the padding colour; text wider than the cell is clipped.
 */
public final class ImageGrid {
    static {
        Png.ensureHeadless();
    }

    /** Height in pixels of the label strip under each image when labels are given. */
    public static final int LABEL_HEIGHT = 12;

    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 10);

    /**
     * Grid options.
     *
     * @param columns  images per row, at least 1
     * @param padding  pixels between images and around the grid, at least 0
     * @param padRgb   padding colour as 0xRRGGBB
     * @param scale    integer nearest-neighbour upscaling of each image, at least 1 (e.g. 4 for 28x28 MNIST)
     * @param labels   one label per image, or {@code null} for none
     */
    public record Options(int columns, int padding, int padRgb, int scale, List<String> labels) {
        public Options {
            if (columns < 1) throw new IllegalArgumentException("columns must be >= 1, got " + columns);
            if (padding < 0) throw new IllegalArgumentException("padding must be >= 0, got " + padding);
            if (scale < 1) throw new IllegalArgumentException("scale must be >= 1, got " + scale);
            if ((padRgb & ~0xFFFFFF) != 0) throw new IllegalArgumentException("padRgb must be 0xRRGGBB, got 0x" + Integer.toHexString(padRgb));
            labels = labels == null ? null : List.copyOf(labels);
        }

        /** {@code columns} per row, 2 px white padding, scale 1, no labels. */
        public static Options columns(int columns) {
            return new Options(columns, 2, 0xFFFFFF, 1, null);
        }

        public Options withPadding(int padding) { return new Options(columns, padding, padRgb, scale, labels); }

        public Options withPadColor(int rgb) { return new Options(columns, padding, rgb, scale, labels); }

        public Options withScale(int scale) { return new Options(columns, padding, padRgb, scale, labels); }

        public Options withLabels(List<String> labels) { return new Options(columns, padding, padRgb, scale, labels); }
    }

    private ImageGrid() {}

    /** Maps one value in [-1, 1] to 0..255 as documented in the class comment. */
    public static int toByte(double v) {
        if (Double.isNaN(v)) return 0;
        double c = Math.max(-1.0, Math.min(1.0, v));
        return (int) Math.floor((c + 1.0) * 127.5 + 0.5);
    }

    /** Renders the grid; see the class comment for value mapping and layout. */
    public static BufferedImage render(Tensor images, Options options) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(options, "options");
        int[] s = images.shape();
        if (s.length != 4)
            throw new IllegalArgumentException("images must be [N, C, H, W], got shape " + Arrays.toString(s));
        int n = s[0], ch = s[1], h = s[2], w = s[3];
        if (n < 1) throw new IllegalArgumentException("images is empty: shape " + Arrays.toString(s));
        if (ch != 1 && ch != 3)
            throw new IllegalArgumentException("images must have 1 (grayscale) or 3 (RGB) channels, got C = " + ch + " in shape " + Arrays.toString(s));
        if (h < 1 || w < 1) throw new IllegalArgumentException("images have zero height or width: shape " + Arrays.toString(s));
        List<String> labels = options.labels();
        if (labels != null && labels.size() != n)
            throw new IllegalArgumentException(labels.size() + " labels for " + n + " images");
        int p = options.padding(), sc = options.scale();
        int cols = Math.min(options.columns(), n), rows = (n + cols - 1) / cols;
        int cellW = w * sc, imgH = h * sc, cellH = imgH + (labels == null ? 0 : LABEL_HEIGHT);
        long outW = p + (long) cols * (cellW + p), outH = p + (long) rows * (cellH + p);
        if (outW * outH > Integer.MAX_VALUE / 2)
            throw new IllegalArgumentException("grid of " + outW + "x" + outH + " pixels is too large");

        BufferedImage img = new BufferedImage((int) outW, (int) outH, BufferedImage.TYPE_INT_RGB);
        int[] px = new int[(int) (outW * outH)];
        Arrays.fill(px, options.padRgb());
        double[] d = images.toDoubleArray();
        int plane = h * w, imgSize = ch * plane;
        for (int i = 0; i < n; i++) {
            int x0 = p + (i % cols) * (cellW + p), y0 = p + (i / cols) * (cellH + p);
            int base = i * imgSize;
            for (int y = 0; y < imgH; y++) {
                int sy = y / sc, row = (y0 + y) * (int) outW + x0;
                for (int x = 0; x < cellW; x++) {
                    int k = base + sy * w + x / sc;
                    int r = toByte(d[k]);
                    int rgb = ch == 1 ? (r << 16) | (r << 8) | r : (r << 16) | (toByte(d[k + plane]) << 8) | toByte(d[k + 2 * plane]);
                    px[row + x] = rgb;
                }
            }
        }
        img.setRGB(0, 0, (int) outW, (int) outH, px, 0, (int) outW);

        if (labels != null) {
            Graphics2D g = img.createGraphics();
            try {
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                g.setFont(LABEL_FONT);
                g.setColor(contrasting(options.padRgb()));
                FontMetrics fm = g.getFontMetrics();
                for (int i = 0; i < n; i++) {
                    String label = labels.get(i);
                    if (label == null || label.isEmpty()) continue;
                    int x0 = p + (i % cols) * (cellW + p), y0 = p + (i / cols) * (cellH + p) + imgH;
                    Graphics2D cg = (Graphics2D) g.create(x0, y0, cellW, LABEL_HEIGHT);
                    try {
                        int tw = fm.stringWidth(label);
                        int tx = tw <= cellW ? (cellW - tw) / 2 : 0;
                        cg.drawString(label, tx, LABEL_HEIGHT - fm.getDescent() - 1 + (fm.getDescent() > 2 ? 1 : 0));
                    } finally {
                        cg.dispose();
                    }
                }
            } finally {
                g.dispose();
            }
        }
        return img;
    }

    /** Renders the grid and writes it atomically as a PNG; returns the rendered image. */
    public static BufferedImage write(Tensor images, Path file, Options options) {
        BufferedImage img = render(images, options);
        Png.write(img, file);
        return img;
    }

    /** {@link #write(Tensor, Path, Options)} with {@link Options#columns(int)}. */
    public static BufferedImage write(Tensor images, Path file, int columns) {
        return write(images, file, Options.columns(columns));
    }

    private static Color contrasting(int rgb) {
        int r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
        return 0.299 * r + 0.587 * g + 0.114 * b >= 128 ? Color.BLACK : Color.WHITE;
    }
}
