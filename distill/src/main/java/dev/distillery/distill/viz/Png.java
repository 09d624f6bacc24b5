package dev.distillery.distill.viz;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Headless set-up and atomic PNG writing shared by the plotters. */
final class Png {
    private Png() {}

    /**
     * Sets {@code java.awt.headless=true} unless the property was set explicitly. Must run before the first AWT class
     * that asks for the toolkit; every public class of this package calls it from its static initialiser.
     */
    static void ensureHeadless() {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /**
     * Writes {@code image} as PNG to {@code file}: first to a temporary file in the same directory (created if needed),
     * then renamed over {@code file} (atomically where the file system allows it). On failure the temporary file is
     * removed and any existing {@code file} is left untouched.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    static void write(BufferedImage image, Path file) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path temp = null;
        try {
            Files.createDirectories(dir);
            temp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
            if (!ImageIO.write(image, "png", temp.toFile())) throw new IOException("no PNG writer available in ImageIO");
            try {
                Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            temp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write PNG " + file + ": " + e.getMessage(), e);
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
}
