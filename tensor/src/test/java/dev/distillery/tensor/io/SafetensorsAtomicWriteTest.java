package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsAtomicWriteTest {
    @TempDir
    Path dir;

    /** An F32 storage that fails after {@code failAfter} element reads, to break a write half-way. */
    record FailingStorage(int length, int failAfter, int[] reads) implements Storage {
        FailingStorage(int length, int failAfter) {
            this(length, failAfter, new int[1]);
        }
        public DType dtype() { return DType.F32; }
        public Device device() { return Device.CPU; }
        public double getDouble(int i) {
            if (reads[0]++ >= failAfter) throw new IllegalStateException("simulated failure while reading element " + i);
            return i;
        }
        public void setDouble(int i, double v) { throw new UnsupportedOperationException(); }
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFailureMidWriteLeavesThePreviousFileIntactAndNoTempFile() throws Exception {
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(file, Map.of("old", Tensor.of(new float[]{1, 2, 3}, 3)), Map.of("version", "1"));
        byte[] before = Files.readAllBytes(file);

        Map<String, Tensor> next = new LinkedHashMap<>();
        next.put("big", Tensor.zeros(DType.F32, 1 << 19)); // 2 MB: more than one buffer is flushed to the temp file
        next.put("broken", Tensor.of(new FailingStorage(1000, 500), 1000));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Safetensors.write(file, next, Map.of("version", "2")));
        assertTrue(e.getMessage().contains("simulated failure"), e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(file), "previous file untouched");
        assertEquals(List.of("model.safetensors"), listing(), "no temporary file left behind");
        try (SafetensorsReader r = Safetensors.open(file)) {
            assertEquals(Map.of("version", "1"), r.metadata());
            assertArrayEquals(new float[]{1, 2, 3}, r.load("old").toFloatArray());
        }
    }

    @Test
    void anUnfamiliarStorageIsWrittenThroughGetDouble() throws Exception {
        Path file = dir.resolve("custom.safetensors");
        Safetensors.write(file, Map.of("c", Tensor.of(new FailingStorage(6, Integer.MAX_VALUE), 2, 3).transpose(0, 1)));
        assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, Safetensors.read(file).get("c").toFloatArray());
        assertEquals(List.of("custom.safetensors"), listing());
    }

    @Test
    void successfulWritesReplaceTheFileAndLeaveNothingElse() throws Exception {
        Path file = dir.resolve("a.safetensors");
        for (int v = 0; v < 5; v++) {
            Safetensors.write(file, Map.of("v", Tensor.of(new float[]{v}, 1)), Map.of("v", "" + v));
            assertEquals(List.of("a.safetensors"), listing());
            try (SafetensorsReader r = Safetensors.open(file)) {
                assertEquals("" + v, r.metadata().get("v"));
                assertArrayEquals(new float[]{v}, r.load("v").toFloatArray());
            }
        }
    }

    @Test
    void ioFailuresAreSafetensorsExceptionsNamingTheFile() throws Exception {
        Path noDir = dir.resolve("no/such/dir/x.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.write(noDir, Map.of()));
        assertTrue(e.getMessage().startsWith(noDir + ": cannot write: "), e.getMessage());
        assertTrue(e.getCause() instanceof IOException);

        Path isDir = Files.createDirectory(dir.resolve("d.safetensors"));
        SafetensorsException d = assertThrows(SafetensorsException.class, () -> Safetensors.write(isDir, Map.of()));
        assertTrue(d.getMessage().startsWith(isDir + ": cannot write"), d.getMessage());
        assertEquals(List.of("d.safetensors"), listing());
    }

    @Test
    void readersOfTheOldFileKeepWorkingAcrossAReplace() throws Exception {
        Path file = dir.resolve("live.safetensors");
        Safetensors.write(file, Map.of("x", Tensor.of(new float[]{1, 2}, 2)));
        try (SafetensorsReader old = Safetensors.open(file)) {
            Safetensors.write(file, Map.of("y", Tensor.of(new float[]{3}, 1)));
            assertArrayEquals(new float[]{1, 2}, old.load("x").toFloatArray(), "the mapping still sees the old inode");
            assertEquals(List.of("y"), List.copyOf(Safetensors.read(file).keySet()));
        }
    }
}
