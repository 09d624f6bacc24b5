package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.HalfFloats;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Writes safetensors files atomically; see {@link Safetensors#write(Path, Map, Map)}. */
final class SafetensorsWriter {
    private SafetensorsWriter() {}

    private static final int BUFFER = 1 << 20;

    record Entry(String name, Tensor tensor, long begin, long end) {}

    /** The header as written: compact JSON, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, List<Entry> entriesOut) {
        StringBuilder sb = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            sb.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                String k = e.getKey(), v = e.getValue();
                if (k == null || v == null) throw new IllegalArgumentException(file + ": metadata key and value must not be null (key " + k + ")");
                if (!Json.isWellFormed(k) || !Json.isWellFormed(v))
                    throw new IllegalArgumentException(file + ": metadata " + Json.quote(k) + " contains an unpaired surrogate, which UTF-8 cannot encode");
                if (!first) sb.append(',');
                first = false;
                Json.writeString(sb, k);
                sb.append(':');
                Json.writeString(sb, v);
            }
            sb.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null) throw new IllegalArgumentException(file + ": null tensor name");
            if (name.equals("__metadata__")) throw new IllegalArgumentException("tensor '__metadata__' in " + file + ": the name is reserved for the metadata");
            if (!Json.isWellFormed(name)) throw new IllegalArgumentException("tensor " + Json.quote(name) + " in " + file + ": the name contains an unpaired surrogate, which UTF-8 cannot encode");
            if (t == null) throw new IllegalArgumentException("tensor " + Json.quote(name) + " in " + file + ": null tensor");
            long bytes = (long) t.numel() * t.dtype().byteSize();
            entriesOut.add(new Entry(name, t, offset, offset + bytes));
            if (sb.length() > 1) sb.append(',');
            Json.writeString(sb, name);
            sb.append(":{\"dtype\":\"").append(t.dtype().safetensorsName()).append("\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) sb.append(i > 0 ? "," : "").append(shape[i]);
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        // Pad with spaces so the data section starts 8-byte aligned, as the reference implementation does.
        byte[] h = Arrays.copyOf(json, json.length + (8 - json.length % 8) % 8);
        Arrays.fill(h, json.length, h.length, (byte) ' ');
        if (h.length > SafetensorsFileReader.MAX_HEADER_BYTES)
            throw new IllegalArgumentException(file + ": the header would be " + h.length + " bytes, over the " + SafetensorsFileReader.MAX_HEADER_BYTES + "-byte limit readers accept");
        return h;
    }

    static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws SafetensorsException {
        if (file == null) throw new IllegalArgumentException("safetensors write: null path");
        if (tensors == null) throw new IllegalArgumentException(file + ": null tensor map");
        List<Entry> entries = new ArrayList<>();
        byte[] header = header(file, tensors, metadata, entries);
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) throw new SafetensorsException(file, null, "cannot write: it is a directory");

        Path temp = null;
        String current = null;
        try {
            temp = createTemp(dir, abs.getFileName().toString());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                for (int i = 0; i < header.length; ) {
                    if (!buf.hasRemaining()) flush(ch, buf);
                    int k = Math.min(buf.remaining(), header.length - i);
                    buf.put(header, i, k);
                    i += k;
                }
                for (Entry e : entries) {
                    current = e.name;
                    writeTensor(ch, buf, e.tensor);
                    long expected = 8 + header.length + e.end;
                    if (ch.position() + buf.position() != expected)
                        throw new IllegalStateException("tensor " + Json.quote(e.name) + " in " + file + ": wrote " + (ch.position() + buf.position() - 8 - header.length - e.begin)
                                + " bytes, expected " + (e.end - e.begin) + " (did the tensor change during the write?)");
                }
                current = null;
                flush(ch, buf);
                ch.force(true);
            }
            Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new SafetensorsException(file, current, "cannot write: " + e, e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // best effort; the original failure is what matters
                }
            }
        }
    }

    /** A new, empty, hidden file next to the target (same file system, so the final rename is atomic). */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
            try {
                // CREATE_NEW with default permissions (unlike Files.createTempFile's 0600), so the result looks like
                // any other file the user writes.
                FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return p;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    private static void syncDirectory(Path dir) {
        // Makes the rename durable on POSIX file systems; not possible everywhere (Windows), hence best effort.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException ignored) {
            // the file itself is already synced
        }
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    private static void ensure(FileChannel ch, ByteBuffer buf, int bytes) throws IOException {
        if (buf.remaining() < bytes) flush(ch, buf);
    }

    private static void writeTensor(FileChannel ch, ByteBuffer buf, Tensor t) throws IOException {
        if (!t.device().equals(Device.CPU)) t = t.to(Device.CPU);
        int n = t.numel();
        if (n == 0) return;
        Storage s = t.storage();
        if (t.isContiguous()) {
            int off = t.offset(); // row-major: element i is at off + i
            switch (s) {
                case Storage.FloatStorage f -> {
                    float[] a = f.data();
                    for (int i = 0; i < n; ) {
                        ensure(ch, buf, 4);
                        int k = Math.min(n - i, buf.remaining() / 4);
                        buf.asFloatBuffer().put(a, off + i, k);
                        buf.position(buf.position() + 4 * k);
                        i += k;
                    }
                    return;
                }
                case Storage.DoubleStorage d -> {
                    double[] a = d.data();
                    for (int i = 0; i < n; ) {
                        ensure(ch, buf, 8);
                        int k = Math.min(n - i, buf.remaining() / 8);
                        buf.asDoubleBuffer().put(a, off + i, k);
                        buf.position(buf.position() + 8 * k);
                        i += k;
                    }
                    return;
                }
                case Storage.LongStorage l -> {
                    long[] a = l.data();
                    for (int i = 0; i < n; ) {
                        ensure(ch, buf, 8);
                        int k = Math.min(n - i, buf.remaining() / 8);
                        buf.asLongBuffer().put(a, off + i, k);
                        buf.position(buf.position() + 8 * k);
                        i += k;
                    }
                    return;
                }
                case Storage.HalfStorage h -> {
                    short[] a = h.data();
                    for (int i = 0; i < n; ) {
                        ensure(ch, buf, 2);
                        int k = Math.min(n - i, buf.remaining() / 2);
                        buf.asShortBuffer().put(a, off + i, k);
                        buf.position(buf.position() + 2 * k);
                        i += k;
                    }
                    return;
                }
                default -> { } // other storages: element by element below
            }
        }
        // A strided view (or an unfamiliar storage): walk the layout with an odometer, bit-exact for known storages.
        int[] shape = t.shape(), strides = t.strides(), idx = new int[shape.length];
        int pos = t.offset();
        DType dtype = t.dtype();
        for (int i = 0; i < n; i++) {
            ensure(ch, buf, 8);
            switch (s) {
                case Storage.FloatStorage f -> buf.putFloat(f.data()[pos]);
                case Storage.DoubleStorage d -> buf.putDouble(d.data()[pos]);
                case Storage.LongStorage l -> buf.putLong(l.data()[pos]);
                case Storage.HalfStorage h -> buf.putShort(h.data()[pos]);
                case Storage.BoolStorage b -> buf.put((byte) (b.data()[pos] != 0 ? 1 : 0));
                default -> {
                    double v = s.getDouble(pos);
                    switch (dtype) {
                        case F32 -> buf.putFloat((float) v);
                        case F64 -> buf.putDouble(v);
                        case I64 -> buf.putLong((long) v);
                        case F16 -> buf.putShort(Float.floatToFloat16((float) v));
                        case BF16 -> buf.putShort(HalfFloats.floatToBf16((float) v));
                        case BOOL -> buf.put((byte) (v != 0 ? 1 : 0));
                    }
                }
            }
            for (int d = shape.length - 1; d >= 0; d--) {
                pos += strides[d];
                if (++idx[d] < shape[d]) break;
                pos -= strides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }
}
