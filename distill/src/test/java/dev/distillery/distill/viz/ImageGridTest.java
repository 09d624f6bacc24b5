package dev.distillery.distill.viz;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ImageGridTest {
    @TempDir
    Path dir;

    private static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xFFFFFF;
    }

    private static int gray(int v) {
        return v << 16 | v << 8 | v;
    }

    @Test
    void valueMappingIsExact() {
        assertEquals(0, ImageGrid.toByte(-1));
        assertEquals(128, ImageGrid.toByte(0));
        assertEquals(255, ImageGrid.toByte(1));
        assertEquals(0, ImageGrid.toByte(-7));
        assertEquals(255, ImageGrid.toByte(3));
        assertEquals(255, ImageGrid.toByte(Double.POSITIVE_INFINITY));
        assertEquals(0, ImageGrid.toByte(Double.NaN));
        assertEquals(64, ImageGrid.toByte(-0.5)); // 63.75 -> 64
        assertEquals(191, ImageGrid.toByte(0.5)); // 191.25 -> 191
    }

    @Test
    void grayscaleGridPixelsPaddingAndPartialLastRow() throws IOException {
        // 5 images of 1x2x3 (C=1, H=2, W=3) in 2 columns -> 3 rows, last row has one image and one empty cell.
        int n = 5, h = 2, w = 3;
        float[] d = new float[n * h * w];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) d[(i * h + y) * w + x] = x == 0 ? -1f : x == 1 ? 0f : 1f;
        d[((4 * h) + 1) * w + 2] = 5f; // image 4, pixel (y=1, x=2): clamped to 255
        d[0] = -3f; // image 0, (0,0): clamped to 0
        Tensor t = Tensor.of(d, n, 1, h, w);
        Path out = dir.resolve("sub/grid.png");
        int pad = 1, padRgb = 0x102030;
        BufferedImage img = ImageGrid.write(t, out, ImageGrid.Options.columns(2).withPadding(pad).withPadColor(padRgb));
        assertTrue(GraphicsEnvironment.isHeadless());
        assertEquals("true", System.getProperty("java.awt.headless"));

        BufferedImage back = ImageIO.read(out.toFile());
        assertEquals(1 + 2 * (w + 1), back.getWidth());
        assertEquals(1 + 3 * (h + 1), back.getHeight());
        assertEquals(img.getWidth(), back.getWidth());
        for (int i = 0; i < n; i++) {
            int x0 = pad + (i % 2) * (w + pad), y0 = pad + (i / 2) * (h + pad);
            for (int y = 0; y < h; y++) {
                assertEquals(gray(0), rgb(back, x0, y0 + y), "image " + i);
                assertEquals(gray(128), rgb(back, x0 + 1, y0 + y), "image " + i);
                assertEquals(gray(255), rgb(back, x0 + 2, y0 + y), "image " + i);
            }
        }
        // padding: first row/column, gaps between cells and the whole empty cell (row 2, column 1)
        for (int x = 0; x < back.getWidth(); x++) assertEquals(padRgb, rgb(back, x, 0));
        for (int y = 0; y < back.getHeight(); y++) assertEquals(padRgb, rgb(back, 0, y));
        for (int y = 0; y < back.getHeight(); y++) assertEquals(padRgb, rgb(back, pad + w, y));
        for (int y = 2 * (h + 1) + 1; y < back.getHeight(); y++)
            for (int x = 2 + w; x < back.getWidth(); x++) assertEquals(padRgb, rgb(back, x, y), "empty cell " + x + "," + y);
        // no temp files left behind
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(out.getFileName().toString()), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void rgbChannelOrderAndScale() {
        // one 3x1x2 image: pixel (0,0) = red, pixel (0,1) = (0 -> 128, blue full, green -1)
        float[] d = {
                1f, 0f,   // R plane
                -1f, -1f, // G plane
                -1f, 1f}; // B plane
        Tensor t = Tensor.of(d, 1, 3, 1, 2);
        BufferedImage img = ImageGrid.render(t, new ImageGrid.Options(4, 0, 0xFFFFFF, 3, null));
        assertEquals(6, img.getWidth());
        assertEquals(3, img.getHeight());
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++) {
                assertEquals(0xFF0000, rgb(img, x, y));
                assertEquals(0x8000FF, rgb(img, x + 3, y));
            }
    }

    @Test
    void nonContiguousAndDoubleInput() {
        // permuted NHWC -> NCHW view in F64
        double[] nhwc = {1, -1, -1, /* px1 */ -1, 1, -1};
        Tensor t = Tensor.of(nhwc, 1, 1, 2, 3).permute(0, 3, 1, 2);
        BufferedImage img = ImageGrid.render(t, new ImageGrid.Options(1, 0, 0, 1, null));
        assertEquals(0xFF0000, rgb(img, 0, 0));
        assertEquals(0x00FF00, rgb(img, 1, 0));
    }

    @Test
    void labelsGoInAStripUnderTheImage() {
        Tensor t = Tensor.full(1.0, DType.F32, 3, 1, 8, 20);
        List<String> labels = List.of("0", "7", "longer label that gets clipped");
        BufferedImage img = ImageGrid.render(t, ImageGrid.Options.columns(3).withPadding(2).withPadColor(0x000000).withLabels(labels));
        assertEquals(2 + 3 * 22, img.getWidth());
        assertEquals(2 + (8 + ImageGrid.LABEL_HEIGHT) + 2, img.getHeight());
        // image pixels untouched
        for (int i = 0; i < 3; i++)
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 20; x++) assertEquals(0xFFFFFF, rgb(img, 2 + i * 22 + x, 2 + y));
        // some text pixels (non-black) in each label strip
        for (int i = 0; i < 3; i++) {
            int lit = 0;
            for (int y = 10; y < 10 + ImageGrid.LABEL_HEIGHT; y++)
                for (int x = 2 + i * 22; x < 2 + i * 22 + 20; x++) if (rgb(img, x, y) != 0) lit++;
            assertTrue(lit > 0, "label " + i + " drawn");
        }
        // gap between cells stays padding colour
        for (int y = 0; y < img.getHeight(); y++) assertEquals(0, rgb(img, 22, y));
    }

    @Test
    void rejectsBadInput() {
        Path out = dir.resolve("bad.png");
        var e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(Tensor.zeros(DType.F32, 2, 2, 4, 4), out, 2));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(Tensor.zeros(DType.F32, 2, 4, 4), out, 2));
        assertTrue(e.getMessage().contains("[N, C, H, W]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(Tensor.zeros(DType.F32, 0, 1, 4, 4), out, 2));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(Tensor.zeros(DType.F32, 2, 1, 4, 4), out,
                ImageGrid.Options.columns(2).withLabels(List.of("a"))));
        assertTrue(e.getMessage().contains("1 labels for 2 images"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.Options.columns(0));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.Options.columns(1).withPadding(-1));
        assertFalse(Files.exists(out));
    }
}
