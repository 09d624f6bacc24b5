package dev.distillery.distill.text;

import dev.distillery.distill.disback.Evaluator;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.distill.viz.ImageGrid;
import dev.distillery.models.diffusion.EdmSampler;
import dev.distillery.models.diffusion.Sigmas;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Evaluation of a one-step generator distilled from a text-conditional teacher, where no dataset metric exists:
 * fixed latents z_i (n = E prompts x {@code perPrompt}, sample i gets evaluation prompt {@code i mod E}) and
 * <pre>
 *   mse_teacher = mean_i,k (G(z_i; c_i) - T(z_i; c_i))^2
 * </pre>
 * where T is the teacher's deterministic Heun sampler ({@code steps} Karras steps, EDM grid 0.002..80) started at
 * {@code sigma_max z_i}, with classifier-free guidance at the distillation's scale (the teacher's guided samples are
 * what the generator is pulled toward). T is computed once, on first use, since the teacher never changes. The
 * distillation's losses are logged beside it by the run. The sample grid has one row per evaluation prompt.
 */
public final class TextEvaluator implements Evaluator {
    private final PromptConditions prompts;
    private final TargetScore.Guidance guidance;
    private final int perPrompt, steps;
    private final long seed;
    private Tensor teacherSamples;

    /**
     * @param guidanceScale classifier-free guidance of the teacher's reference samples (1: none)
     * @param perPrompt     samples per evaluation prompt (> 0)
     * @param steps         Heun steps of the teacher's reference samples (> 0)
     */
    public TextEvaluator(PromptConditions prompts, double guidanceScale, int perPrompt, int steps, long seed) {
        if (perPrompt < 1) throw new IllegalArgumentException("text evaluation: samples per prompt must be >= 1, got " + perPrompt);
        if (steps < 1) throw new IllegalArgumentException("text evaluation: teacher steps must be >= 1, got " + steps);
        this.prompts = prompts;
        this.guidance = prompts.guidance(guidanceScale);
        this.perPrompt = perPrompt;
        this.steps = steps;
        this.seed = seed;
    }

    private int count() {
        return prompts.evalPrompts().size() * perPrompt;
    }

    private Tensor latents(int[] sampleShape) {
        int[] shape = new int[sampleShape.length + 1];
        shape[0] = count();
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return Tensor.randn(new Rng(seed).fork(2), DType.F32, shape); // on the host: the same on every device
    }

    /** The generator's samples for the fixed latents and prompts, on the host. */
    public Tensor generatorSamples(OneStepGenerator generator) {
        EdmDenoiserNet net = generator.net();
        Device d = net.device();
        return generator.sample(latents(net.sampleShape()).to(d), prompts.evaluation(count()).to(d)).to(Device.CPU);
    }

    /** The teacher's guided Heun samples for the same latents and prompts, on the host (computed once). */
    public Tensor teacherSamples(EdmDenoiserNet teacher) {
        if (teacherSamples == null) {
            Device d = teacher.device();
            Tensor cond = prompts.evaluation(count()).to(d);
            double[] sigmas = Sigmas.karras(steps);
            Tensor x = latents(teacher.sampleShape()).mul(sigmas[0]).to(d);
            teacherSamples = EdmSampler.heun((xt, s) -> {
                double[] sig = new double[xt.size(0)];
                java.util.Arrays.fill(sig, s);
                return TargetScore.guided(teacher, guidance, xt, sig, cond);
            }, x, sigmas, null).to(Device.CPU);
        }
        return teacherSamples;
    }

    @Override
    public Map<String, Double> evaluate(OneStepGenerator generator, EdmDenoiserNet target, EdmDenoiserNet teacher) {
        Tensor g = generatorSamples(generator), t = teacherSamples(teacher);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("mse_teacher", g.sub(t).square().mean().item());
        return out;
    }

    @Override
    public String primaryMetric() {
        return "mse_teacher";
    }

    /** One row per evaluation prompt ({@code perPrompt} columns); the first channel when samples are not 1- or 3-channel (latents). */
    @Override
    public void writeSamples(Path png, OneStepGenerator generator, String title) throws IOException {
        Tensor s = generatorSamples(generator);
        int e = prompts.evalPrompts().size(), n = count();
        long[] order = new long[n];
        for (int p = 0; p < e; p++)
            for (int j = 0; j < perPrompt; j++) order[p * perPrompt + j] = (long) j * e + p; // sample j*E+p has prompt p
        s = s.indexSelect(0, Tensor.ofLongs(order, n));
        if (s.size(1) != 1 && s.size(1) != 3) s = s.narrow(1, 0, 1).contiguous();
        ImageGrid.write(s.clamp(-1, 1), png, ImageGrid.Options.columns(perPrompt).withScale(s.size(2) <= 16 ? 4 : 2));
    }
}
