package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing: random byte strings and mutations of valid files. Every input must either be rejected on open
 * with a {@link SafetensorsException} naming the file, or open and then load every tensor, in every float dtype,
 * with data equal to the file's bytes. Any other throwable (another RuntimeException, an Error such as
 * StackOverflowError or OutOfMemoryError) fails the test with the case number and the input.
 */
class SafetensorsFuzzTest {
    private static final long SEED = 0x5AFE_7E45L;
    private static final int FILE_CASES = 4000;
    private static final int INDEX_CASES = 600;

    @TempDir
    Path dir;

    private final Map<String, int[]> stats = new TreeMap<>(); // mutation -> {accepted, rejected}

    private static final String[] TOKENS = {"{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "0", "1", "-1", "1.5", "1e3", "-0",
            "4294967296", "2147483648", "99999999999999999999", "null", "true", "false", "\"x\"", "\"a\"", "\"__metadata__\"",
            "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"BF16\"", "\"BOOL\"", "\"F8_E4M3\"", "\\u0000", "\\ud800",
            "\\u00e9", "[[[[[[[[", "{\"a\":{}}", "\u00e9", "\ud83d\ude00"};

    private byte[] validFile() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("w", SafetensorsRoundTripTest.random(rnd, DType.F32, 3, 4));
        m.put("h", SafetensorsRoundTripTest.random(rnd, DType.F16, 5));
        m.put("b", SafetensorsRoundTripTest.random(rnd, DType.BF16, 2, 2));
        m.put("d", SafetensorsRoundTripTest.random(rnd, DType.F64, 3));
        m.put("i", SafetensorsRoundTripTest.random(rnd, DType.I64, 2));
        m.put("m", SafetensorsRoundTripTest.random(rnd, DType.BOOL, 6));
        m.put("s", SafetensorsRoundTripTest.random(rnd, DType.F32));
        m.put("e", SafetensorsRoundTripTest.random(rnd, DType.F32, 0, 2));
        Path p = dir.resolve("base.safetensors");
        Map<String, String> meta = new LinkedHashMap<>(); // not Map.of: its order changes between JVM runs
        meta.put("format", "pt");
        meta.put("k", "v");
        Safetensors.write(p, m, meta);
        return Files.readAllBytes(p);
    }

    /** Hand-built, unpadded, tensors out of offset order. */
    private static byte[] handFile() {
        String header = "{\"z\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},\"__metadata__\":{\"a\":\"b\"},"
                + "\"y\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}";
        return TestFiles.file(header, TestFiles.concat(TestFiles.u16(0x3f80, 0x4000, 0xbf80, 0x7fc0), TestFiles.f32(1.5f, -3f)));
    }

    @Test
    void randomAndMutatedFilesLoadOrFailCleanly() throws Exception {
        List<byte[]> bases = List.of(validFile(), handFile());
        SplittableRandom rnd = new SplittableRandom(SEED);
        long start = System.nanoTime();
        for (int i = 0; i < FILE_CASES; i++) {
            byte[] base = bases.get(rnd.nextInt(bases.size()));
            int kind = rnd.nextInt(3 + MUTATIONS);
            byte[] input;
            String what;
            switch (kind) {
                case 0 -> {
                    input = new byte[rnd.nextInt(80)];
                    rnd.nextBytes(input);
                    what = "random bytes";
                }
                case 1 -> {
                    StringBuilder sb = new StringBuilder();
                    int n = rnd.nextInt(12);
                    for (int t = 0; t < n; t++) sb.append(TOKENS[rnd.nextInt(TOKENS.length)]);
                    byte[] h = ("{" + sb).getBytes(StandardCharsets.UTF_8);
                    byte[] data = new byte[rnd.nextInt(16)];
                    rnd.nextBytes(data);
                    input = TestFiles.concat(TestFiles.u64(h.length), h, data);
                    what = "random token header";
                }
                default -> {
                    input = base.clone();
                    StringBuilder w = new StringBuilder();
                    int steps = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(3) : 0);
                    for (int s = 0; s < steps; s++) {
                        int m = kind == 2 ? rnd.nextInt(MUTATIONS) : kind - 3; // kind 2: any mutations; 3..: one each
                        input = mutate(rnd, input, m, w);
                    }
                    what = w.toString().trim();
                }
            }
            check(i, input, what);
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        int accepted = stats.values().stream().mapToInt(a -> a[0]).sum(), rejected = stats.values().stream().mapToInt(a -> a[1]).sum();
        System.out.println("safetensors fuzz: " + FILE_CASES + " files in " + ms + " ms, " + accepted + " loaded, " + rejected + " rejected");
        stats.forEach((k, v) -> System.out.println("  " + k + ": " + v[0] + " loaded, " + v[1] + " rejected"));
        assertEquals(FILE_CASES, accepted + rejected);
        assertTrue(accepted > FILE_CASES / 10, "some mutations (data bytes, harmless edits) must load: " + accepted);
        assertTrue(rejected > FILE_CASES / 2, "most mutations must be rejected: " + rejected);
    }

    private static final int MUTATIONS = 7;

    /** Mutations of a valid file; {@code w} collects their names. */
    private static byte[] mutate(SplittableRandom rnd, byte[] in, int m, StringBuilder w) {
        long headerLen = in.length >= 8 ? ByteBuffer.wrap(in, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() : 0;
        boolean plausible = headerLen > 0 && headerLen <= in.length - 8;
        switch (m) {
            case 0 -> { // bit flips, mostly in the header
                w.append(" bitflip");
                byte[] out = in.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int f = 0; f < flips && out.length > 0; f++) {
                    int at = plausible && rnd.nextBoolean() ? rnd.nextInt((int) headerLen + 8) : rnd.nextInt(out.length);
                    out[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                return out;
            }
            case 1 -> { // truncate or extend
                if (rnd.nextBoolean()) {
                    w.append(" truncate");
                    return Arrays.copyOf(in, rnd.nextInt(in.length + 1));
                }
                w.append(" extend");
                byte[] extra = new byte[1 + rnd.nextInt(16)];
                rnd.nextBytes(extra);
                return TestFiles.concat(in, extra);
            }
            case 2 -> { // length field
                w.append(" length");
                long[] choices = {0, 1, 2, headerLen - 1, headerLen + 1, headerLen - 8, headerLen + 8, in.length - 8, in.length,
                        Long.MAX_VALUE, Long.MIN_VALUE, -1, 100_000_000, 100_000_001, rnd.nextLong(), rnd.nextInt(1 << 20)};
                byte[] out = in.length >= 8 ? in.clone() : Arrays.copyOf(in, 8);
                System.arraycopy(TestFiles.u64(choices[rnd.nextInt(choices.length)]), 0, out, 0, 8);
                return out;
            }
            case 3, 4 -> { // JSON edits on the header text, usually with the length field fixed up
                if (!plausible) return in;
                byte[] header = Arrays.copyOfRange(in, 8, 8 + (int) headerLen);
                byte[] data = Arrays.copyOfRange(in, 8 + (int) headerLen, in.length);
                byte[] edited = m == 3 ? textEdit(rnd, header, w) : numberEdit(rnd, header, w);
                long len = rnd.nextInt(5) == 0 ? headerLen : edited.length;
                return TestFiles.concat(TestFiles.u64(len), edited, data);
            }
            case 5 -> { // bit flips in the data section only: must still load, with the flipped values
                if (!plausible || in.length == 8 + headerLen) return in;
                w.append(" data-bitflip");
                byte[] out = in.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int f = 0; f < flips; f++) out[8 + (int) headerLen + rnd.nextInt(in.length - 8 - (int) headerLen)] ^= (byte) (1 << rnd.nextInt(8));
                return out;
            }
            case 6 -> { // edits that keep the header valid: whitespace, renamed tensors or metadata, length fixed up
                if (!plausible) return in;
                w.append(" json-harmless");
                String h = new String(in, 8, (int) headerLen, StandardCharsets.UTF_8);
                int at = rnd.nextInt(h.length());
                String edited;
                int k;
                if (rnd.nextBoolean() && (k = h.indexOf(':', at)) >= 0) edited = h.substring(0, k + 1) + " \n\t\r".substring(0, 1 + rnd.nextInt(4)) + h.substring(k + 1);
                else if ((k = h.indexOf("\":{\"dtype\"", at)) >= 0) edited = h.substring(0, k) + "\u00e9" + (char) ('a' + rnd.nextInt(26)) + h.substring(k);
                else edited = h + "    ";
                byte[] eh = edited.getBytes(StandardCharsets.UTF_8);
                return TestFiles.concat(TestFiles.u64(eh.length), eh, Arrays.copyOfRange(in, 8 + (int) headerLen, in.length));
            }
            default -> throw new AssertionError(m);
        }
    }

    private static byte[] textEdit(SplittableRandom rnd, byte[] h, StringBuilder w) {
        int at = rnd.nextInt(h.length + 1);
        switch (rnd.nextInt(5)) {
            case 0 -> { // delete a range
                w.append(" json-delete");
                int len = Math.min(1 + rnd.nextInt(6), h.length - at);
                return TestFiles.concat(Arrays.copyOf(h, at), Arrays.copyOfRange(h, at + len, h.length));
            }
            case 1 -> { // insert a token
                w.append(" json-insert");
                byte[] tok = TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
                return TestFiles.concat(Arrays.copyOf(h, at), tok, Arrays.copyOfRange(h, at, h.length));
            }
            case 2 -> { // duplicate a slice elsewhere (duplicate keys, repeated entries)
                w.append(" json-duplicate");
                int from = rnd.nextInt(h.length), len = Math.min(1 + rnd.nextInt(60), h.length - from);
                return TestFiles.concat(Arrays.copyOf(h, at), Arrays.copyOfRange(h, from, from + len), Arrays.copyOfRange(h, at, h.length));
            }
            case 3 -> { // replace one byte by anything (invalid UTF-8 included)
                w.append(" json-byte");
                byte[] out = h.clone();
                if (out.length > 0) out[rnd.nextInt(out.length)] = (byte) rnd.nextInt(256);
                return out;
            }
            default -> { // swap a dtype name
                w.append(" json-dtype");
                String s = new String(h, StandardCharsets.UTF_8);
                String[] dts = {"F32", "F64", "F16", "BF16", "I64", "BOOL", "I32", "U8", "F8_E4M3", ""};
                for (String d : dts) {
                    int k = s.indexOf("\"" + d + "\"");
                    if (k >= 0 && rnd.nextBoolean()) {
                        s = s.substring(0, k + 1) + dts[rnd.nextInt(dts.length)] + s.substring(k + 1 + d.length());
                        break;
                    }
                }
                return s.getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    /** Changes one number (shape dim or offset) by a small delta or to an extreme. */
    private static byte[] numberEdit(SplittableRandom rnd, byte[] h, StringBuilder w) {
        w.append(" json-number");
        String s = new String(h, StandardCharsets.UTF_8);
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            if (Character.isDigit(s.charAt(i)) && (i == 0 || !Character.isLetterOrDigit(s.charAt(i - 1)) && s.charAt(i - 1) != '_')) {
                int j = i;
                while (j < s.length() && Character.isDigit(s.charAt(j))) j++;
                runs.add(new int[]{i, j});
                i = j;
            } else i++;
        }
        if (runs.isEmpty()) return h;
        int[] r = runs.get(rnd.nextInt(runs.size()));
        long v = r[1] - r[0] > 18 ? 0 : Long.parseLong(s.substring(r[0], r[1]));
        String[] repl = {String.valueOf(v + 1), String.valueOf(Math.max(0, v - 1)), String.valueOf(v + 2), String.valueOf(v * 2), "-" + v,
                String.valueOf(v) + ".0", "0", "2147483647", "2147483648", "9223372036854775807", "18446744073709551615", "1" + "0".repeat(30),
                String.valueOf(v + 4), String.valueOf(Math.max(0, v - 4)), String.valueOf(v + 8)};
        return (s.substring(0, r[0]) + repl[rnd.nextInt(repl.length)] + s.substring(r[1])).getBytes(StandardCharsets.UTF_8);
    }

    private void check(int i, byte[] input, String what) {
        Path p = dir.resolve("case" + (i % 16) + ".safetensors");
        try {
            Files.write(p, input);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        SafetensorsReader r;
        try {
            r = Safetensors.openFile(p);
        } catch (SafetensorsException e) {
            if (!e.getMessage().contains(p.toString())) fail(describe(i, what, input) + ": message does not name the file: " + e.getMessage());
            stats.computeIfAbsent(what, k -> new int[2])[1]++;
            return;
        } catch (Throwable t) {
            throw new AssertionError(describe(i, what, input) + ": open threw " + t, t);
        }
        try (r) {
            verifyAccepted(r, input, p);
            stats.computeIfAbsent(what, k -> new int[2])[0]++;
        } catch (Throwable t) {
            throw new AssertionError(describe(i, what, input) + ": opened, then " + t, t);
        }
    }

    private static String describe(int i, String what, byte[] input) {
        byte[] shown = input.length > 600 ? Arrays.copyOf(input, 600) : input;
        return "fuzz case " + i + " (seed " + SEED + ", " + what + ", " + input.length + " bytes, base64 "
                + Base64.getEncoder().encodeToString(shown) + (shown.length < input.length ? "..." : "") + ")";
    }

    /**
     * An accepted file loads completely, each tensor's elements encode back to exactly its bytes in the file (BOOL
     * bytes normalised to 0/1), and (for every 8th accepted file, as writes fsync) writing the tensors back in offset
     * order reproduces the data section byte for byte.
     */
    private void verifyAccepted(SafetensorsReader r, byte[] input, Path p) throws Exception {
        long headerLen = ByteBuffer.wrap(input, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] data = Arrays.copyOfRange(input, (int) (8 + headerLen), input.length);
        r.metadata().forEach((k, v) -> assertTrue(k != null && v != null));
        List<TensorInfo> infos = new ArrayList<>();
        for (String n : r.names()) infos.add(r.info(n));
        infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        Map<String, Tensor> back = new LinkedHashMap<>();
        for (TensorInfo info : infos) {
            Tensor t = r.load(info.name());
            assertEquals(info.dtype(), t.dtype());
            assertArrayEquals(info.shape(), t.shape());
            if (info.dtype().isFloatingPoint())
                for (DType as : List.of(DType.F32, DType.F64, DType.BF16)) assertArrayEquals(info.shape(), r.load(info.name(), as).shape());
            if (info.dtype() == DType.BOOL)
                for (long k = info.begin(); k < info.end(); k++) data[(int) k] = (byte) (data[(int) k] != 0 ? 1 : 0);
            assertArrayEquals(Arrays.copyOfRange(data, (int) info.begin(), (int) info.end()), encode(t), info.name());
            back.put(info.name(), t);
        }
        if (verifiedByWriting++ % 8 != 0) return;
        Path again = p.resolveSibling(p.getFileName() + ".again");
        Safetensors.write(again, back, r.metadata());
        byte[] written = Files.readAllBytes(again);
        long againHeader = ByteBuffer.wrap(written, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertArrayEquals(data, Arrays.copyOfRange(written, (int) (8 + againHeader), written.length), "data section reproduced");
        try (SafetensorsReader r2 = Safetensors.openFile(again)) {
            assertEquals(r.metadata(), r2.metadata());
            assertEquals(back.keySet(), new java.util.HashSet<>(r2.names()));
        }
    }

    private int verifiedByWriting;

    /** A contiguous tensor's elements as little-endian bytes, independently of the writer. */
    private static byte[] encode(Tensor t) {
        int n = t.numel();
        ByteBuffer b = ByteBuffer.allocate(n * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.storage()) {
            case Storage.FloatStorage f -> { for (int i = 0; i < n; i++) b.putFloat(f.data()[i]); }
            case Storage.DoubleStorage d -> { for (int i = 0; i < n; i++) b.putDouble(d.data()[i]); }
            case Storage.LongStorage l -> { for (int i = 0; i < n; i++) b.putLong(l.data()[i]); }
            case Storage.HalfStorage h -> { for (int i = 0; i < n; i++) b.putShort(h.data()[i]); }
            case Storage.BoolStorage o -> b.put(o.data(), 0, n);
            default -> throw new AssertionError(t.storage());
        }
        return b.array();
    }

    @Test
    void mutatedIndexFilesOpenOrFailCleanly() throws Exception {
        Safetensors.write(dir.resolve("s1.safetensors"), Map.of("a", Tensor.of(new float[]{1, 2}, 2)));
        Safetensors.write(dir.resolve("s2.safetensors"), Map.of("b", Tensor.of(new Storage.HalfStorage(new short[]{0x3c00}, DType.F16), 1)));
        Files.write(dir.resolve("junk.safetensors"), new byte[]{1, 2, 3});
        String valid = "{\"metadata\":{\"total_size\":10},\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}";
        String[] shardTokens = {"\"s1.safetensors\"", "\"s2.safetensors\"", "\"junk.safetensors\"", "\"../s1.safetensors\"", "\"/\"", "\".\"", "\"\""};
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        int loaded = 0, rejected = 0;
        Path idx = dir.resolve("model.safetensors.index.json");
        for (int i = 0; i < INDEX_CASES; i++) {
            byte[] h = valid.getBytes(StandardCharsets.UTF_8);
            StringBuilder w = new StringBuilder();
            int steps = 1 + rnd.nextInt(2);
            for (int s = 0; s < steps; s++) {
                if (rnd.nextInt(4) == 0) {
                    String str = new String(h, StandardCharsets.UTF_8);
                    int k = str.indexOf(rnd.nextBoolean() ? "\"s1.safetensors\"" : "\"s2.safetensors\"");
                    if (k >= 0)
                        h = (str.substring(0, k) + shardTokens[rnd.nextInt(shardTokens.length)] + str.substring(k + 16)).getBytes(StandardCharsets.UTF_8);
                    w.append(" shard-swap");
                } else h = rnd.nextBoolean() ? textEdit(rnd, h, w) : numberEdit(rnd, h, w);
            }
            Files.write(idx, h);
            try (SafetensorsReader r = Safetensors.open(idx)) {
                for (String n : r.names()) {
                    try {
                        r.load(n, DType.F32);
                        loaded++;
                    } catch (SafetensorsException e) {
                        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
                        rejected++;
                    }
                }
            } catch (SafetensorsException e) {
                assertTrue(e.getMessage().contains(idx.toString()), e.getMessage());
                rejected++;
            } catch (Throwable t) {
                throw new AssertionError("index fuzz case " + i + " (seed " + (SEED + 1) + "," + w + "): " + new String(h, StandardCharsets.UTF_8) + " -> " + t, t);
            }
        }
        System.out.println("safetensors index fuzz: " + INDEX_CASES + " indexes, " + loaded + " tensor loads, " + rejected + " rejections");
        assertTrue(loaded > 0 && rejected > 0);
    }
}
