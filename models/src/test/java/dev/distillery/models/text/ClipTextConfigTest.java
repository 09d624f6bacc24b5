package dev.distillery.models.text;

import dev.distillery.tensor.io.Json;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipTextConfigTest {
    private static ClipTextConfig withoutExtras(ClipTextConfig c) {
        return new ClipTextConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                c.maxPositionEmbeddings(), c.hiddenAct(), c.layerNormEps(), c.projectionDim(), c.bosTokenId(), c.eosTokenId(), c.padTokenId(), Map.of());
    }

    @Test
    void stableDiffusionTextEncoderConfig() {
        ClipTextConfig c = ClipTextConfig.parse(ClipTextFixtures.text("/clip/clip-vit-large-patch14-text.config.json"));
        assertEquals(ClipTextConfig.clipVitLargePatch14(), withoutExtras(c));
        assertTrue(c.legacyPooling(), "eos_token_id 2: argmax pooling");
        assertEquals(64, c.headDim());
        assertEquals(ClipTextActivation.QUICK_GELU, c.activation());
        assertEquals("clip_text_model", c.extras().get("model_type"));
        assertEquals(new Json.Num("0.02"), c.extras().get("initializer_range"));
    }

    @Test
    void transformers5ConfigsAndDefaults() {
        ClipTextConfig t = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-text.config.json"));
        assertEquals(new ClipTextConfig(100, 32, 48, 2, 2, 16, "quick_gelu", 1e-5, 24, 0, 2, 1, Map.of()), withoutExtras(t));
        ClipTextConfig p = ClipTextConfig.parse(ClipTextFixtures.text("/clip/tiny-clip-proj.config.json"));
        assertEquals(ClipTextActivation.GELU, p.activation());
        assertEquals(98, p.eosTokenId());
        assertFalse(p.legacyPooling());
        assertEquals(ClipTextConfig.defaults(), ClipTextConfig.parse("{}"));
        assertEquals(ClipTextConfig.defaults().withHiddenAct("gelu"), withoutExtras(ClipTextConfig.parse("{\"hidden_act\": \"gelu\", \"pad_token_id\": null}")));
    }

    @Test
    void fullClipConfigReadsItsTextConfig() {
        ClipTextConfig c = ClipTextConfig.parse("{\"model_type\": \"clip\", \"projection_dim\": 1280, \"text_config\": {\"hidden_size\": 1280,"
                + " \"num_attention_heads\": 20, \"num_hidden_layers\": 32, \"intermediate_size\": 5120, \"hidden_act\": \"gelu\","
                + " \"projection_dim\": 1280}, \"vision_config\": {}}");
        assertEquals(1280, c.hiddenSize());
        assertEquals(32, c.numHiddenLayers());
        assertEquals(64, c.headDim());
    }

    @Test
    void jsonRoundTrip() {
        ClipTextConfig c = ClipTextConfig.parse(ClipTextFixtures.text("/clip/clip-vit-large-patch14-text.config.json"));
        assertEquals(c, ClipTextConfig.parse(c.toJson()));
        assertEquals(ClipTextConfig.small(), ClipTextConfig.parse(ClipTextConfig.small().toJson()));
    }

    @Test
    void smallConfigForTrainingFromScratch() {
        ClipTextConfig s = ClipTextConfig.small();
        assertEquals(256, s.hiddenSize());
        assertEquals(4, s.numHiddenLayers());
        assertEquals(4, s.numAttentionHeads());
        assertEquals(77, s.maxPositionEmbeddings());
        assertEquals(49408, s.vocabSize());
        assertFalse(s.legacyPooling());
        long perLayer = 4L * (256 * 256 + 256) + (256L * 1024 + 1024) + (1024L * 256 + 256) + 4 * 256;
        long expected = 49408L * 256 + 77 * 256 + 4 * perLayer + 2 * 256;
        assertEquals(expected, new ClipTextModel(s, new dev.distillery.tensor.Rng(1)).parameterCount());
    }

    @Test
    void rejectsBadConfigs() {
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.parse("{\"hidden_size\": 30, \"num_attention_heads\": 4}"));
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.parse("{\"hidden_act\": \"tanh\"}"));
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.parse("{\"vocab_size\": 1.5}"));
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.parse("[1]"));
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.parse("{\"max_position_embeddings\": 0}"));
    }
}
