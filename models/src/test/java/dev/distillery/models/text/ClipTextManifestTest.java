package dev.distillery.models.text;

import dev.distillery.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our module tree against transformers' names and shapes for the SD 1.5 text encoder (openai/clip-vit-large-patch14's
 * text tower): {@code /clip/clip-vit-large-patch14-text.manifest.txt} was written by transformers itself
 * ({@code gen_clip_reference.py}). Builds the real 123M-parameter model (0.5 GB).
 */
class ClipTextManifestTest {
    @Test
    void clipVitLargeTextEncoderMatchesTransformers() throws Exception {
        List<String> expected = ClipTextFixtures.manifest("/clip/clip-vit-large-patch14-text.manifest.txt");
        ClipTextConfig config = ClipTextConfig.parse(ClipTextFixtures.text("/clip/clip-vit-large-patch14-text.config.json"));
        ClipTextModel model = new ClipTextModel(config, new Rng(0));
        List<String> actual = ClipTextFixtures.manifestOf(model.stateDict());
        assertEquals(String.join("\n", expected), String.join("\n", actual), "names, shapes and order");
        assertEquals(196, actual.size());
        assertEquals(123_060_480L, model.parameterCount());
    }

    @Test
    void withProjectionAddsTextProjection() {
        ClipTextConfig c = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-proj.config.json"));
        List<String> plain = ClipTextFixtures.manifestOf(new ClipTextModel(c, new Rng(0)).stateDict());
        List<String> expected = new ArrayList<>(plain);
        expected.add("text_projection.weight [24, 32]");
        assertEquals(expected, ClipTextFixtures.manifestOf(new ClipTextModelWithProjection(c, new Rng(0)).stateDict()));
        // and exactly the keys transformers' CLIPTextModelWithProjection saved (safetensors files sort their keys)
        List<String> saved = ClipTextFixtures.manifestOf(ClipTextFixtures.safetensors("/clip/tiny-clip-proj.safetensors"));
        assertEquals(expected.stream().sorted().toList(), saved.stream().sorted().toList());
    }
}
