package dev.distillery.models.vae;

import dev.distillery.models.text.ClipTextFixtures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class VaeConfigTest {
    private static AutoencoderKLConfig withoutExtras(AutoencoderKLConfig c) {
        return new AutoencoderKLConfig(c.className(), c.inChannels(), c.outChannels(), c.downBlockTypes(), c.upBlockTypes(), c.blockOutChannels(),
                c.layersPerBlock(), c.actFn(), c.latentChannels(), c.normNumGroups(), c.sampleSize(), c.scalingFactor(), c.shiftFactor(),
                c.latentsMean(), c.latentsStd(), c.forceUpcast(), c.useQuantConv(), c.usePostQuantConv(), c.midBlockAddAttention(), Map.of());
    }

    @Test
    void stableDiffusionVaeConfig() {
        AutoencoderKLConfig c = AutoencoderKLConfig.parse(ClipTextFixtures.text("/vae/sd15-vae.config.json"));
        assertEquals(AutoencoderKLConfig.stableDiffusion(), withoutExtras(c));
        assertEquals("0.6.0", c.extras().get("_diffusers_version"));
        assertEquals(8, c.downsampleFactor());
        assertNull(c.shiftFactor());
    }

    @Test
    void diffusersWrittenConfigWithShift() {
        AutoencoderKLConfig c = AutoencoderKLConfig.parse(ClipTextFixtures.text("/vae/tiny-vae.config.json"));
        assertEquals(List.of(16, 32), c.blockOutChannels());
        assertEquals(1, c.layersPerBlock());
        assertEquals(8, c.normNumGroups());
        assertEquals(0.13025, c.scalingFactor());
        assertEquals(0.0609, c.shiftFactor());
        assertNull(c.latentsMean());
        assertEquals(2, c.downsampleFactor());
        assertEquals(AutoencoderKLConfig.defaults(), AutoencoderKLConfig.parse("{}"));
        assertEquals(List.of(0.5, -0.5), AutoencoderKLConfig.parse("{\"latent_channels\": 2, \"latents_mean\": [0.5, -0.5], \"latents_std\": [1, 2]}").latentsMean());
        assertEquals(64, AutoencoderKLConfig.parse("{\"sample_size\": [64, 96]}").sampleSize());
    }

    @Test
    void rejectsWhatIsNotModelled() {
        assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.parse("{\"down_block_types\": [\"AttnDownEncoderBlock2D\"]}"));
        assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.parse("{\"act_fn\": \"gelu\"}"));
        assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.parse("{\"block_out_channels\": [64, 128]}"), "one block type for two levels");
        assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.parse("{\"norm_num_groups\": 48}"));
        assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.parse("{\"latents_mean\": [0, 0, 0, 0]}"), "mean without std");
    }
}
