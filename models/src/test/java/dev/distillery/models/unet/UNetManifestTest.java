package dev.distillery.models.unet;

import dev.distillery.autograd.nn.Init;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module trees built from the public SD 1.5, SD 2.1 and SDXL-base UNet configs have exactly diffusers' state-dict
 * keys, in diffusers' order, with diffusers' shapes. The manifests come from diffusers 0.25.1 itself
 * (src/test/resources/unet/gen_manifest.py); the trees are built shape-only ({@link Init#shapeOnly}), so SDXL's
 * 2.6B parameters are never allocated.
 */
class UNetManifestTest {
    static Path resource(String name) {
        try {
            return Path.of(UNetManifestTest.class.getResource("/unet/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource /unet/" + name + " missing", e);
        }
    }

    private static void check(String config, String manifest) throws IOException {
        UNet2DConditionConfig cfg = UNet2DConditionConfig.load(resource(config));
        UNet2DConditionModel unet = Init.shapeOnly(() -> new UNet2DConditionModel(cfg, new Rng(0)));
        List<String> expected = new ArrayList<>();
        long expectedTotal = -1;
        for (String line : Files.readAllLines(resource(manifest))) {
            if (line.startsWith("# ") && line.contains(" elements;")) expectedTotal = Long.parseLong(line.split(" ")[3]);
            if (!line.isBlank() && !line.startsWith("#")) expected.add(line);
        }
        List<String> actual = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : unet.stateDict().entrySet())
            actual.add(e.getKey() + " " + Arrays.stream(e.getValue().shape()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        if (!expected.equals(actual)) {
            List<String> missing = new ArrayList<>(expected), extra = new ArrayList<>(actual);
            missing.removeAll(actual);
            extra.removeAll(expected);
            String detail = missing.isEmpty() && extra.isEmpty() ? "same entries in another order" : "missing " + head(missing) + ", unexpected " + head(extra);
            throw new AssertionError(manifest + ": state dict differs from diffusers (" + expected.size() + " vs " + actual.size() + " keys): " + detail);
        }
        assertEquals(expectedTotal, unet.parameterCount(), manifest + " parameter count");
        // The weights were not allocated: every linear and conv weight is a storage-less placeholder.
        long allocated = 0;
        for (Tensor t : unet.stateDict().values()) if (!Init.isMeta(t)) allocated += t.numel();
        assertTrue(allocated < expectedTotal / 1000, "shape-only build allocated " + allocated + " elements");
    }

    private static List<String> head(List<String> l) {
        return l.subList(0, Math.min(8, l.size()));
    }

    @Test
    void sd15MatchesDiffusers() throws IOException {
        check("sd15_unet_config.json", "sd15_unet_manifest.txt");
    }

    @Test
    void sd21MatchesDiffusers() throws IOException {
        check("sd21_unet_config.json", "sd21_unet_manifest.txt");
    }

    @Test
    void sdxlMatchesDiffusers() throws IOException {
        check("sdxl_unet_config.json", "sdxl_unet_manifest.txt");
    }
}
