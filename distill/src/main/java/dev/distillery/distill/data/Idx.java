package dev.distillery.distill.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian header {@code 0x00 0x00 type ndim}, then
 * {@code ndim} big-endian 32-bit dimensions, then the data. Only unsigned-byte data ({@code type = 0x08}) is read,
 * which gives the magic numbers {@code 0x00000803} (images {@code [N, rows, cols]}) and {@code 0x00000801} (labels
 * {@code [N]}). Files ending in {@code .gz} are decompressed.
 */
public final class Idx {
    /** Magic number of an unsigned-byte rank-3 file (images). */
    public static final int MAGIC_IMAGES = 0x00000803;
    /** Magic number of an unsigned-byte rank-1 file (labels). */
    public static final int MAGIC_LABELS = 0x00000801;

    private Idx() {}

    /** A parsed IDX file: its dimensions and its unsigned bytes (row-major). */
    public record IdxData(Path file, int[] dims, byte[] data) {
        public int unsigned(int i) {
            return data[i] & 0xFF;
        }

        public int count() {
            return dims[0];
        }

        @Override
        public String toString() {
            return "IdxData(" + file + ", dims " + Arrays.toString(dims) + ")";
        }
    }

    /** Reads an IDX file and checks that its magic number is {@code expectedMagic}. */
    public static IdxData read(Path file, int expectedMagic) throws IOException {
        byte[] bytes = readAllBytes(file);
        return parse(file, bytes, expectedMagic);
    }

    /** Parses the (decompressed) bytes of an IDX file; {@code file} only names it in errors. */
    public static IdxData parse(Path file, byte[] bytes, int expectedMagic) throws DataFileException {
        if (bytes.length < 4)
            throw new DataFileException(file, bytes.length, "truncated IDX header: file ends after " + bytes.length + " of 4 magic bytes");
        int magic = readInt(bytes, 0);
        if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xFF) != 0x08)
            throw new DataFileException(file, 0, String.format("not an unsigned-byte IDX file: magic 0x%08X, expected 0x%08X", magic, expectedMagic));
        if (magic != expectedMagic)
            throw new DataFileException(file, 0, String.format("IDX magic 0x%08X, expected 0x%08X (rank %d, expected %d)", magic, expectedMagic, magic & 0xFF, expectedMagic & 0xFF));
        int ndim = magic & 0xFF;
        int headerEnd = 4 + 4 * ndim;
        if (bytes.length < headerEnd)
            throw new DataFileException(file, bytes.length, "truncated IDX header: file ends inside the " + ndim + " dimensions (header is " + headerEnd + " bytes)");
        int[] dims = new int[ndim];
        long n = 1;
        for (int d = 0; d < ndim; d++) {
            dims[d] = readInt(bytes, 4 + 4 * d);
            if (dims[d] < 0) throw new DataFileException(file, 4 + 4 * d, "negative IDX dimension " + dims[d]);
            n *= dims[d];
        }
        long expectedEnd = headerEnd + n;
        if (expectedEnd > Integer.MAX_VALUE - 16)
            throw new DataFileException(file, 4, "IDX dimensions " + Arrays.toString(dims) + " are too large");
        if (bytes.length < expectedEnd)
            throw new DataFileException(file, bytes.length, "truncated IDX data: dimensions " + Arrays.toString(dims) + " need " + n
                    + " data bytes from offset " + headerEnd + " (file should be " + expectedEnd + " bytes), but the file ends after " + bytes.length);
        if (bytes.length > expectedEnd)
            throw new DataFileException(file, expectedEnd, (bytes.length - expectedEnd) + " trailing bytes after the IDX data of dimensions " + Arrays.toString(dims));
        byte[] data = Arrays.copyOfRange(bytes, headerEnd, (int) expectedEnd);
        return new IdxData(file, dims, data);
    }

    /** The file's bytes, gunzipped when its name ends in {@code .gz}; a corrupt stream names the offset reached. */
    static byte[] readAllBytes(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFileException(file, -1, "no such file", new NoSuchFileException(file.toString()));
        if (!file.getFileName().toString().endsWith(".gz")) return Files.readAllBytes(file);
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) out.write(buf, 0, r);
        } catch (IOException e) {
            if (e instanceof DataFileException) throw e;
            throw new DataFileException(file, out.size(), "corrupt or truncated gzip stream after " + out.size() + " decompressed bytes: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    /** Big-endian IDX bytes for unsigned-byte data of the given dimensions (for tests and tools). */
    public static byte[] encode(int[] dims, byte[] data) {
        byte[] out = new byte[4 + 4 * dims.length + data.length];
        out[2] = 0x08;
        out[3] = (byte) dims.length;
        for (int d = 0; d < dims.length; d++) {
            int v = dims[d];
            int o = 4 + 4 * d;
            out[o] = (byte) (v >>> 24);
            out[o + 1] = (byte) (v >>> 16);
            out[o + 2] = (byte) (v >>> 8);
            out[o + 3] = (byte) v;
        }
        System.arraycopy(data, 0, out, 4 + 4 * dims.length, data.length);
        return out;
    }
}
