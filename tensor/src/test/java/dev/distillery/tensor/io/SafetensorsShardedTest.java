package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsShardedTest {
    @TempDir
    Path dir;

    private Path index(String json) throws Exception {
        return Files.writeString(dir.resolve("model.safetensors.index.json"), json);
    }

    private void twoShards() throws Exception {
        Map<String, Tensor> s1 = new LinkedHashMap<>();
        s1.put("embed.weight", Tensor.of(new float[]{1, 2, 3, 4}, 2, 2));
        s1.put("layer.0.w", Tensor.of(new float[]{5}, 1).to(DType.BF16));
        Safetensors.write(dir.resolve("model-00001-of-00002.safetensors"), s1, Map.of("format", "pt"));
        Map<String, Tensor> s2 = new LinkedHashMap<>();
        s2.put("layer.1.w", Tensor.of(new double[]{6, 7}, 2));
        s2.put("unlisted", Tensor.of(new float[]{0}, 1));
        Safetensors.write(dir.resolve("model-00002-of-00002.safetensors"), s2, null);
    }

    @Test
    void opensShardsLazilyThroughTheIndex() throws Exception {
        twoShards();
        Path idx = index("""
                {"metadata": {"total_size": 28, "note": "x", "flag": true},
                 "weight_map": {"layer.1.w": "model-00002-of-00002.safetensors",
                                "embed.weight": "model-00001-of-00002.safetensors",
                                "layer.0.w": "./model-00001-of-00002.safetensors"},
                 "extra": [1, 2]}""");
        for (Path open : List.of(idx, dir)) {
            try (SafetensorsReader r = Safetensors.open(open)) {
                ShardedSafetensorsReader s = (ShardedSafetensorsReader) r;
                assertEquals(idx, r.file());
                assertEquals(List.of("layer.1.w", "embed.weight", "layer.0.w"), r.names());
                assertEquals(Map.of("total_size", "28", "note", "x", "flag", "true"), r.metadata());
                assertEquals(0, s.openShardCount(), "nothing mapped before the first use");
                assertArrayEquals(new float[]{1, 2, 3, 4}, r.load("embed.weight").toFloatArray());
                assertEquals(1, s.openShardCount());
                assertEquals(DType.BF16, r.load("layer.0.w").dtype());
                assertArrayEquals(new float[]{5}, r.load("layer.0.w", DType.F32).toFloatArray());
                assertEquals(1, s.openShardCount(), "both tensors share a shard");
                TensorInfo info = r.info("layer.1.w");
                assertEquals(dir.resolve("model-00002-of-00002.safetensors").toAbsolutePath(), info.file());
                assertEquals(2, s.openShardCount());
                assertTrue(!r.contains("unlisted"));
                SafetensorsException e = assertThrows(SafetensorsException.class, () -> r.load("unlisted"));
                assertEquals("tensor 'unlisted' in " + idx + ": no such tensor in the weight_map (3 tensors)", e.getMessage());
                assertEquals(3, r.loadAll().size());
            }
        }
    }

    @Test
    void indexErrorsNameTheIndexAndTheTensor() throws Exception {
        twoShards();
        Path shard1 = dir.resolve("model-00001-of-00002.safetensors").toAbsolutePath();
        Path idx = index("{\"weight_map\": {\"ghost\": \"model-00001-of-00002.safetensors\"}}");
        try (SafetensorsReader r = Safetensors.open(idx)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> r.load("ghost"));
            assertEquals("tensor 'ghost' in " + idx + ": the weight_map puts it in " + shard1 + ", which has no such tensor", e.getMessage());
        }
        index("{\"weight_map\": {\"w\": \"missing.safetensors\"}}");
        try (SafetensorsReader r = Safetensors.open(idx)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> r.load("w"));
            assertEquals(dir.resolve("missing.safetensors").toAbsolutePath(), e.file());
            assertTrue(e.getMessage().contains("cannot open") && e.getMessage().contains("a shard of " + idx), e.getMessage());
        }
        Files.write(dir.resolve("bad.safetensors"), new byte[]{1, 2});
        index("{\"weight_map\": {\"w\": \"bad.safetensors\"}}");
        try (SafetensorsReader r = Safetensors.open(idx)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> r.info("w"));
            assertTrue(e.getMessage().startsWith(dir.resolve("bad.safetensors").toAbsolutePath() + ": truncated"), e.getMessage());
        }

        record Case(String json, String tensor, String fragment) {}
        for (Case c : List.of(
                new Case("{\"weight_map\": {\"w\": \"../outside.safetensors\"}}", "w", "is outside the index's directory"),
                new Case("{\"weight_map\": {\"w\": \"/etc/passwd\"}}", "w", "is an absolute path"),
                new Case("{\"weight_map\": {\"w\": \"\"}}", "w", "empty shard file name"),
                new Case("{\"weight_map\": {\"w\": \"a\\u0000b\"}}", "w", "is not a valid file name"),
                new Case("{\"weight_map\": {\"w\": 3}}", "w", "the weight_map entry is a number, expected a shard file name"),
                new Case("{\"weight_map\": {\"w\": \"a\", \"w\": \"b\"}}", null, "not valid JSON: duplicate key 'w'"),
                new Case("{\"metadata\": {}}", null, "the index has no 'weight_map'"),
                new Case("{\"weight_map\": []}", null, "'weight_map' is an array, expected an object"),
                new Case("{\"weight_map\": {}, \"metadata\": {\"a\": [1]}}", null, "metadata key 'a' has an array"),
                new Case("{\"weight_map\": {}, \"metadata\": 5}", null, "'metadata' is a number"),
                new Case("[]", null, "the index is an array, not a JSON object"),
                new Case("{\"weight_map\": {", null, "the index is not valid JSON")
        )) {
            index(c.json);
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.open(idx), c.json);
            assertEquals(idx, e.file(), c.json);
            assertEquals(c.tensor, e.tensor().orElse(null), e.getMessage());
            String prefix = c.tensor == null ? idx + ": " : "tensor '" + c.tensor + "' in " + idx + ": ";
            assertTrue(e.getMessage().startsWith(prefix) && e.getMessage().contains(c.fragment), c.json + " -> " + e.getMessage());
        }
    }

    @Test
    void directoriesPreferTheIndexThenTheSingleFile() throws Exception {
        Safetensors.write(dir.resolve("model.safetensors"), Map.of("only", Tensor.of(new float[]{9}, 1)));
        try (SafetensorsReader r = Safetensors.open(dir)) {
            assertTrue(r instanceof SafetensorsFileReader);
            assertEquals(List.of("only"), r.names());
        }
    }
}
