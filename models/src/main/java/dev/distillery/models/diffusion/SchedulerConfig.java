package dev.distillery.models.diffusion;

import dev.distillery.models.config.ConfigJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The fields of a diffusers {@code scheduler_config.json} that the samplers here use, with diffusers' defaults
 * ({@code DDIMScheduler} / {@code DDPMScheduler} constructor defaults; the EDM fields default to
 * {@code EDMEulerScheduler}'s). Keys this record does not model ({@code skip_prk_steps}, {@code timestep_type},
 * ...) are kept, as parsed JSON values, in {@link #extras()}.
 *
 * @param className              {@code _class_name} (e.g. "PNDMScheduler"), or null
 * @param numTrainTimesteps      {@code num_train_timesteps} (1000)
 * @param betaStart              {@code beta_start} (0.0001)
 * @param betaEnd                {@code beta_end} (0.02)
 * @param betaSchedule           {@code beta_schedule} ("linear")
 * @param trainedBetas           {@code trained_betas} (null); when set it replaces the beta schedule
 * @param predictionType         {@code prediction_type} ("epsilon")
 * @param timestepSpacing        {@code timestep_spacing} ("leading")
 * @param stepsOffset            {@code steps_offset} (0); added to leading-spaced timesteps only
 * @param setAlphaToOne          {@code set_alpha_to_one} (true): DDIM's alpha_bar after the last step is 1, else alpha_bar_0
 * @param clipSample             {@code clip_sample} (true): clamp predicted x0 to [-clip_sample_range, clip_sample_range]
 * @param clipSampleRange        {@code clip_sample_range} (1.0)
 * @param thresholding           {@code thresholding} (false): dynamic thresholding of x0 (Saharia et al. 2022)
 * @param dynamicThresholdingRatio {@code dynamic_thresholding_ratio} (0.995)
 * @param sampleMaxValue         {@code sample_max_value} (1.0)
 * @param varianceType           {@code variance_type} ("fixed_small"), DDPM only
 * @param rescaleBetasZeroSnr    {@code rescale_betas_zero_snr} (false)
 * @param sigmaMin               {@code sigma_min} (0.002), EDM only
 * @param sigmaMax               {@code sigma_max} (80), EDM only
 * @param sigmaData              {@code sigma_data} (0.5), EDM only
 * @param rho                    {@code rho} (7), EDM only
 * @param extras                 every other key, in file order, as {@link dev.distillery.tensor.io.Json} values
 */
public record SchedulerConfig(
        String className,
        int numTrainTimesteps,
        double betaStart,
        double betaEnd,
        BetaSchedule betaSchedule,
        double[] trainedBetas,
        PredictionType predictionType,
        TimestepSpacing timestepSpacing,
        int stepsOffset,
        boolean setAlphaToOne,
        boolean clipSample,
        double clipSampleRange,
        boolean thresholding,
        double dynamicThresholdingRatio,
        double sampleMaxValue,
        String varianceType,
        boolean rescaleBetasZeroSnr,
        double sigmaMin,
        double sigmaMax,
        double sigmaData,
        double rho,
        Map<String, Object> extras) {

    public SchedulerConfig {
        if (numTrainTimesteps < 1) throw new IllegalArgumentException("num_train_timesteps must be >= 1, got " + numTrainTimesteps);
        Objects.requireNonNull(betaSchedule, "beta_schedule");
        Objects.requireNonNull(predictionType, "prediction_type");
        Objects.requireNonNull(timestepSpacing, "timestep_spacing");
        Objects.requireNonNull(varianceType, "variance_type");
        trainedBetas = trainedBetas == null ? null : trainedBetas.clone();
        extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    @Override
    public double[] trainedBetas() {
        return trainedBetas == null ? null : trainedBetas.clone();
    }

    /** diffusers' DDIMScheduler/DDPMScheduler defaults (DDPM's linear 1e-4 .. 0.02 schedule, clip_sample on). */
    public static SchedulerConfig defaults() {
        return new SchedulerConfig(null, 1000, 1e-4, 0.02, BetaSchedule.LINEAR, null, PredictionType.EPSILON, TimestepSpacing.LEADING, 0,
                true, true, 1.0, false, 0.995, 1.0, "fixed_small", false,
                Sigmas.EDM_SIGMA_MIN, Sigmas.EDM_SIGMA_MAX, Sigmas.EDM_SIGMA_DATA, Sigmas.EDM_RHO, Map.of());
    }

    /**
     * Stable Diffusion 1.x's scheduler config (runwayml/stable-diffusion-v1-5 scheduler_config.json, as DDIM):
     * scaled_linear 0.00085 .. 0.012, steps_offset 1, set_alpha_to_one false, clip_sample false, epsilon.
     */
    public static SchedulerConfig stableDiffusion() {
        return defaults().withBetas(BetaSchedule.SCALED_LINEAR, 0.00085, 0.012).withStepsOffset(1).withSetAlphaToOne(false).withClipSample(false);
    }

    // ------------------------------------------------------------------------------------------ withers

    public SchedulerConfig withBetas(BetaSchedule schedule, double start, double end) {
        return new SchedulerConfig(className, numTrainTimesteps, start, end, schedule, null, predictionType, timestepSpacing, stepsOffset,
                setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withNumTrainTimesteps(int n) {
        return new SchedulerConfig(className, n, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType, timestepSpacing, stepsOffset,
                setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withPredictionType(PredictionType p) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, p, timestepSpacing, stepsOffset,
                setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withTimestepSpacing(TimestepSpacing s) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType, s, stepsOffset,
                setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withStepsOffset(int offset) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType, timestepSpacing, offset,
                setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withSetAlphaToOne(boolean v) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType, timestepSpacing, stepsOffset,
                v, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withClipSample(boolean v) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType, timestepSpacing, stepsOffset,
                setAlphaToOne, v, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, varianceType, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    public SchedulerConfig withVarianceType(String v) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType, timestepSpacing, stepsOffset,
                setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue, v, rescaleBetasZeroSnr,
                sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    // ------------------------------------------------------------------------------------------ JSON

    /** Reads a {@code scheduler_config.json}. */
    public static SchedulerConfig load(Path file) throws IOException {
        return ConfigJson.load(file, SchedulerConfig::fromJson);
    }

    /** Parses the text of a {@code scheduler_config.json}. */
    public static SchedulerConfig parse(String json) {
        return ConfigJson.parse(json, "scheduler config", SchedulerConfig::fromJson);
    }

    /** Builds a config from a parsed JSON object; absent keys (and JSON null) take the defaults. */
    public static SchedulerConfig fromJson(Object root) {
        ConfigJson r = new ConfigJson(root, "scheduler config", ConfigJson.Nulls.DEFAULT);
        SchedulerConfig d = defaults();
        List<Double> trained = r.numbers("trained_betas", null);
        return new SchedulerConfig(
                r.string("_class_name", d.className),
                r.integer("num_train_timesteps", d.numTrainTimesteps),
                r.number("beta_start", d.betaStart),
                r.number("beta_end", d.betaEnd),
                r.string("beta_schedule", d.betaSchedule, BetaSchedule::fromConfig),
                trained == null ? null : trained.stream().mapToDouble(Double::doubleValue).toArray(),
                r.string("prediction_type", d.predictionType, PredictionType::fromConfig),
                r.string("timestep_spacing", d.timestepSpacing, TimestepSpacing::fromConfig),
                r.integer("steps_offset", d.stepsOffset),
                r.bool("set_alpha_to_one", d.setAlphaToOne),
                r.bool("clip_sample", d.clipSample),
                r.number("clip_sample_range", d.clipSampleRange),
                r.bool("thresholding", d.thresholding),
                r.number("dynamic_thresholding_ratio", d.dynamicThresholdingRatio),
                r.number("sample_max_value", d.sampleMaxValue),
                r.string("variance_type", d.varianceType),
                r.bool("rescale_betas_zero_snr", d.rescaleBetasZeroSnr),
                r.number("sigma_min", d.sigmaMin),
                r.number("sigma_max", d.sigmaMax),
                r.number("sigma_data", d.sigmaData),
                r.number("rho", d.rho),
                r.extras());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SchedulerConfig c && Objects.equals(className, c.className) && numTrainTimesteps == c.numTrainTimesteps
                && betaStart == c.betaStart && betaEnd == c.betaEnd && betaSchedule == c.betaSchedule && Arrays.equals(trainedBetas, c.trainedBetas)
                && predictionType == c.predictionType && timestepSpacing == c.timestepSpacing && stepsOffset == c.stepsOffset
                && setAlphaToOne == c.setAlphaToOne && clipSample == c.clipSample && clipSampleRange == c.clipSampleRange
                && thresholding == c.thresholding && dynamicThresholdingRatio == c.dynamicThresholdingRatio && sampleMaxValue == c.sampleMaxValue
                && varianceType.equals(c.varianceType) && rescaleBetasZeroSnr == c.rescaleBetasZeroSnr && sigmaMin == c.sigmaMin
                && sigmaMax == c.sigmaMax && sigmaData == c.sigmaData && rho == c.rho && extras.equals(c.extras);
    }

    @Override
    public int hashCode() {
        return Objects.hash(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, Arrays.hashCode(trainedBetas), predictionType,
                timestepSpacing, stepsOffset, setAlphaToOne, clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue,
                varianceType, rescaleBetasZeroSnr, sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    @Override
    public String toString() {
        return "SchedulerConfig[" + (className == null ? "" : className + ", ") + "T=" + numTrainTimesteps + ", " + betaSchedule.configName() + " "
                + betaStart + ".." + betaEnd + (trainedBetas != null ? ", trained_betas" : "") + ", " + predictionType.configName() + ", "
                + timestepSpacing.configName() + " +" + stepsOffset + ", set_alpha_to_one=" + setAlphaToOne + ", clip_sample=" + clipSample
                + (thresholding ? ", thresholding" : "") + (rescaleBetasZeroSnr ? ", zero-SNR" : "") + "]";
    }
}
