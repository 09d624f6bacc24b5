package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ImageFolderTest {
    @TempDir
    Path dir;

    /** A w x h RGB image whose pixel (x, y) is (r = 10 x, g = 20 y, b = 255). */
    private static BufferedImage gradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img.setRGB(x, y, (10 * x) << 16 | (20 * y) << 8 | 255);
        return img;
    }

    @Test
    void centerCropScaleAndChannels() throws IOException {
        ImageIO.write(gradient(6, 4), "png", dir.resolve("a.png").toFile()); // cropped to columns 1..4
        ImageFolder f = ImageFolder.open(dir, 4, false);
        assertEquals(1, f.size());
        Sample s = f.get(0);
        assertNull(s.caption());
        assertEquals(Sample.NO_LABEL, s.label());
        Tensor t = s.image();
        assertArrayEquals(new int[]{3, 4, 4}, t.shape());
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                assertEquals(10 * (x + 1) / 127.5 - 1, t.get(0, y, x), 1e-6);
                assertEquals(20 * y / 127.5 - 1, t.get(1, y, x), 1e-6);
                assertEquals(1.0, t.get(2, y, x), 1e-6);
            }
        // 2x downscale averages 2x2 blocks
        Tensor half = ImageFolder.load(dir.resolve("a.png"), 2, false);
        assertEquals((10 * 1.5) / 127.5 - 1, half.get(0, 0, 0), 1e-6);
        assertEquals((20 * 2.5) / 127.5 - 1, half.get(1, 1, 0), 1e-6);
        // grayscale: BT.601 luma of the RGB values
        Tensor g = ImageFolder.open(dir, 4, true).get(0).image();
        assertArrayEquals(new int[]{1, 4, 4}, g.shape());
        double luma = 0.299 * 20 + 0.587 * 40 + 0.114 * 255;
        assertEquals(luma / 127.5 - 1, g.get(0, 2, 1), 1e-5);
        // upscaling keeps the range
        for (float v : ImageFolder.load(dir.resolve("a.png"), 9, false).toFloatArray()) assertTrue(v >= -1 && v <= 1);
    }

    @Test
    void grayPngIsReadWithoutGammaConversion() throws IOException {
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(0, 0, 0, 0);
        img.getRaster().setSample(1, 0, 0, 64);
        img.getRaster().setSample(0, 1, 0, 128);
        img.getRaster().setSample(1, 1, 0, 255);
        ImageIO.write(img, "png", dir.resolve("g.png").toFile());
        Tensor t = ImageFolder.load(dir.resolve("g.png"), 2, true);
        assertArrayEquals(new float[]{-1f, 64 / 127.5f - 1, 128 / 127.5f - 1, 1f}, t.toFloatArray(), 1e-6f);
        Tensor rgb = ImageFolder.load(dir.resolve("g.png"), 2, false);
        assertEquals(64 / 127.5 - 1, rgb.get(2, 0, 1), 1e-6);
    }

    @Test
    void captionsFromFileOrSidecarAndSortedOrder() throws IOException {
        for (String n : new String[]{"b.png", "a.png", "c.jpg"}) ImageIO.write(gradient(3, 3), n.endsWith("png") ? "png" : "jpg", dir.resolve(n).toFile());
        Files.writeString(dir.resolve("notes.md"), "ignored");
        Files.writeString(dir.resolve("captions.txt"), "# comment\na.png\ta red square\n\nb.png\tanother one\n");
        Files.writeString(dir.resolve("c.txt"), "a jpeg\n");
        ImageFolder f = ImageFolder.open(dir, 3, false);
        assertEquals(3, f.size());
        assertEquals("a.png", f.file(0).getFileName().toString());
        assertEquals("a red square", f.get(0).caption());
        assertEquals("another one", f.get(1).caption());
        assertEquals("a jpeg", f.get(2).caption());
        assertArrayEquals(new int[]{3, 3, 3}, f.get(2).image().shape());
        DataLoader.Batch b = new DataLoader(f, 3, false, false, false, 0).next();
        assertArrayEquals(new int[]{3, 3, 3, 3}, b.images().shape());
        assertEquals("a red square", b.captions().get(0));

        Files.writeString(dir.resolve("captions.txt"), "a.png\tok\nno tab here\n");
        DataFileException e = assertThrows(DataFileException.class, () -> ImageFolder.open(dir, 3, false));
        assertEquals("a.png\tok\n".length(), e.offset());
        assertTrue(e.getMessage().contains("captions.txt") && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void errors() throws IOException {
        assertThrows(DataFileException.class, () -> ImageFolder.open(dir, 4, false)); // empty
        Files.writeString(dir.resolve("bad.png"), "not a png");
        DataFileException e = assertThrows(DataFileException.class, () -> ImageFolder.load(dir.resolve("bad.png"), 4, false));
        assertTrue(e.getMessage().contains("bad.png"), e.getMessage());
    }
}
