package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static dev.distillery.tensor.io.TestFiles.bytes;
import static dev.distillery.tensor.io.TestFiles.concat;
import static dev.distillery.tensor.io.TestFiles.f32;
import static dev.distillery.tensor.io.TestFiles.file;
import static dev.distillery.tensor.io.TestFiles.u64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each malformed input is rejected on open (or load) with a SafetensorsException naming the file and tensor. */
class SafetensorsErrorsTest {
    @TempDir
    Path dir;

    private int counter;

    /** A one-tensor entry. */
    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private SafetensorsException openFails(byte[] content) {
        Path p = TestFiles.write(dir, "case" + (counter++) + ".safetensors", content);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (SafetensorsReader r = Safetensors.open(p)) {
                for (String n : r.names()) r.load(n);
            }
        });
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains(p.toString()), "message names the file: " + e.getMessage());
        return e;
    }

    /** Fails naming {@code tensor} and with {@code fragment} in the message. */
    private void failsForTensor(byte[] content, String tensor, String fragment) {
        SafetensorsException e = openFails(content);
        assertEquals(tensor, e.tensor().orElse(null), e.getMessage());
        assertTrue(e.getMessage().startsWith("tensor '" + tensor + "' in " + e.file() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    /** Fails for the file as a whole with {@code fragment} in the message. */
    private void failsForFile(byte[] content, String fragment) {
        SafetensorsException e = openFails(content);
        assertTrue(e.tensor().isEmpty(), e.getMessage());
        assertTrue(e.getMessage().startsWith(e.file() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    @Test
    void truncatedFiles() {
        failsForFile(new byte[0], "truncated: the file is 0 bytes");
        failsForFile(bytes(1, 2, 3, 4, 5), "truncated: the file is 5 bytes");
        failsForFile(concat(u64(100), "{}".getBytes(StandardCharsets.US_ASCII)), "truncated: the header length field says 100 bytes but only 2 follow it");
        failsForFile(u64(1), "truncated: the header length field says 1 bytes but only 0 follow it");
        // Data shorter than the offsets claim: the tensor is named.
        failsForTensor(file("{" + entry("w", "F32", "[4]", 0, 16) + "}", f32(1, 2, 3)), "w",
                "truncated: data_offsets [0, 16] reach beyond the data section, which has 12 bytes");
    }

    @Test
    void absurdHeaderLengthsAreRejectedBeforeReadingAnything() {
        failsForFile(concat(u64(100_000_001), new byte[64]), "header length 100000001 is over the 100000000-byte limit");
        failsForFile(concat(u64(-1), new byte[64]), "header length 18446744073709551615 is over the 100000000-byte limit");
        failsForFile(concat(u64(Long.MIN_VALUE), new byte[8]), "over the 100000000-byte limit");
    }

    @Test
    void headersThatAreNotJsonObjects() {
        failsForFile(file("", new byte[0]), "must start with '{'");
        failsForFile(file(" {}", new byte[0]), "must start with '{'");
        failsForFile(file("[1,2]", new byte[0]), "must start with '{'");
        failsForFile(file("{\"a\":", new byte[0]), "not valid JSON: unexpected end of input");
        failsForFile(file("{\"a\" 1}", new byte[0]), "not valid JSON: unexpected '1', expected ':'");
        failsForFile(file("{} x", new byte[0]), "not valid JSON: unexpected 'x' after the JSON value");
        failsForFile(file("{}{}", new byte[0]), "not valid JSON");
        failsForFile(file("{\"a\":1,}", new byte[0]), "not valid JSON");
        failsForFile(file("{'a':1}", new byte[0]), "not valid JSON");
        failsForFile(file("{}\u0000", new byte[0]), "not valid JSON");
        failsForFile(concat(u64(4), bytes('{', '"', 0xC3, 0x28)), "not valid UTF-8");
        failsForFile(file("{\"x\":" + "[".repeat(100) + "]".repeat(100) + "}", new byte[0]), "nested deeper than 64 levels");
        failsForFile(file("{\"x\":" + "[".repeat(100_000), new byte[0]), "nested deeper than 64 levels");
    }

    @Test
    void unknownDtypes() {
        SafetensorsException e = openFails(file("{" + entry("x", "F8_E4M3", "[2]", 0, 2) + "}", bytes(0, 0)));
        assertTrue(e.getMessage().startsWith("tensor 'x' in " + e.file() + ": unknown dtype 'F8_E4M3'"), e.getMessage());
        failsForTensor(file("{" + entry("y", "f32", "[1]", 0, 4) + "}", f32(1)), "y", "unknown dtype 'f32'");
        failsForTensor(file("{" + entry("y", "I32", "[1]", 0, 4) + "}", f32(1)), "y", "unknown dtype 'I32' (supported: F32, F64, F16, BF16, I64, BOOL)");
        failsForTensor(file("{\"y\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)), "y", "'dtype' is a number, expected a string");
    }

    @Test
    void shapeAndOffsetsMustAgree() {
        failsForTensor(file("{" + entry("w", "F32", "[2,3]", 0, 20) + "}", new byte[20]), "w",
                "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] span 20");
        failsForTensor(file("{" + entry("w", "F64", "[]", 0, 4) + "}", new byte[4]), "w", "shape [] of F64 needs 8 bytes");
        failsForTensor(file("{" + entry("w", "F32", "[0]", 0, 4) + "}", new byte[4]), "w", "needs 0 bytes");
        failsForTensor(file("{" + entry("w", "F32", "[1]", 8, 4) + "}", new byte[8]), "w", "data_offsets [8, 4] end before they begin");
    }

    @Test
    void offsetsMustTileTheDataSection() {
        String a = entry("a", "F32", "[2]", 0, 8);
        failsForTensor(file("{" + a + "," + entry("b", "F32", "[2]", 4, 12) + "}", new byte[12]), "b",
                "data_offsets [4, 12] overlap tensor 'a' [0, 8]");
        failsForTensor(file("{" + a + "," + entry("b", "F32", "[2]", 0, 8) + "}", new byte[8]), "b", "overlap tensor 'a'");
        failsForTensor(file("{" + a + "," + entry("b", "F32", "[1]", 12, 16) + "}", new byte[16]), "b",
                "data_offsets [12, 16] leave a gap of 4 bytes after tensor 'a' (which ends at 8)");
        failsForTensor(file("{" + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "a",
                "leave bytes [0, 4) of the data section unused: the first tensor must start at 0");
        // Out of order in the header is fine as long as the ranges tile; beyond the data is a truncation.
        failsForTensor(file("{" + entry("b", "F32", "[1]", 8, 12) + "," + a + "}", new byte[8]), "b", "truncated");
        failsForFile(file("{" + a + "}", new byte[10]), "the data section has 10 bytes but the tensors cover only 8 (2 trailing bytes)");
        failsForFile(file("{}", new byte[1]), "the data section has 1 bytes but the tensors cover only 0");
        failsForTensor(file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("z", "F32", "[0]", 2, 2) + "}", new byte[4]), "z", "overlap tensor 'a'");
    }

    @Test
    void badShapes() {
        failsForTensor(file("{" + entry("n", "F32", "[2,-3]", 0, 24) + "}", new byte[24]), "n", "negative dimension -3 in 'shape' [2,-3]");
        failsForTensor(file("{" + entry("n", "F32", "[1.5]", 0, 4) + "}", new byte[4]), "n", "'shape' [1.5] holds 1.5, expected non-negative integers");
        failsForTensor(file("{" + entry("n", "F32", "[1e0]", 0, 4) + "}", new byte[4]), "n", "holds 1e0");
        failsForTensor(file("{" + entry("n", "F32", "[\"2\"]", 0, 8) + "}", new byte[8]), "n", "holds a string");
        failsForTensor(file("{" + entry("n", "F32", "[2147483648]", 0, 8) + "}", new byte[8]), "n", "dimension 2147483648 in shape [2147483648] is larger than 2147483647");
        failsForTensor(file("{" + entry("n", "F32", "[99999999999999999999]", 0, 8) + "}", new byte[8]), "n", "which is too large");
        failsForTensor(file("{" + entry("n", "F32", "[2147483647,2147483647,2147483647]", 0, 8) + "}", new byte[8]), "n", "too large (its byte size overflows 64 bits)");
        failsForTensor(file("{" + entry("n", "F32", "{}", 0, 8) + "}", new byte[8]), "n", "'shape' is an object");
        failsForTensor(file("{" + entry("n", "F32", "null", 0, 8) + "}", new byte[8]), "n", "'shape' is null");
    }

    @Test
    void badOffsets() {
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]), "o", "'data_offsets' is an array of 1 values, expected [begin, end]");
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", new byte[4]), "o", "array of 3 values");
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0-4\"}}", new byte[4]), "o", "'data_offsets' is a string");
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", new byte[4]), "o", "negative offset -4");
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", new byte[4]), "o", "holds 4.0");
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551620]}}", new byte[4]), "o", "too large");
        failsForTensor(file("{\"o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,true]}}", new byte[4]), "o", "holds a boolean");
    }

    @Test
    void duplicateNamesAndFields() {
        String a = entry("a", "F32", "[1]", 0, 4);
        SafetensorsException e = openFails(file("{" + a + "," + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]));
        assertTrue(e.getMessage().contains("not valid JSON: duplicate key 'a'"), e.getMessage());
        failsForFile(file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "duplicate key 'dtype'");
        failsForFile(file("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0]), "duplicate key '__metadata__'");
        // Equal after unescaping is a duplicate too.
        failsForFile(file("{" + a + ",\"\\u0061\":{}}", new byte[4]), "duplicate key 'a'");
    }

    @Test
    void missingFieldsAndWrongEntryTypes() {
        failsForTensor(file("{\"m\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "m", "missing field 'dtype'");
        failsForTensor(file("{\"m\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "m", "missing field 'shape'");
        failsForTensor(file("{\"m\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "m", "missing field 'data_offsets'");
        failsForTensor(file("{\"m\":[1,2]}", new byte[0]), "m", "the header entry is an array, expected an object");
        failsForTensor(file("{\"m\":null}", new byte[0]), "m", "the header entry is null");
    }

    @Test
    void metadataMustMapStringsToStrings() {
        failsForFile(file("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__ must map strings to strings, but key 'k' has a number");
        failsForFile(file("{\"__metadata__\":{\"a\":\"b\",\"k\":{\"x\":\"y\"}}}", new byte[0]), "key 'k' has an object");
        failsForFile(file("{\"__metadata__\":{\"k\":null}}", new byte[0]), "key 'k' has null");
        failsForFile(file("{\"__metadata__\":[\"k\"]}", new byte[0]), "__metadata__ is an array");
        failsForFile(file("{\"__metadata__\":\"x\"}", new byte[0]), "__metadata__ is a string");
    }

    @Test
    void missingFilesAndTensors() throws Exception {
        Path nowhere = dir.resolve("missing.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.open(nowhere));
        assertTrue(e.getMessage().startsWith(nowhere + ": cannot open: java.nio.file.NoSuchFileException"), e.getMessage());
        assertTrue(e.getCause() instanceof java.nio.file.NoSuchFileException);

        Path p = dir.resolve("one.safetensors");
        Safetensors.write(p, Map.of("a", Tensor.of(new float[]{1}, 1)));
        try (SafetensorsReader r = Safetensors.open(p)) {
            SafetensorsException m = assertThrows(SafetensorsException.class, () -> r.load("b"));
            assertEquals("tensor 'b' in " + p + ": no such tensor (the file has 1 tensors)", m.getMessage());
            assertThrows(SafetensorsException.class, () -> r.info("b"));
            assertThrows(SafetensorsException.class, () -> r.load("b", DType.F32));
        }
        SafetensorsException d = assertThrows(SafetensorsException.class, () -> Safetensors.open(dir));
        assertTrue(d.getMessage().contains("neither model.safetensors.index.json nor model.safetensors"), d.getMessage());
    }

    @Test
    void hostileNamesAreEscapedAndCutInMessages() {
        String longName = "x".repeat(500);
        SafetensorsException e = openFails(file("{" + entry(longName, "F99", "[1]", 0, 4) + "}", new byte[4]));
        assertTrue(e.getMessage().contains("'" + "x".repeat(100) + "...' (500 characters)"), e.getMessage());
        assertTrue(e.getMessage().length() < 400, e.getMessage());
        SafetensorsException c = openFails(file("{" + entry("a\\nb\\u001b[31m'", "F99", "[1]", 0, 4) + "}", new byte[4]));
        assertTrue(c.getMessage().startsWith("tensor 'a\\u000ab\\u001b[31m\\'' in "), c.getMessage());
    }

    @Test
    void writerRejectsBadArgumentsNamingFileAndTensor() {
        Path p = dir.resolve("w.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(p, Map.of("__metadata__", Tensor.of(new float[]{1}, 1))));
        assertTrue(e.getMessage().startsWith("tensor '__metadata__' in " + p + ": "), e.getMessage());
        java.util.Map<String, Tensor> withNull = new java.util.HashMap<>();
        withNull.put("t", null);
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, withNull));
        assertTrue(n.getMessage().startsWith("tensor 't' in " + p + ": null tensor"), n.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("bad\ud800", Tensor.of(new float[]{1}, 1))));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of(), Map.of("k", "\udc00")));
        assertTrue(java.nio.file.Files.notExists(p));
    }
}
