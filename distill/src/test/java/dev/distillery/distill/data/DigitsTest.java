package dev.distillery.distill.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class DigitsTest {
    @TempDir
    Path dir;

    private static String csv(int rows) {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < 64; k++) sb.append((r + k) % 17).append(r % 2 == 0 ? "," : ".0,");
            sb.append(r % 10).append('\n');
        }
        return sb.toString();
    }

    @Test
    void plainAndGzippedCsvScaleToMinusOneOne() throws IOException {
        Path plain = dir.resolve("digits.csv");
        Files.writeString(plain, csv(5));
        Path gz = dir.resolve("digits.csv.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(csv(5).getBytes(StandardCharsets.UTF_8));
        }
        InMemoryDataset a = Digits.load(plain), b = Digits.open(gz.toString());
        assertEquals(5, a.size());
        for (int r = 0; r < 5; r++) {
            assertArrayEquals(a.get(r).image().toFloatArray(), b.get(r).image().toFloatArray());
            assertEquals(r % 10, a.get(r).label());
            assertArrayEquals(new int[]{1, 8, 8}, a.get(r).image().shape());
            for (int k = 0; k < 64; k++) assertEquals(((r + k) % 17) / 8.0 - 1, a.get(r).image().get(0, k / 8, k % 8), 1e-7);
        }
        assertEquals(-1.0, a.get(0).image().get(0, 0, 0), 0);   // 0 -> -1
        assertEquals(0.0, a.get(0).image().get(0, 1, 0), 0);    // 8 -> 0
        assertEquals(1.0, a.get(0).image().get(0, 2, 0), 0);    // 16 -> 1
    }

    @Test
    void badRowNamesFileLineAndOffset() throws IOException {
        String good = csv(2);
        Path f = dir.resolve("bad.csv");
        Files.writeString(f, good + "1,2,3\n");
        DataFileException e = assertThrows(DataFileException.class, () -> Digits.load(f));
        assertEquals(good.length(), e.offset());
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("line 3"), e.getMessage());

        Files.writeString(f, good.replaceFirst("^0,", "17,"));
        assertTrue(assertThrows(DataFileException.class, () -> Digits.load(f)).getMessage().contains("outside 0..16"));
        Files.writeString(f, good.replaceFirst("^0,", "x,"));
        assertEquals(0, assertThrows(DataFileException.class, () -> Digits.load(f)).offset());
        assertThrows(DataFileException.class, () -> Digits.locate(dir.resolve("missing.csv").toString()));
    }
}
