package dev.distillery.models.diffusion;

import dev.distillery.tensor.io.Json;

import java.io.IOException;
import java.nio.file.Files;
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
 * @param extras                 every other key, in file order, as {@link Json} values
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
        byte[] bytes = Files.readAllBytes(file);
        try {
            return fromJson(Json.parse(bytes));
        } catch (Json.ParseException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses the text of a {@code scheduler_config.json}. */
    public static SchedulerConfig parse(String json) {
        try {
            return fromJson(Json.parse(json));
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException("scheduler config is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** Builds a config from a parsed JSON object; absent keys (and JSON null) take the defaults. */
    public static SchedulerConfig fromJson(Object root) {
        if (!(root instanceof Map<?, ?> map)) throw new IllegalArgumentException("scheduler config must be a JSON object, got " + Json.typeName(root));
        SchedulerConfig d = defaults();
        Map<String, Object> extras = new LinkedHashMap<>();
        String className = d.className;
        int numTrain = d.numTrainTimesteps, stepsOffset = d.stepsOffset;
        double betaStart = d.betaStart, betaEnd = d.betaEnd, clipRange = d.clipSampleRange, ratio = d.dynamicThresholdingRatio,
                maxValue = d.sampleMaxValue, sigmaMin = d.sigmaMin, sigmaMax = d.sigmaMax, sigmaData = d.sigmaData, rho = d.rho;
        BetaSchedule betaSchedule = d.betaSchedule;
        double[] trained = null;
        PredictionType pred = d.predictionType;
        TimestepSpacing spacing = d.timestepSpacing;
        boolean setAlphaToOne = d.setAlphaToOne, clip = d.clipSample, thresholding = d.thresholding, zsnr = d.rescaleBetasZeroSnr;
        String varianceType = d.varianceType;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String k = (String) e.getKey();
            Object v = e.getValue();
            if (v == Json.NULL) {
                if (!isModelled(k)) extras.put(k, v);
                continue; // null: diffusers' default (None)
            }
            switch (k) {
                case "_class_name" -> className = str(k, v);
                case "num_train_timesteps" -> numTrain = integer(k, v);
                case "beta_start" -> betaStart = num(k, v);
                case "beta_end" -> betaEnd = num(k, v);
                case "beta_schedule" -> betaSchedule = BetaSchedule.fromConfig(str(k, v));
                case "trained_betas" -> trained = numArray(k, v);
                case "prediction_type" -> pred = PredictionType.fromConfig(str(k, v));
                case "timestep_spacing" -> spacing = TimestepSpacing.fromConfig(str(k, v));
                case "steps_offset" -> stepsOffset = integer(k, v);
                case "set_alpha_to_one" -> setAlphaToOne = bool(k, v);
                case "clip_sample" -> clip = bool(k, v);
                case "clip_sample_range" -> clipRange = num(k, v);
                case "thresholding" -> thresholding = bool(k, v);
                case "dynamic_thresholding_ratio" -> ratio = num(k, v);
                case "sample_max_value" -> maxValue = num(k, v);
                case "variance_type" -> varianceType = str(k, v);
                case "rescale_betas_zero_snr" -> zsnr = bool(k, v);
                case "sigma_min" -> sigmaMin = num(k, v);
                case "sigma_max" -> sigmaMax = num(k, v);
                case "sigma_data" -> sigmaData = num(k, v);
                case "rho" -> rho = num(k, v);
                default -> extras.put(k, v);
            }
        }
        return new SchedulerConfig(className, numTrain, betaStart, betaEnd, betaSchedule, trained, pred, spacing, stepsOffset, setAlphaToOne,
                clip, clipRange, thresholding, ratio, maxValue, varianceType, zsnr, sigmaMin, sigmaMax, sigmaData, rho, extras);
    }

    private static final List<String> MODELLED = List.of("_class_name", "num_train_timesteps", "beta_start", "beta_end", "beta_schedule",
            "trained_betas", "prediction_type", "timestep_spacing", "steps_offset", "set_alpha_to_one", "clip_sample", "clip_sample_range",
            "thresholding", "dynamic_thresholding_ratio", "sample_max_value", "variance_type", "rescale_betas_zero_snr", "sigma_min",
            "sigma_max", "sigma_data", "rho");

    private static boolean isModelled(String key) {
        return MODELLED.contains(key);
    }

    private static String str(String k, Object v) {
        if (v instanceof String s) return s;
        throw new IllegalArgumentException("'" + k + "' must be a string, got " + Json.typeName(v));
    }

    private static boolean bool(String k, Object v) {
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException("'" + k + "' must be a boolean, got " + Json.typeName(v));
    }

    private static double num(String k, Object v) {
        if (v instanceof Json.Num n) return n.asDouble();
        throw new IllegalArgumentException("'" + k + "' must be a number, got " + Json.typeName(v));
    }

    private static int integer(String k, Object v) {
        if (v instanceof Json.Num n && n.isInteger()) {
            long x = Long.parseLong(n.text());
            if (x >= Integer.MIN_VALUE && x <= Integer.MAX_VALUE) return (int) x;
        }
        throw new IllegalArgumentException("'" + k + "' must be an integer, got " + (v instanceof Json.Num n ? n.text() : Json.typeName(v)));
    }

    private static double[] numArray(String k, Object v) {
        if (!(v instanceof List<?> list)) throw new IllegalArgumentException("'" + k + "' must be an array of numbers, got " + Json.typeName(v));
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = num(k + "[" + i + "]", list.get(i));
        return out;
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
