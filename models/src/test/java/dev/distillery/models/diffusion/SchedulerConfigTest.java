package dev.distillery.models.diffusion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerConfigTest {
    /** runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json, verbatim. */
    static final String SD15 = """
            {
              "_class_name": "PNDMScheduler",
              "_diffusers_version": "0.6.0",
              "beta_end": 0.012,
              "beta_schedule": "scaled_linear",
              "beta_start": 0.00085,
              "num_train_timesteps": 1000,
              "set_alpha_to_one": false,
              "skip_prk_steps": true,
              "steps_offset": 1,
              "trained_betas": null,
              "clip_sample": false
            }
            """;

    @Test
    void loadsStableDiffusionsConfigFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, SD15);
        SchedulerConfig c = SchedulerConfig.load(f);
        assertEquals("PNDMScheduler", c.className());
        assertEquals(1000, c.numTrainTimesteps());
        assertEquals(BetaSchedule.SCALED_LINEAR, c.betaSchedule());
        assertEquals(0.00085, c.betaStart());
        assertEquals(0.012, c.betaEnd());
        assertFalse(c.setAlphaToOne());
        assertFalse(c.clipSample());
        assertEquals(1, c.stepsOffset());
        assertNull(c.trainedBetas());
        // absent keys take diffusers' defaults
        assertEquals(PredictionType.EPSILON, c.predictionType());
        assertEquals(TimestepSpacing.LEADING, c.timestepSpacing());
        assertEquals("fixed_small", c.varianceType());
        // unknown keys are kept
        assertEquals("0.6.0", c.extras().get("_diffusers_version"));
        assertEquals(Boolean.TRUE, c.extras().get("skip_prk_steps"));
        // and it is the same as the built-in SD preset, up to the kept keys
        SchedulerConfig preset = SchedulerConfig.stableDiffusion();
        assertEquals(NoiseSchedule.fromConfig(preset), NoiseSchedule.fromConfig(c));
        assertArrayEquals(new DdimSampler(preset).timesteps(50), new DdimSampler(c).timesteps(50));
    }

    @Test
    void parsesTheOtherFields() {
        SchedulerConfig c = SchedulerConfig.parse("""
                {"_class_name": "DDIMScheduler", "num_train_timesteps": 500, "beta_schedule": "squaredcos_cap_v2",
                 "prediction_type": "v_prediction", "timestep_spacing": "trailing", "rescale_betas_zero_snr": true,
                 "thresholding": true, "dynamic_thresholding_ratio": 0.9, "sample_max_value": 2.5, "clip_sample_range": 1.5,
                 "variance_type": "fixed_large", "sigma_min": 0.01, "sigma_max": 20, "sigma_data": 0.7, "rho": 5,
                 "timestep_type": null}
                """);
        assertEquals(500, c.numTrainTimesteps());
        assertEquals(BetaSchedule.SQUAREDCOS_CAP_V2, c.betaSchedule());
        assertEquals(PredictionType.V_PREDICTION, c.predictionType());
        assertEquals(TimestepSpacing.TRAILING, c.timestepSpacing());
        assertTrue(c.rescaleBetasZeroSnr() && c.thresholding());
        assertEquals(0.9, c.dynamicThresholdingRatio());
        assertEquals(2.5, c.sampleMaxValue());
        assertEquals(1.5, c.clipSampleRange());
        assertEquals("fixed_large", c.varianceType());
        assertEquals(0.01, c.sigmaMin());
        assertEquals(20, c.sigmaMax());
        assertEquals(0.7, c.sigmaData());
        assertEquals(5, c.rho());
        assertTrue(c.extras().containsKey("timestep_type"));
        NoiseSchedule s = NoiseSchedule.fromConfig(c);
        assertEquals(500, s.numTrainTimesteps());
        assertEquals(0, s.alphaBar(499), 1e-15, "zero terminal SNR");
        SchedulerConfig t = SchedulerConfig.parse("{\"trained_betas\": [0.1, 0.2, 0.3], \"num_train_timesteps\": 3}");
        assertArrayEquals(new double[]{0.1, 0.2, 0.3}, NoiseSchedule.fromConfig(t).betas());
        assertEquals(0.9 * 0.8 * 0.7, NoiseSchedule.fromConfig(t).alphaBar(2), 1e-15);
    }

    @Test
    void rejectsBadValuesNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse("{\"steps_offset\": \"1\"}"));
        assertTrue(e.getMessage().contains("steps_offset"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse("{\"beta_schedule\": \"quadratic\"}"));
        assertTrue(e.getMessage().contains("quadratic"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse("{\"prediction_type\": \"eps\"}"));
        assertTrue(e.getMessage().contains("prediction_type"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse("{\"num_train_timesteps\": 1000.5}"));
        assertTrue(e.getMessage().contains("num_train_timesteps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse("[1, 2]"));
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse("{\"a\": 1,}"));
        SchedulerConfig t = SchedulerConfig.parse("{\"trained_betas\": [0.1, 0.2], \"num_train_timesteps\": 3}");
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromConfig(t));
        assertThrows(IllegalArgumentException.class, () -> new DdpmSampler(SchedulerConfig.defaults().withVarianceType("learned_range")));
    }
}
