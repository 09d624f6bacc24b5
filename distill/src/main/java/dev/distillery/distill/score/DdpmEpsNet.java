package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.distill.teacher.MlpDenoiser;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/**
 * A DDPM epsilon-prediction network (Ho et al. 2020) on a discrete VP {@link NoiseSchedule}, usable wherever an
 * {@link EdmDenoiserNet} is expected.
 *
 * <p><b>The raw network</b> ({@link #predictEps}) takes the VP sample {@code x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps}
 * and the timestep t in [0, T-1] and predicts eps, with no preconditioning: a diffusers {@link UNet2DModel} gets t as
 * its timestep (the usual diffusers convention); an {@link MlpDenoiser} gets {@code 3 t / T} ({@link #MLP_EMBEDDING_SPAN})
 * as its embedding input, so t in [0, T) spans [0, 3), about the span of EDM's c_noise = ln(sigma)/4 over the Karras
 * grid 0.002..80 (-1.55..1.10) that the MLP's sinusoid frequencies ({@link MlpDenoiser#EMB_SCALE} = 4 rad per unit and
 * lower) were chosen for; 1000 raw timesteps would alias its highest frequencies.
 *
 * <p><b>The EDM view</b> ({@link #denoise}), the exact VE/VP conversion (Karras et al. 2022, section 2 and appendix
 * C.1; Song et al. 2021): the VE sample {@code x = x0 + sigma eps} is the VP sample divided by sqrt(abar) with
 * <pre>
 *   abar(sigma) = 1 / (1 + sigma^2)                 ({@link NoiseSchedule#alphaBarFromSigma})
 *   x_t         = sqrt(abar(sigma)) x
 *   t(sigma)    = the continuous timestep whose schedule noise level is sigma: linear interpolation of ln sigma_t
 *                 between neighbouring training timesteps ({@link NoiseSchedule#timestepForSigma}; clamped to [0, T-1])
 *   D(x; sigma) = x - sigma eps_hat(x_t, t(sigma))
 * </pre>
 * (since {@code x_t = sqrt(abar) x0 + sqrt(1 - abar) eps} and {@code sqrt(1 - abar) / sqrt(abar) = sigma}, the
 * Tweedie estimate {@code x0_hat = (x_t - sqrt(1 - abar) eps_hat) / sqrt(abar)} is {@code x - sigma eps_hat}). At a
 * training timestep's sigma_t, t(sigma) = t exactly. Outside [sigma_0, sigma_{T-1}] the timestep is clamped while
 * abar stays exact. {@link #preconditioning()} only supplies the loss weight when a copy of this net is trained further
 * by {@link DenoisingScoreMatching} (a fake score in distillation); D itself uses no preconditioning.
 */
public final class DdpmEpsNet implements EdmDenoiserNet {
    /** An MLP's embedding input is {@code MLP_EMBEDDING_SPAN * t / T}; see the class comment. */
    public static final double MLP_EMBEDDING_SPAN = 3;

    private final UNet2DModel unet;   // exactly one of unet, mlp is non-null
    private final MlpDenoiser mlp;
    private final NoiseSchedule schedule;
    private final EdmPreconditioning pre;
    private final int[] sampleShape;

    private DdpmEpsNet(UNet2DModel unet, MlpDenoiser mlp, NoiseSchedule schedule, EdmPreconditioning pre, int[] sampleShape) {
        this.unet = unet;
        this.mlp = mlp;
        this.schedule = schedule;
        this.pre = pre;
        this.sampleShape = sampleShape;
    }

    /** A pixel UNet eps-model on samples [C, height, width] (C = the UNet's channels). */
    public static DdpmEpsNet unet(UNet2DModel unet, NoiseSchedule schedule, EdmPreconditioning pre, int height, int width) {
        return new DdpmEpsNet(unet, null, schedule, pre, EdmUNetNet.sampleShapeOf("DdpmEpsNet", unet.config, height, width));
    }

    /** An MLP eps-model on samples of {@code sampleShape}, flattened to the MLP's {@code dim} values. */
    public static DdpmEpsNet mlp(MlpDenoiser mlp, NoiseSchedule schedule, EdmPreconditioning pre, int... sampleShape) {
        long n = 1;
        for (int d : sampleShape) n *= d;
        if (n != mlp.dim()) throw new IllegalArgumentException("DdpmEpsNet: sample shape " + Arrays.toString(sampleShape) + " has " + n + " values, the MLP takes " + mlp.dim());
        return new DdpmEpsNet(null, mlp, schedule, pre, sampleShape.clone());
    }

    /** The VP schedule the net was trained on. */
    public NoiseSchedule schedule() {
        return schedule;
    }

    @Override public Module module() { return unet != null ? unet : mlp; }
    @Override public EdmPreconditioning preconditioning() { return pre; }
    @Override public int[] sampleShape() { return sampleShape.clone(); }

    @Override
    public int classes() {
        return unet != null ? EdmUNetNet.classesOf(unet) : 0;
    }

    @Override
    public long nullLabel() {
        if (classes() == 0) throw new IllegalStateException("DdpmEpsNet: the network is unconditional and has no null label");
        return classes();
    }

    /**
     * eps_hat(x_t, t), the raw network.
     *
     * @param xt        VP samples [B, sampleShape...]
     * @param timesteps one (possibly fractional) timestep per sample, in [0, T-1]
     * @param cond      I64 class ids [B] for a class-conditional UNet, else null
     */
    public Variable predictEps(Variable xt, double[] timesteps, Tensor cond) {
        int b = xt.size(0);
        if (timesteps.length != b) throw new IllegalArgumentException("predictEps: " + timesteps.length + " timesteps for a batch of " + b);
        DenoiserForms.checkSamples("predictEps: x_t", xt, sampleShape);
        if (unet != null) {
            EdmUNetNet.checkLabels("DdpmEpsNet", classes(), cond, b);
            return unet.forward(xt, Tensor.of(timesteps, b), cond);
        }
        if (cond != null) throw new IllegalArgumentException("DdpmEpsNet (MLP) is unconditional; got conditioning of shape " + Arrays.toString(cond.shape()));
        double[] embeddingInput = new double[b];
        for (int i = 0; i < b; i++) embeddingInput[i] = MLP_EMBEDDING_SPAN * timesteps[i] / schedule.numTrainTimesteps();
        return mlp.forward(xt.reshape(b, mlp.dim()), embeddingInput).reshape(xt.shape());
    }

    /** {@code D(x; sigma) = x - sigma eps_hat(sqrt(abar) x, t(sigma))} with {@code abar = 1 / (1 + sigma^2)}; see the class comment. */
    @Override
    public Variable denoise(Variable x, double[] sigma, Tensor cond) {
        return DenoiserForms.vp(x, sigma, schedule, PredictionType.EPSILON, (xt, t) -> predictEps(xt, t, cond));
    }

    @Override
    public DdpmEpsNet copy() {
        if (unet != null) {
            UNet2DModel twin = new UNet2DModel(unet.config, new Rng(0));
            twin.loadStateDict(unet.stateDict(), true);
            return new DdpmEpsNet(twin, null, schedule, pre, sampleShape.clone());
        }
        MlpDenoiser twin = mlp.sameShape(new Rng(0));
        twin.loadStateDict(mlp.stateDict(), true);
        return new DdpmEpsNet(null, twin, schedule, pre, sampleShape.clone());
    }
}
