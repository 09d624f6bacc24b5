package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.distillery.tensor.io.TestFiles.bytes;
import static dev.distillery.tensor.io.TestFiles.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Byte-level checks against files spelled out by hand from the format's definition. */
class SafetensorsGoldenTest {
    @TempDir
    Path dir;

    @Test
    void writerProducesTheExactBytesOfTheSpec() throws Exception {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        // [[1, -2.5], [0.5, 3]] given as the transpose of a row-major [[1, 0.5], [-2.5, 3]]: written contiguously.
        tensors.put("weight", Tensor.of(new float[]{1f, 0.5f, -2.5f, 3f}, 2, 2).transpose(0, 1));
        tensors.put("ids", Tensor.ofLongs(new long[]{1, -1, 1L << 40}, 3));
        tensors.put("half", Tensor.of(new Storage.HalfStorage(new short[]{(short) 0x3FC0}, DType.BF16))); // 0-d, 1.5
        tensors.put("f16", Tensor.of(new Storage.HalfStorage(new short[]{(short) 0xC000}, DType.F16), 1)); // -2.0
        tensors.put("mask", Tensor.of(new Storage.BoolStorage(new byte[]{1, 0}), 2));
        tensors.put("d", Tensor.of(new double[]{1.0}, 1));
        tensors.put("empty", Tensor.zeros(DType.F32, 0, 3));
        Path file = dir.resolve("golden.safetensors");
        Safetensors.write(file, tensors, Map.of("format", "pt"));

        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[16,40]},"
                + "\"half\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[40,42]},"
                + "\"f16\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[42,44]},"
                + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[44,46]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[46,54]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[54,54]}}";
        StringBuilder header = new StringBuilder(json);
        while (header.length() % 8 != 0) header.append(' ');
        int n = header.length();
        byte[] expected = concat(
                bytes(n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0),
                header.toString().getBytes(StandardCharsets.US_ASCII),
                bytes(0x00, 0x00, 0x80, 0x3F, /* 1.0f */ 0x00, 0x00, 0x20, 0xC0, /* -2.5f */
                        0x00, 0x00, 0x00, 0x3F, /* 0.5f */ 0x00, 0x00, 0x40, 0x40 /* 3.0f */),
                bytes(1, 0, 0, 0, 0, 0, 0, 0, /* 1 */ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, /* -1 */
                        0, 0, 0, 0, 0, 1, 0, 0 /* 2^40 */),
                bytes(0xC0, 0x3F), /* bf16 1.5 */
                bytes(0x00, 0xC0), /* f16 -2.0 */
                bytes(1, 0),
                bytes(0, 0, 0, 0, 0, 0, 0xF0, 0x3F) /* 1.0 */);
        assertEquals(0, (8 + n) % 8, "data section starts 8-byte aligned");
        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void writerWithoutMetadataOmitsTheMetadataEntry() throws Exception {
        Path file = dir.resolve("plain.safetensors");
        Safetensors.write(file, Map.of("x", Tensor.of(new float[]{2f}, 1)));
        byte[] expected = concat(
                bytes(56, 0, 0, 0, 0, 0, 0, 0),
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  ".getBytes(StandardCharsets.US_ASCII),
                bytes(0, 0, 0, 0x40));
        assertArrayEquals(expected, Files.readAllBytes(file));

        Path empty = dir.resolve("empty.safetensors");
        Safetensors.write(empty, Map.of(), Map.of());
        assertArrayEquals(concat(bytes(8, 0, 0, 0, 0, 0, 0, 0), "{}      ".getBytes(StandardCharsets.US_ASCII)), Files.readAllBytes(empty));
    }

    @Test
    void readerDecodesAHandWrittenFile() throws Exception {
        // Unpadded header of odd length (data unaligned), whitespace and newlines, tensors listed out of offset order,
        // non-ASCII and escaped names, extra unknown field, trailing spaces and tab after the object.
        String header = "{ \"b\" : {\"dtype\":\"BF16\", \"shape\":[2], \"data_offsets\":[12, 16]},\n"
                + "  \"__metadata__\": {\"k\\u00e9y\": \"v\\\"al\", \"n\": \"\"},\n"
                + "  \"\u00e9\\n\": {\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12], \"extra\": [1, {\"x\": null}]},\n"
                + "  \"a\": {\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},\n"
                + "  \"m\": {\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]},\n"
                + "  \"i\": {\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[19,27]},\n"
                + "  \"d\": {\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[27,35]},\n"
                + "  \"z\": {\"dtype\":\"F64\",\"shape\":[4,0],\"data_offsets\":[35,35]}\n} \t\n ";
        byte[] data = concat(
                bytes(0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0), // a: 1, -2.5
                bytes(0x00, 0x3C, 0x00, 0xFC), // é\n: f16 1.0, -inf
                bytes(0x80, 0x3F, 0x00, 0x3F), // b: bf16 1.0, 0.5
                bytes(1, 0, 7), // m: true, false, true (any non-zero byte)
                bytes(0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), // i: -2
                bytes(0, 0, 0, 0, 0, 0, 0x04, 0xC0)); // d: -2.5
        assertEquals(1, header.getBytes(StandardCharsets.UTF_8).length % 2, "odd header length, so the data are unaligned");
        Path file = TestFiles.write(dir, "hand.safetensors", TestFiles.file(header, data));

        try (SafetensorsReader r = Safetensors.open(file)) {
            assertEquals(List.of("b", "\u00e9\n", "a", "m", "i", "d", "z"), r.names());
            assertEquals(Map.of("k\u00e9y", "v\"al", "n", ""), r.metadata());
            assertEquals(new TensorInfo("b", DType.BF16, new int[]{2}, 12, 16, file), r.info("b"));

            Tensor a = r.load("a");
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new int[]{2, 1}, a.shape());
            assertArrayEquals(new float[]{1f, -2.5f}, a.toFloatArray());

            Tensor h = r.load("\u00e9\n");
            assertEquals(DType.F16, h.dtype());
            assertArrayEquals(new short[]{0x3C00, (short) 0xFC00}, ((Storage.HalfStorage) h.storage()).data());
            assertArrayEquals(new float[]{1f, Float.NEGATIVE_INFINITY}, r.load("\u00e9\n", DType.F32).toFloatArray());

            Tensor b = r.load("b");
            assertEquals(DType.BF16, b.dtype());
            assertArrayEquals(new short[]{0x3F80, 0x3F00}, ((Storage.HalfStorage) b.storage()).data());
            assertArrayEquals(new float[]{1f, 0.5f}, r.load("b", DType.F32).toFloatArray());

            assertArrayEquals(new byte[]{1, 0, 1}, ((Storage.BoolStorage) r.load("m").storage()).data());
            Tensor i = r.load("i");
            assertEquals(0, i.dim());
            assertArrayEquals(new long[]{-2}, i.toLongArray());
            assertArrayEquals(new double[]{-2.5}, r.load("d").toDoubleArray());
            Tensor z = r.load("z");
            assertArrayEquals(new int[]{4, 0}, z.shape());
            assertEquals(DType.F64, z.dtype());
        }
    }
}
