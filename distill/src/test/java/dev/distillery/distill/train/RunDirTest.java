package dev.distillery.distill.train;

import dev.distillery.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunDirTest {
    @Test
    void configAndMetricsRoundTrip(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("run");
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", "tiny \"run\"\n");
        cfg.put("lr", 1e-4);
        cfg.put("steps", 1000L);
        cfg.put("ema", true);
        cfg.put("none", null);
        cfg.put("channels", List.of(32, 64));
        cfg.put("model", Map.of("kind", "unet"));
        try (RunDir run = RunDir.create(dir, cfg)) {
            for (String d : List.of("checkpoints", "samples", "plots")) assertTrue(Files.isDirectory(dir.resolve(d)), d);
            Map<String, Object> back = run.readConfig();
            assertEquals(List.copyOf(cfg.keySet()), List.copyOf(back.keySet()));
            assertEquals("tiny \"run\"\n", back.get("name"));
            assertEquals(1e-4, ((Json.Num) back.get("lr")).asDouble(), 0);
            assertEquals("1000", back.get("steps").toString());
            assertEquals(Boolean.TRUE, back.get("ema"));
            assertSame(Json.NULL, back.get("none"));
            assertEquals(Map.of("kind", "unet"), back.get("model"));

            double odd = 0.1 + 0.2;
            run.logMetrics(1, Map.of("loss", odd));
            run.logMetrics(2, Map.of("loss", Double.NaN));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("loss", 0.5f);
            m.put("lr", 3e-4);
            run.logMetrics(3, m);
            assertEquals(List.of(odd, Double.NaN, 0.5), run.metric("loss"));
            List<Map<String, Object>> rows = run.readMetrics();
            assertEquals(3, rows.size());
            assertEquals("3", rows.get(2).get("step").toString());
            assertEquals(List.of("step", "loss", "lr"), List.copyOf(rows.get(2).keySet()));
            run.syncMetrics();
        }
        String text = Files.readString(dir.resolve("metrics.jsonl"));
        assertEquals("{\"step\":1,\"loss\":0.30000000000000004}", text.lines().findFirst().orElseThrow());
    }

    @Test
    void refusesToOverwriteAndResumeDropsLaterAndTornLines(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("run");
        try (RunDir run = RunDir.create(dir, Map.of("a", 1))) {
            for (int s = 1; s <= 5; s++) run.logMetrics(s, Map.of("loss", s * 0.5));
        }
        IOException e = assertThrows(IOException.class, () -> RunDir.create(dir, Map.of("a", 2)));
        assertTrue(e.getMessage().contains("already holds a run"), e.getMessage());
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("x.txt"), "x");
        assertThrows(IOException.class, () -> RunDir.create(other, Map.of()));
        assertThrows(IOException.class, () -> RunDir.resume(tmp.resolve("missing")));

        // A kill in the middle of a line leaves a torn last line.
        Files.write(dir.resolve("metrics.jsonl"), new byte[]{'{', '"', 'n', '"', ':', '"', (byte) 0xC3}, StandardOpenOption.APPEND); // half an é
        try (RunDir run = RunDir.resume(dir)) {
            assertEquals(5, run.readMetrics().size(), "torn line skipped");
        }
        try (RunDir run = RunDir.resume(dir, 3)) {
            assertEquals(List.of(0.5, 1.0, 1.5), run.metric("loss"));
            run.logMetrics(4, Map.of("loss", 9.0));
            assertEquals(List.of(0.5, 1.0, 1.5, 9.0), run.metric("loss"));
            assertEquals("1", run.readConfig().get("a").toString(), "config kept");
        }
    }
}
