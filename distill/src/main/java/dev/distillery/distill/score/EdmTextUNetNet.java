package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.models.diffusion.PredictionType;
import dev.distillery.models.unet.UNet2DConditionConfig;
import dev.distillery.models.unet.UNet2DConditionModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A text-conditional diffusers {@link UNet2DConditionModel} (Stable Diffusion's layout) as an EDM denoiser, per-sample
 * sigma. The conditioning {@code cond} is the prompt embedding, F32 encoder hidden states {@code [B, L, D]} with D the
 * UNet's {@code cross_attention_dim} (CLIP's last_hidden_state); it is a constant (no gradient flows into the text
 * encoder). F is {@code unet.forward(input, timesteps, cond)}. Two parameterisations, the two a checkpoint can have
 * ({@link Parameterization}):
 * <ul>
 *   <li>{@link Parameterization.Edm}: EDM preconditioning exactly as {@link EdmUNetNet},
 *       {@code D = c_skip x + c_out F(c_in x, cNoiseScale ln(sigma) / 4, cond)} (diffusers' EDM schedulers use
 *       cNoiseScale = 1; the pixel UNets trained here use {@link EdmUNetNet#DEFAULT_C_NOISE_SCALE}).</li>
 *   <li>{@link Parameterization.Vp}: a DDPM model on a discrete VP {@link NoiseSchedule} predicting epsilon, v or x0,
 *       through the exact VE/VP conversion of {@link DdpmEpsNet}: {@code x_t = sqrt(abar) x},
 *       {@code abar = 1 / (1 + sigma^2)}, {@code t = t(sigma)}, and for epsilon {@code D = x - sigma eps_hat(x_t, t)},
 *       for v {@code D = abar x - sqrt(1 - abar) v_hat(x_t, t)} (the equations: {@link DenoiserForms}).</li>
 * </ul>
 * {@link #preconditioning()} gives the EDM loss weight when a copy is trained further (fake score, Stage 1); in the VP
 * form D itself uses no preconditioning. Text networks have no class labels: {@link #classes()} is 0, and
 * classifier-free guidance maps a prompt's embedding to the empty prompt's (see {@code PromptConditions}).
 */
public final class EdmTextUNetNet implements EdmDenoiserNet {
    /** How F's output and timestep relate to D and sigma. */
    public sealed interface Parameterization {
        /** A short text for config files and logs, e.g. {@code edm:1000} or {@code vp:epsilon}. */
        String describe();

        /** EDM preconditioning with timestep {@code cNoiseScale * ln(sigma) / 4}. */
        record Edm(double cNoiseScale) implements Parameterization {
            public Edm {
                if (!(cNoiseScale > 0) || !Double.isFinite(cNoiseScale))
                    throw new IllegalArgumentException("EdmTextUNetNet: cNoiseScale must be finite and > 0, got " + cNoiseScale);
            }

            @Override
            public String describe() {
                return "edm:" + cNoiseScale;
            }
        }

        /** A DDPM model predicting {@code prediction} on {@code schedule}. */
        record Vp(NoiseSchedule schedule, PredictionType prediction) implements Parameterization {
            public Vp {
                Objects.requireNonNull(schedule, "schedule");
                Objects.requireNonNull(prediction, "prediction");
            }

            @Override
            public String describe() {
                return "vp:" + prediction.configName();
            }
        }
    }

    private final UNet2DConditionModel unet;
    private final EdmPreconditioning pre;
    private final Parameterization form;
    private final int[] sampleShape;
    private final int contextDim;

    /**
     * @param unet   the raw network F: text-conditional only (no class or SDXL added embeddings), in = out channels
     * @param pre    the preconditioning (sigma_data): the EDM form's coefficients, the loss weight in either form
     * @param form   the parameterisation
     * @param height sample height, divisible by 2^(levels - 1)
     * @param width  sample width, likewise
     */
    public EdmTextUNetNet(UNet2DConditionModel unet, EdmPreconditioning pre, Parameterization form, int height, int width) {
        UNet2DConditionConfig c = unet.config;
        if (c.inChannels() != c.outChannels())
            throw new IllegalArgumentException("EdmTextUNetNet: the UNet maps " + c.inChannels() + " channels to " + c.outChannels() + "; a denoiser needs equal counts");
        if (c.numClassEmbeds() != null || c.classEmbedType() != null || c.additionEmbedType() != null)
            throw new IllegalArgumentException("EdmTextUNetNet: the UNet needs conditions besides the text (num_class_embeds " + c.numClassEmbeds() + ", class_embed_type "
                    + c.classEmbedType() + ", addition_embed_type " + c.additionEmbedType() + "); only text-only UNets (SD 1.x/2.x layout) are supported");
        int down = 1 << (c.blockOutChannels().size() - 1);
        if (height < 1 || width < 1 || height % down != 0 || width % down != 0)
            throw new IllegalArgumentException("EdmTextUNetNet: sample " + height + "x" + width + " must be divisible by " + down + " (" + c.blockOutChannels().size() + " UNet levels)");
        this.unet = unet;
        this.pre = Objects.requireNonNull(pre, "pre");
        this.form = Objects.requireNonNull(form, "form");
        this.sampleShape = new int[]{c.inChannels(), height, width};
        this.contextDim = contextDimOf(c);
    }

    /** D of the prompt embeddings the UNet takes: encoder_hid_dim when it projects them, else the (single) cross_attention_dim. */
    static int contextDimOf(UNet2DConditionConfig c) {
        if (c.encoderHidDim() != null) return c.encoderHidDim();
        List<Integer> dims = c.crossAttentionDim().values();
        for (int d : dims)
            if (d != dims.get(0)) throw new IllegalArgumentException("EdmTextUNetNet: cross_attention_dim differs per block " + dims + "; one prompt embedding cannot feed them all");
        return dims.get(0);
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public Parameterization parameterization() {
        return form;
    }

    /** The width D of the prompt embeddings [B, L, D] this net takes. */
    public int contextDim() {
        return contextDim;
    }

    @Override public Module module() { return unet; }
    @Override public EdmPreconditioning preconditioning() { return pre; }
    @Override public int[] sampleShape() { return sampleShape.clone(); }

    @Override
    public Variable denoise(Variable x, double[] sigma, Tensor cond) {
        DenoiserForms.checkSamples("denoise: x", x, sampleShape);
        int b = x.size(0);
        checkContext(cond, b);
        Variable context = Variable.constant(cond);
        DenoiserForms.Raw f = (in, t) -> unet.forward(in, Tensor.of(t, b), context);
        return switch (form) {
            case Parameterization.Edm e -> DenoiserForms.edm(x, sigma, pre, e.cNoiseScale(), f);
            case Parameterization.Vp v -> DenoiserForms.vp(x, sigma, v.schedule(), v.prediction(), f);
        };
    }

    /** The prompt embeddings must be F32 [B, L, contextDim]; errors name the tensor and the expected shape. */
    private void checkContext(Tensor cond, int b) {
        if (cond == null) throw new IllegalArgumentException("EdmTextUNetNet is text-conditional: pass prompt embeddings [B, L, " + contextDim + "] (the empty prompt's for unconditional)");
        if (cond.dim() != 3 || cond.size(0) != b || cond.size(2) != contextDim)
            throw new IllegalArgumentException("denoise: prompt embeddings (cond) have shape " + Arrays.toString(cond.shape()) + ", expected [" + b + ", L, " + contextDim + "]");
        if (cond.dtype() != DType.F32) throw new IllegalArgumentException("denoise: prompt embeddings (cond) are " + cond.dtype() + ", expected F32");
    }

    @Override
    public EdmTextUNetNet copy() {
        UNet2DConditionModel twin = new UNet2DConditionModel(unet.config, new Rng(0));
        twin.loadStateDict(unet.stateDict(), true);
        return new EdmTextUNetNet(twin, pre, form, sampleShape[1], sampleShape[2]);
    }
}
