package dev.distillery.models.vae;

import dev.distillery.models.text.ClipTextFixtures;
import dev.distillery.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our module tree against diffusers' names and shapes for the SD 1.5 VAE: {@code /vae/sd15-vae.manifest.txt} was
 * written by diffusers itself ({@code gen_vae_reference.py}). Builds the real 84M-parameter model (0.34 GB).
 */
class VaeManifestTest {
    @Test
    void stableDiffusionVaeMatchesDiffusers() {
        List<String> expected = ClipTextFixtures.manifest("/vae/sd15-vae.manifest.txt");
        AutoencoderKLConfig config = AutoencoderKLConfig.parse(ClipTextFixtures.text("/vae/sd15-vae.config.json"));
        AutoencoderKL vae = new AutoencoderKL(config, new Rng(0));
        assertEquals(String.join("\n", expected), String.join("\n", ClipTextFixtures.manifestOf(vae.stateDict())), "names, shapes and order");
        assertEquals(248, expected.size());
        assertEquals(83_653_863L, vae.parameterCount());
    }

    @Test
    void optionalPartsFollowTheConfig() {
        String json = "{\"block_out_channels\": [8, 16], \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                + " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"], \"norm_num_groups\": 4,"
                + " \"use_quant_conv\": false, \"use_post_quant_conv\": false, \"mid_block_add_attention\": false}";
        var keys = new AutoencoderKL(AutoencoderKLConfig.parse(json), new Rng(0)).stateDict().keySet();
        assertEquals(0, keys.stream().filter(k -> k.contains("quant_conv") || k.contains("attentions")).count(), keys.toString());
    }
}
