package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class IdxMnistTest {
    @TempDir
    Path dir;

    /** n images 28x28 whose pixel (y, x) of image i is (i * 37 + y * 28 + x) mod 256, labels i mod 10. */
    private static byte[][] mnistBytes(int n) {
        byte[] px = new byte[n * 28 * 28];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 784; k++) px[i * 784 + k] = (byte) ((i * 37 + k) % 256);
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) lb[i] = (byte) (i % 10);
        return new byte[][]{Idx.encode(new int[]{n, 28, 28}, px), Idx.encode(new int[]{n}, lb)};
    }

    private static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
            g.write(b);
        }
        return bo.toByteArray();
    }

    private void writeSplit(String prefix, int n, boolean gz) throws IOException {
        byte[][] f = mnistBytes(n);
        String sfx = gz ? ".gz" : "";
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte" + sfx), gz ? gzip(f[0]) : f[0]);
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte" + sfx), gz ? gzip(f[1]) : f[1]);
    }

    @Test
    void headerMagicAndDims() throws IOException {
        byte[][] f = mnistBytes(3);
        assertEquals(0x00, f[0][0]);
        assertEquals(0x08, f[0][2]);
        assertEquals(0x03, f[0][3]);
        Idx.IdxData d = Idx.parse(Path.of("x"), f[0], Idx.MAGIC_IMAGES);
        assertArrayEquals(new int[]{3, 28, 28}, d.dims());
        assertEquals((37 + 5) % 256, d.unsigned(784 + 5));
        Idx.IdxData l = Idx.parse(Path.of("y"), f[1], Idx.MAGIC_LABELS);
        assertArrayEquals(new int[]{3}, l.dims());
        assertEquals(2, l.unsigned(2));
    }

    @Test
    void plainAndGzipGiveTheSameScaledPaddedImages() throws IOException {
        writeSplit("train", 4, false);
        writeSplit("t10k", 4, true);
        Mnist.MnistDataset plain = Mnist.load(dir, Mnist.Split.TRAIN, Mnist.Fit.PAD_32);
        Mnist.MnistDataset gz = Mnist.load(dir, Mnist.Split.TEST, Mnist.Fit.PAD_32);
        assertEquals(4, plain.size());
        for (int i = 0; i < 4; i++) {
            Sample a = plain.get(i), b = gz.get(i);
            assertEquals(i % 10, a.label());
            assertArrayEquals(new int[]{1, 32, 32}, a.image().shape());
            assertArrayEquals(a.image().toFloatArray(), b.image().toFloatArray());
            // padding is -1 (zero pixels after scaling), content sits at offset 2
            assertEquals(-1.0, a.image().get(0, 0, 0), 0);
            assertEquals(-1.0, a.image().get(0, 31, 31), 0);
            assertEquals(-1.0, a.image().get(0, 1, 15), 0);
            for (int y : new int[]{0, 13, 27})
                for (int x : new int[]{0, 5, 27}) {
                    int v = (i * 37 + y * 28 + x) % 256;
                    assertEquals(v / 127.5 - 1, a.image().get(0, y + 2, x + 2), 1e-6);
                }
        }
        // pixel value 0 -> -1 and 255 -> 1
        Sample s0 = plain.get(0);
        assertEquals(-1.0, s0.image().get(0, 2, 2), 1e-7);                 // (0*37 + 0) = 0
        int k255 = 255;                                                  // y = 9, x = 3
        assertEquals(1.0, s0.image().get(0, 2 + k255 / 28, 2 + k255 % 28), 1e-7);
    }

    @Test
    void noneAndResizeFits() throws IOException {
        writeSplit("train", 2, true);
        Tensor raw = Mnist.load(dir, Mnist.Split.TRAIN, Mnist.Fit.NONE).get(1).image();
        assertArrayEquals(new int[]{1, 28, 28}, raw.shape());
        Tensor rs = Mnist.load(dir, Mnist.Split.TRAIN, Mnist.Fit.RESIZE_32).get(1).image();
        assertArrayEquals(new int[]{1, 32, 32}, rs.shape());
        float[] v = rs.toFloatArray();
        for (float f : v) assertTrue(f >= -1 && f <= 1);
        // a constant image stays constant under resizing
        float[] ones = new float[28 * 28];
        Arrays.fill(ones, 0.25f);
        for (float f : Resample.resize(ones, 1, 28, 28, 32, 32)) assertEquals(0.25f, f, 1e-6);
        // shrinking by 2 averages 2x2 blocks
        float[] r = Resample.resize(new float[]{1, 2, 3, 4}, 1, 2, 2, 1, 1);
        assertEquals(2.5f, r[0], 1e-6);
    }

    @Test
    void truncatedDataNamesFileAndOffset() throws IOException {
        byte[] img = mnistBytes(2)[0];
        Path f = dir.resolve("train-images-idx3-ubyte");
        Files.write(f, Arrays.copyOf(img, 16 + 784 + 100));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.read(f, Idx.MAGIC_IMAGES));
        assertEquals(f, e.file());
        assertEquals(16 + 784 + 100, e.offset());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset 900"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedHeaderAndBadMagic() throws IOException {
        byte[] img = mnistBytes(1)[0];
        Path f = dir.resolve("a-idx3-ubyte");
        Files.write(f, Arrays.copyOf(img, 10));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.read(f, Idx.MAGIC_IMAGES));
        assertEquals(10, e.offset());
        assertTrue(e.getMessage().contains("header"), e.getMessage());

        Path lab = dir.resolve("labels");
        Files.write(lab, mnistBytes(1)[1]);
        DataFileException m = assertThrows(DataFileException.class, () -> Idx.read(lab, Idx.MAGIC_IMAGES));
        assertEquals(0, m.offset());
        assertTrue(m.getMessage().contains("0x00000801") && m.getMessage().contains(lab.toString()), m.getMessage());

        byte[] junk = {0x1f, 0x00, 0x08, 0x03, 0, 0, 0, 1};
        Files.write(f, junk);
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f, Idx.MAGIC_IMAGES)).getMessage().contains("not an unsigned-byte IDX"));

        Path extra = dir.resolve("extra");
        byte[] lb = mnistBytes(3)[1];
        Files.write(extra, Arrays.copyOf(lb, lb.length + 2));
        assertEquals(lb.length, assertThrows(DataFileException.class, () -> Idx.read(extra, Idx.MAGIC_LABELS)).offset());
    }

    @Test
    void truncatedGzipNamesFileAndDecompressedOffset() throws IOException {
        byte[] gz = gzip(mnistBytes(20)[0]);
        Path f = dir.resolve("train-images-idx3-ubyte.gz");
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.read(f, Idx.MAGIC_IMAGES));
        assertEquals(f, e.file());
        assertTrue(e.offset() >= 0 && e.offset() < 16 + 20 * 784, "offset " + e.offset());
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("byte offset"), e.getMessage());
    }

    @Test
    void labelCountMismatchAndMissingFiles() throws IOException {
        byte[][] a = mnistBytes(3), b = mnistBytes(2);
        Files.write(dir.resolve("train-images-idx3-ubyte"), a[0]);
        Files.write(dir.resolve("train-labels-idx1-ubyte"), b[1]);
        DataFileException e = assertThrows(DataFileException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN, Mnist.Fit.PAD_32));
        assertTrue(e.getMessage().contains("2 labels") && e.getMessage().contains("3 images"), e.getMessage());
        DataFileException m = assertThrows(DataFileException.class, () -> Mnist.load(dir, Mnist.Split.TEST, Mnist.Fit.PAD_32));
        assertTrue(m.getMessage().contains("t10k-images-idx3-ubyte"), m.getMessage());
    }

    @Test
    void locateUsesDataArgument() throws IOException {
        writeSplit("train", 1, false);
        assertEquals(dir, Mnist.locate(dir.toString()));
        assertEquals(1, Mnist.open(dir.toString(), Mnist.Split.TRAIN, Mnist.Fit.PAD_32).size());
        assertThrows(DataFileException.class, () -> Mnist.locate(dir.resolve("nope").toString()));
        // dotted spelling of the original MNIST archive
        Path d2 = Files.createDirectory(dir.resolve("dotted"));
        byte[][] f = mnistBytes(2);
        Files.write(d2.resolve("train-images.idx3-ubyte"), f[0]);
        Files.write(d2.resolve("train-labels.idx1-ubyte"), f[1]);
        assertEquals(2, Mnist.load(d2, Mnist.Split.TRAIN, Mnist.Fit.NONE).size());
    }
}
