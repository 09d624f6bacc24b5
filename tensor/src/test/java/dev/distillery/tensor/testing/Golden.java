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

/** Loads safetensors fixtures from the test class path (PyTorch golden values under {@code /golden/}), once per JVM. */
public final class Golden {
    private static final Map<String, Map<String, Tensor>> CACHE = new ConcurrentHashMap<>();

    private Golden() {}

    /** All tensors of {@code /golden/<file>}. */
    public static Map<String, Tensor> load(String file) {
        return resource("/golden/" + file);
    }

    /** All tensors of the safetensors file at class-path {@code resource} (an absolute path such as {@code /vae/x.safetensors}). */
    public static Map<String, Tensor> resource(String resource) {
        return CACHE.computeIfAbsent(resource, r -> {
            try (InputStream in = Golden.class.getResourceAsStream(r)) {
                if (in == null) throw new IllegalStateException("test resource " + r + " not on the class path");
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
