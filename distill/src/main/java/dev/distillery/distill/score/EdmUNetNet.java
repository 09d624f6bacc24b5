package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Module;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.models.unet.UNet2DConfig;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A diffusers-compatible {@link UNet2DModel} with EDM preconditioning, per-sample sigma:
 * <pre>
 *   D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, t(sigma), y)
 *   t(sigma)    = cNoiseScale * c_noise(sigma) = cNoiseScale * ln(sigma) / 4
 * </pre>
 * with c_skip, c_out, c_in of {@link EdmPreconditioning} and F the UNet.
 *
 * <p><b>Why the timestep is scaled.</b> The UNet embeds its timestep with diffusers' sinusoid
 * {@code sin/cos(t * 10000^(-i/half))}, whose highest frequency is 1 rad per unit: it was made for DDPM timesteps
 * 0..999. EDM's c_noise = ln(sigma)/4 spans only about [-1.6, 1.1] over the Karras grid 0.002..80, where every feature
 * but the first few is nearly constant and the net can hardly tell noise levels apart. {@link #DEFAULT_C_NOISE_SCALE}
 * = 1000 maps that span onto [-1550, 1100], a range as wide as the DDPM timesteps the embedding was designed for
 * (the same frequencies then resolve the noise level finely at the top and coarsely at the bottom).
 *
 * <p><b>Class conditioning.</b> A class-conditional UNet has {@code num_class_embeds = classes + 1}: ids
 * {@code 0..classes-1} are the classes and id {@link #nullLabel()} {@code = classes} is the "no label" embedding that
 * label dropout trains for classifier-free guidance. Conditioning is an I64 tensor {@code [B]} of ids.
 */
public final class EdmUNetNet implements EdmDenoiserNet {
    /** The default factor from c_noise = ln(sigma)/4 to the UNet's timestep; see the class comment. */
    public static final double DEFAULT_C_NOISE_SCALE = 1000;

    private final UNet2DModel unet;
    private final EdmPreconditioning pre;
    private final double cNoiseScale;
    private final int[] sampleShape;

    /**
     * @param unet        the raw network F; in and out channels must agree
     * @param pre         the preconditioning (sigma_data)
     * @param cNoiseScale the factor from c_noise to the UNet timestep (> 0)
     * @param height      sample height, divisible by 2^(levels - 1)
     * @param width       sample width, likewise
     */
    public EdmUNetNet(UNet2DModel unet, EdmPreconditioning pre, double cNoiseScale, int height, int width) {
        if (!(cNoiseScale > 0) || !Double.isFinite(cNoiseScale)) throw new IllegalArgumentException("EdmUNetNet: cNoiseScale must be finite and > 0, got " + cNoiseScale);
        this.sampleShape = sampleShapeOf("EdmUNetNet", unet.config, height, width);
        this.unet = unet;
        this.pre = pre;
        this.cNoiseScale = cNoiseScale;
    }

    /** [C, H, W] of a pixel UNet's samples, after checking that it maps C channels to C and that H, W fit its levels. */
    static int[] sampleShapeOf(String who, UNet2DConfig c, int height, int width) {
        if (c.inChannels() != c.outChannels())
            throw new IllegalArgumentException(who + ": the UNet maps " + c.inChannels() + " channels to " + c.outChannels() + "; a denoiser needs equal counts");
        if (c.numClassEmbeds() != null && c.numClassEmbeds() < 2)
            throw new IllegalArgumentException(who + ": num_class_embeds must be >= 2 (classes + the null label), got " + c.numClassEmbeds());
        int down = 1 << (c.blockOutChannels().size() - 1);
        if (height < 1 || width < 1 || height % down != 0 || width % down != 0)
            throw new IllegalArgumentException(who + ": sample " + height + "x" + width + " must be divisible by " + down + " (" + c.blockOutChannels().size() + " UNet levels)");
        return new int[]{c.inChannels(), height, width};
    }

    /** Number of real classes of a UNet built by {@link #smallConfig} (num_class_embeds - 1; 0 when unconditional). */
    static int classesOf(UNet2DModel unet) {
        Integer n = unet.config.numClassEmbeds();
        return n == null ? 0 : n - 1;
    }

    /**
     * A small pixel-space UNet config: one level per entry of {@code blockOutChannels}, ResNet blocks only, except
     * self-attention at the lowest resolution (the last down block, the first up block and the mid block) when
     * {@code attention}; GroupNorm with {@code normGroups} groups; a class embedding table of {@code classes + 1}
     * entries when {@code classes > 0}.
     */
    public static UNet2DConfig smallConfig(int channels, int size, List<Integer> blockOutChannels, int layersPerBlock, boolean attention, int attentionHeadDim,
                                           int normGroups, int classes) {
        if (blockOutChannels.isEmpty()) throw new IllegalArgumentException("--block-out-channels must name at least one level");
        for (int ch : blockOutChannels)
            if (ch < 1 || ch % normGroups != 0)
                throw new IllegalArgumentException("--block-out-channels " + blockOutChannels + ": every width must be a positive multiple of --norm-groups " + normGroups);
        if (layersPerBlock < 1) throw new IllegalArgumentException("--layers-per-block must be >= 1, got " + layersPerBlock);
        if (attention && attentionHeadDim < 1) throw new IllegalArgumentException("--attention-head-dim must be >= 1, got " + attentionHeadDim);
        int n = blockOutChannels.size();
        List<String> down = new ArrayList<>(), up = new ArrayList<>();
        for (int i = 0; i < n; i++) down.add(attention && i == n - 1 ? "AttnDownBlock2D" : "DownBlock2D");
        for (int i = 0; i < n; i++) up.add(attention && i == 0 ? "AttnUpBlock2D" : "UpBlock2D");
        UNet2DConfig d = UNet2DConfig.defaults();
        return new UNet2DConfig("UNet2DModel", List.of(size), channels, channels, false, "positional", 0, true, down, up, blockOutChannels,
                layersPerBlock, 1, 1, "conv", "conv", 0, "silu", attentionHeadDim, normGroups, null, d.normEps(), "default", attention, null,
                classes > 0 ? classes + 1 : null, null, Map.of());
    }

    public UNet2DModel unet() {
        return unet;
    }

    public double cNoiseScale() {
        return cNoiseScale;
    }

    /** Number of real classes (0 when unconditional). */
    public int classes() {
        return classesOf(unet);
    }

    /** The id of the "no label" embedding (= {@link #classes()}); only for class-conditional nets. */
    public long nullLabel() {
        if (classes() == 0) throw new IllegalStateException("EdmUNetNet: the UNet is unconditional and has no null label");
        return classes();
    }

    @Override public Module module() { return unet; }
    @Override public EdmPreconditioning preconditioning() { return pre; }
    @Override public int[] sampleShape() { return sampleShape.clone(); }

    @Override
    public Variable denoise(Variable x, double[] sigma, Tensor cond) {
        int b = checkInput(x, cond);
        return DenoiserForms.edm(x, sigma, pre, cNoiseScale, (in, t) -> unet.forward(in, Tensor.of(t, b), cond));
    }

    /** The UNet's mid-block output {@link UNet2DModel#midFeatures} at the input {@link #denoise} gives it: {@code c_in x}, t(sigma), the labels. */
    @Override
    public Variable features(Variable x, double[] sigma, Tensor cond) {
        int b = checkInput(x, cond);
        return DenoiserForms.edmRaw(x, sigma, pre, cNoiseScale, (in, t) -> unet.midFeatures(in, Tensor.of(t, b), cond));
    }

    /** Checks x's shape and the labels of a pass; returns the batch size. */
    private int checkInput(Variable x, Tensor cond) {
        DenoiserForms.checkSamples("denoise: x", x, sampleShape);
        int b = x.size(0);
        checkLabels("EdmUNetNet", classes(), cond, b);
        return b;
    }

    /** Checks the conditioning of a UNet with {@code classes} classes (+ null label {@code classes}): null, or I64 ids [B] in 0..classes. */
    static void checkLabels(String who, int classes, Tensor cond, int b) {
        if (classes == 0) {
            if (cond != null) throw new IllegalArgumentException(who + " is unconditional; got conditioning of shape " + Arrays.toString(cond.shape()));
            return;
        }
        if (cond == null) throw new IllegalArgumentException(who + " is class-conditional: pass I64 labels [B] (the null label " + classes + " for unconditional)");
        if (cond.dim() != 1 || cond.size(0) != b) throw new IllegalArgumentException("denoise: labels have shape " + Arrays.toString(cond.shape()) + ", expected [" + b + "]");
        for (long id : cond.to(DType.I64).toLongArray())
            if (id < 0 || id > classes) throw new IllegalArgumentException("denoise: label " + id + " outside 0.." + classes + " (" + classes + " = null label)");
    }

    @Override
    public EdmUNetNet copy() {
        UNet2DModel twin = new UNet2DModel(unet.config, new Rng(0));
        twin.loadStateDict(unet.stateDict(), true);
        return new EdmUNetNet(twin, pre, cNoiseScale, sampleShape[1], sampleShape[2]);
    }
}
