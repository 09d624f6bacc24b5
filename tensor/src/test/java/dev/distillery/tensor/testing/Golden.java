package dev.distillery.tensor.testing;

import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Loads PyTorch golden fixtures (safetensors under {@code /golden/} on the test class path), once per JVM. */
public final class Golden {
    private static final Map<String, Map<String, Tensor>> CACHE = new ConcurrentHashMap<>();

    private Golden() {}

    /** All tensors of {@code /golden/<file>}. */
    public static Map<String, Tensor> load(String file) {
        return CACHE.computeIfAbsent(file, f -> {
            try (InputStream in = Golden.class.getResourceAsStream("/golden/" + f)) {
                if (in == null) throw new IllegalStateException("golden fixture /golden/" + f + " not on the test class path");
                Path tmp = Files.createTempFile("golden-", ".safetensors");
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                try {
                    return Safetensors.read(tmp);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
