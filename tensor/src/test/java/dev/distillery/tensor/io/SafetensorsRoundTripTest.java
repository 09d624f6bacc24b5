package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.HalfFloats;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.testing.TensorAsserts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private static final int[][] SHAPES = {{}, {0}, {1}, {7}, {3, 4}, {2, 0, 3}, {2, 3, 4}};

    /** Random contents for any dtype, including NaN, infinities, -0 and subnormals for floats. */
    static Tensor random(SplittableRandom rnd, DType dtype, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        Storage s = switch (dtype) {
            case F32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) a[i] = special(rnd) ? specialFloat(rnd) : (float) rnd.nextGaussian();
                yield new Storage.FloatStorage(a);
            }
            case F64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) a[i] = special(rnd) ? specialFloat(rnd) : rnd.nextGaussian() * 1e10;
                yield new Storage.DoubleStorage(a);
            }
            case I64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = rnd.nextLong();
                yield new Storage.LongStorage(a);
            }
            case BOOL -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) a[i] = (byte) (rnd.nextBoolean() ? 1 : 0);
                yield new Storage.BoolStorage(a);
            }
            case F16, BF16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) a[i] = (short) rnd.nextInt(); // every bit pattern, NaNs included
                yield new Storage.HalfStorage(a, dtype);
            }
        };
        return Tensor.of(s, shape);
    }

    private static boolean special(SplittableRandom rnd) {
        return rnd.nextInt(8) == 0;
    }

    private static float specialFloat(SplittableRandom rnd) {
        float[] v = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE, 1e-40f};
        return v[rnd.nextInt(v.length)];
    }

    /** Bitwise equality of dtype, shape and every element's bits (NaN payloads included). */
    static void assertBitsEqual(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        Tensor e = expected.contiguous(), a = actual.contiguous();
        int n = e.numel();
        for (int i = 0; i < n; i++) {
            long eb = bits(e, i), ab = bits(a, i);
            if (eb != ab) throw new AssertionError(what + ": element " + i + " bits " + Long.toHexString(eb) + " vs " + Long.toHexString(ab));
        }
    }

    private static long bits(Tensor t, int i) {
        int k = t.storageIndex(i);
        return switch (t.storage()) {
            case Storage.FloatStorage f -> Float.floatToRawIntBits(f.data()[k]);
            case Storage.DoubleStorage d -> Double.doubleToRawLongBits(d.data()[k]);
            case Storage.LongStorage l -> l.data()[k];
            case Storage.HalfStorage h -> h.data()[k] & 0xffff;
            case Storage.BoolStorage b -> b.data()[k];
            default -> throw new AssertionError(t.storage());
        };
    }

    @Test
    void everyDtypeAndShapeRoundTripsBitExactly() throws Exception {
        SplittableRandom rnd = new SplittableRandom(1);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (DType dt : DType.values())
            for (int[] shape : SHAPES) tensors.put(dt + "/" + TensorAsserts.str(shape), random(rnd, dt, shape));
        Path file = dir.resolve("all.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("unicode \u00e9\u4e2d\ud83d\ude00", "quotes \" backslash \\ newline \n tab \t nul \u0000 \u001f");
        meta.put("", "");
        Safetensors.write(file, tensors, meta);

        try (SafetensorsReader r = Safetensors.open(file)) {
            assertEquals(new ArrayList<>(tensors.keySet()), r.names(), "order as given");
            assertEquals(meta, r.metadata());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = r.load(e.getKey());
                assertBitsEqual(e.getValue(), t, e.getKey());
                TensorInfo info = r.info(e.getKey());
                assertEquals(e.getValue().dtype(), info.dtype());
                assertArrayEquals(e.getValue().shape(), info.shape());
                assertEquals((long) e.getValue().numel() * e.getValue().dtype().byteSize(), info.byteSize());
                assertEquals(file, info.file());
            }
        }
        assertEquals(tensors.keySet(), Safetensors.read(file).keySet());
    }

    @Test
    void nonContiguousViewsAreWrittenContiguously() throws Exception {
        SplittableRandom rnd = new SplittableRandom(2);
        Map<String, Tensor> views = new LinkedHashMap<>();
        for (DType dt : DType.values()) {
            Tensor base = random(rnd, dt, 4, 5, 6);
            views.put(dt + " transpose", base.transpose(0, 2));
            views.put(dt + " permute", base.permute(1, 2, 0));
            views.put(dt + " narrow (offset)", base.narrow(1, 2, 3));
            views.put(dt + " contiguous narrow (offset, no copy)", base.narrow(0, 1, 2));
            views.put(dt + " step slice", base.slice(2, 1, 6, 2));
            views.put(dt + " select", base.select(1, 3));
            views.put(dt + " 0-d select", base.select(0, 1).select(0, 2).select(0, 5));
            views.put(dt + " expand (stride 0)", base.narrow(0, 0, 1).expand(3, 5, 6));
            views.put(dt + " empty view", base.narrow(1, 2, 0).transpose(0, 2));
        }
        views.put("F32 randnStrided", TensorAsserts.randnStrided(3, DType.F32, 3, 5));
        views.put("F64 randnStrided", TensorAsserts.randnStrided(4, DType.F64, 2, 3, 4));
        Path file = dir.resolve("views.safetensors");
        Safetensors.write(file, views, null);
        try (SafetensorsReader r = Safetensors.open(file)) {
            for (Map.Entry<String, Tensor> e : views.entrySet()) {
                Tensor t = r.load(e.getKey());
                if (t.numel() > 0) assertTrue(t.isContiguous(), e.getKey());
                assertBitsEqual(e.getValue(), t, e.getKey());
            }
            assertEquals(Map.of(), r.metadata());
        }
    }

    @Test
    void largeTensorsCrossWriteBufferAndConversionChunks() throws Exception {
        SplittableRandom rnd = new SplittableRandom(5);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("f32", random(rnd, DType.F32, 700, 1000)); // 2.8 MB, past the writer's 1 MB buffer
        m.put("bf16", random(rnd, DType.BF16, 3, 10007));
        m.put("f16", random(rnd, DType.F16, 20011));
        m.put("big view", random(rnd, DType.F64, 400, 700).transpose(0, 1));
        Path file = dir.resolve("big.safetensors");
        Safetensors.write(file, m, null);
        try (SafetensorsReader r = Safetensors.open(file)) {
            for (String k : m.keySet()) assertBitsEqual(m.get(k), r.load(k), k);
            // Conversions straight from the mapping agree with Tensor.to on the loaded tensor.
            for (String k : List.of("bf16", "f16", "f32", "big view"))
                for (DType as : List.of(DType.F32, DType.F64, DType.F16, DType.BF16)) {
                    Tensor direct = r.load(k, as);
                    assertEquals(as, direct.dtype());
                    // Same values, NaN matching NaN (a direct decode may keep a signalling NaN's payload where
                    // Tensor.to's trip through double quiets it).
                    TensorAsserts.assertIdentical(r.load(k).to(as), direct, k + " as " + as);
                }
        }
    }

    @Test
    void loadAsConvertsLikeTensorTo() throws Exception {
        Path file = dir.resolve("conv.safetensors");
        Map<String, Tensor> m = new LinkedHashMap<>();
        float[] vals = {1f, -2.5f, 1e-8f, 65504f, 70000f, Float.NaN, Float.NEGATIVE_INFINITY, 3.14159f, 1.00390625f};
        m.put("f32", Tensor.of(vals, vals.length));
        m.put("ids", Tensor.ofLongs(new long[]{3, -4, 1L << 40}, 3));
        m.put("mask", Tensor.of(new Storage.BoolStorage(new byte[]{1, 0}), 2));
        Safetensors.write(file, m, null);
        try (SafetensorsReader r = Safetensors.open(file)) {
            Tensor bf = r.load("f32", DType.BF16);
            for (int i = 0; i < vals.length; i++)
                assertEquals(HalfFloats.floatToBf16(vals[i]), ((Storage.HalfStorage) bf.storage()).data()[i], "bf16 rounding of " + vals[i]);
            Tensor h = r.load("f32", DType.F16);
            for (int i = 0; i < vals.length; i++)
                assertEquals(Float.floatToFloat16(vals[i]), ((Storage.HalfStorage) h.storage()).data()[i], "f16 rounding of " + vals[i]);
            assertArrayEquals(new double[]{3, -4, 1L << 40}, r.load("ids", DType.F64).toDoubleArray());
            assertArrayEquals(new float[]{1, 0}, r.load("mask", DType.F32).toFloatArray());
            assertBitsEqual(r.load("ids"), r.load("ids", DType.I64), "same dtype");
        }
    }

    @Test
    void loadedTensorsOutliveTheReaderAndAClosedReaderRefusesWork() throws Exception {
        Path file = dir.resolve("c.safetensors");
        Tensor x = Tensor.of(new float[]{1, 2, 3}, 3);
        Safetensors.write(file, Map.of("x", x));
        SafetensorsReader r = Safetensors.open(file);
        Tensor loaded = r.load("x");
        Tensor again = r.load("x");
        assertNotSame(loaded.storage(), again.storage(), "each load is an independent copy");
        r.close();
        r.close(); // idempotent
        assertArrayEquals(new float[]{1, 2, 3}, loaded.toFloatArray());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.load("x"));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        // The file can be replaced and reopened.
        Safetensors.write(file, Map.of("x", Tensor.of(new float[]{4}, 1)));
        assertArrayEquals(new float[]{4}, Safetensors.read(file).get("x").toFloatArray());
    }

    @Test
    void unusualNamesRoundTrip() throws Exception {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String name : List.of("", " ", "a.b.c", "\"quoted\"", "back\\slash", "new\nline", "\u0001ctl", "\u00e9\u4e2d\ud83d\ude00", "{}[]:,", "__metadata"))
            m.put(name, Tensor.of(new float[]{name.length()}, 1));
        Path file = dir.resolve("names.safetensors");
        Safetensors.write(file, m, Map.of());
        Map<String, Tensor> back = Safetensors.read(file);
        assertEquals(new ArrayList<>(m.keySet()), new ArrayList<>(back.keySet()));
        for (String k : m.keySet()) assertArrayEquals(m.get(k).toFloatArray(), back.get(k).toFloatArray(), k);
    }

    @Test
    void filesOverTwoGigabytesAreMapped() throws Exception {
        // A sparse file: 3 GiB of zeros in a BOOL tensor, then an F32 tensor beyond the 2^31 mark.
        long big = 3L << 30;
        String header = "{\"zeros\":{\"dtype\":\"BOOL\",\"shape\":[3,1073741824],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("huge.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(TestFiles.u64(h.length));
            raf.write(h);
            raf.seek(8 + h.length + big);
            raf.write(TestFiles.f32(1.5f, -7f));
        }
        assertEquals(8 + h.length + big + 8, Files.size(file));
        try (SafetensorsReader r = Safetensors.open(file)) {
            assertArrayEquals(new float[]{1.5f, -7f}, r.load("tail").toFloatArray());
            assertArrayEquals(new double[]{-7f}, r.load("tail", DType.F64).narrow(0, 1, 1).toDoubleArray());
            assertEquals(big, r.info("zeros").numel());
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> r.load("zeros"));
            assertTrue(e.getMessage().startsWith("tensor 'zeros' in " + file + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("at most"), e.getMessage());
        }
    }

    @Test
    void writerAcceptsAnyMapAndWritesInIterationOrder() throws Exception {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("z", Tensor.of(new float[]{1}, 1));
        m.put("a", Tensor.of(new float[]{2}, 1));
        m.put("m", Tensor.of(new float[]{3}, 1));
        Path file = dir.resolve("order.safetensors");
        Safetensors.write(file, m);
        try (SafetensorsReader r = Safetensors.open(file)) {
            assertEquals(List.of("z", "a", "m"), r.names());
            assertEquals(0, r.info("z").begin());
            assertEquals(4, r.info("a").begin());
            assertEquals(8, r.info("m").begin());
            assertTrue(r.contains("a"));
            assertFalse(r.contains("b"));
        }
    }
}
