package dev.distillery.models.text;

import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.testing.Golden;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Test resources under {@code /clip/} and {@code /vae/}, written by the generator scripts there. */
public final class ClipTextFixtures {
    private ClipTextFixtures() {}

    public static byte[] bytes(String resource) {
        try (InputStream in = ClipTextFixtures.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("test resource " + resource + " not on the class path");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String text(String resource) {
        return new String(bytes(resource), StandardCharsets.UTF_8);
    }

    public static Map<String, Tensor> safetensors(String resource) {
        return Golden.resource(resource);
    }

    /** The "name [d0, d1]" lines of a manifest, comments dropped, in file order. */
    public static List<String> manifest(String resource) {
        List<String> out = new ArrayList<>();
        for (String line : text(resource).split("\n")) {
            String s = line.strip();
            if (!s.isEmpty() && !s.startsWith("#")) out.add(s);
        }
        return out;
    }

    /** The same lines from a state dict. */
    public static List<String> manifestOf(Map<String, Tensor> state) {
        List<String> out = new ArrayList<>();
        state.forEach((k, v) -> out.add(k + " " + java.util.Arrays.toString(v.shape())));
        return out;
    }
}
