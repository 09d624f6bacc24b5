package dev.distillery.distill.viz;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PngTest {
    @TempDir
    Path dir;

    @Test
    void overwritesExistingFileAndLeavesNoTemp() throws IOException {
        Path out = dir.resolve("a.png");
        Files.writeString(out, "not a png");
        ImageGrid.write(Tensor.full(1.0, DType.F32, 1, 1, 4, 5), out, 1);
        BufferedImage img = ImageIO.read(out.toFile());
        assertNotNull(img, "valid PNG replaced the old file");
        assertEquals(5 + 4, img.getWidth());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("a.png"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void failedWriteThrowsAndCleansUp() throws IOException {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "x");
        Path out = blocker.resolve("sub/a.png"); // parent is a regular file
        var e = assertThrows(UncheckedIOException.class, () -> ImageGrid.write(Tensor.zeros(DType.F32, 1, 1, 2, 2), out, 1));
        assertTrue(e.getMessage().contains("cannot write PNG"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("file"), files.map(p -> p.getFileName().toString()).toList());
        }
    }
}
