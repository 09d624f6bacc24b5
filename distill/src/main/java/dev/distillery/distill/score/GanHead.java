package dev.distillery.distill.score;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/**
 * DMD2's optional GAN classifier head (spec disback.md §2.2, table row "classifier head"; §2.4 L_gan): one logit per
 * sample read from the fake score network's bottleneck features {@link EdmDenoiserNet#features}, randomly
 * initialised from a seed. The spec's stack for EDM/SD1.5 is {@code conv 4x4/s2 -> GN(32) -> SiLU, then 4x4/s4, GN,
 * SiLU, 1x1 -> 1 logit}, made for an 8x8 bottleneck (8 -> 4 -> 1). Our small UNets have bottlenecks from 1x1 to 8x8
 * and the MLP has none, so the head is adapted as follows.
 * <ul>
 *   <li>4-D features {@code [B, C, h, w]}:
 *     <ol>
 *       <li>if {@code h, w >= 2}: conv 4x4, stride 2, padding 1, C -> C (map {@code h/2 x w/2}), GroupNorm, SiLU;</li>
 *       <li>if the map is then at least 4x4: conv 4x4, stride 4, no padding, C -> C, GroupNorm, SiLU;</li>
 *       <li>global average pooling over what is left of the map (the identity on DMD2's 1x1 map), then a linear
 *           layer C -> 1, which is the spec's 1x1 conv on a 1x1 map.</li>
 *     </ol>
 *     So an 8x8 bottleneck gets exactly the spec's stack, and smaller maps drop the stages that would not fit.
 *     GroupNorm uses {@code gcd(C, 32)} groups (32 as in the spec when C is a multiple of 32; otherwise the largest
 *     group count that divides C) and eps 1e-5 (PyTorch's default, which DMD2 uses).</li>
 *   <li>2-D features {@code [B, W]} (an MLP's last hidden layer): Linear W -> W, SiLU, Linear W -> 1.</li>
 * </ul>
 * Output: the logits {@code [B]}.
 *
 * <p>Losses (spec §2.4, DMD2's non-saturating form), with {@code softplus(l) = ln(1 + e^l)}:
 * <pre>
 *   L_D      = mean_b softplus(l_fake) + mean_b softplus(-l_real)   (discriminator: fake -> negative, real -> positive)
 *   L_G_gan  = mean_b softplus(-l_fake)                             (generator: make its samples look real)
 * </pre>
 * At logits 0 both terms of L_D are ln 2, so an untrained head starts near L_D = 2 ln 2.
 */
public final class GanHead extends Module {
    /** GroupNorm's preferred group count (spec §2.2: GN(32)). */
    public static final int GROUPS = 32;
    private final int[] featureShape;
    private final Conv2d down, down4;
    private final GroupNorm norm, norm4;
    private final Linear hidden, out;

    /**
     * @param featureShape one sample's feature shape without the batch dimension: {@code [C, h, w]} or {@code [W]}
     * @param rng          initial weights (PyTorch's default fan-in uniform init of each layer)
     */
    public GanHead(int[] featureShape, Rng rng) {
        this.featureShape = featureShape.clone();
        for (int d : featureShape) if (d < 1) throw new IllegalArgumentException("GanHead: feature shape " + Arrays.toString(featureShape) + " has an empty dimension");
        if (featureShape.length == 3) {
            int c = featureShape[0], h = featureShape[1], w = featureShape[2];
            boolean first = h >= 2 && w >= 2;
            down = first ? child("down", new Conv2d(c, c, 4, 2, 1, true, rng)) : null;
            norm = first ? child("norm", new GroupNorm(groups(c), c, 1e-5, true)) : null;
            int h1 = first ? h / 2 : h, w1 = first ? w / 2 : w;
            boolean second = h1 >= 4 && w1 >= 4;
            down4 = second ? child("down4", new Conv2d(c, c, 4, 4, 0, true, rng)) : null;
            norm4 = second ? child("norm4", new GroupNorm(groups(c), c, 1e-5, true)) : null;
            hidden = null;
            out = child("out", new Linear(c, 1, true, rng));
        } else if (featureShape.length == 1) {
            int w = featureShape[0];
            down = down4 = null;
            norm = norm4 = null;
            hidden = child("hidden", new Linear(w, w, true, rng));
            out = child("out", new Linear(w, 1, true, rng));
        } else {
            throw new IllegalArgumentException("GanHead: features must be [C, h, w] or [W] per sample, got " + Arrays.toString(featureShape));
        }
    }

    /**
     * A head for {@code net}'s features, moved to the network's device. The feature shape is found by one pass
     * without gradient on a zero sample at sigma = 1 (null label for class-conditional networks); it draws nothing
     * from any random stream but {@code rng}.
     */
    public static GanHead forNet(EdmDenoiserNet net, Rng rng) {
        int[] shape = new int[net.sampleShape().length + 1];
        shape[0] = 1;
        System.arraycopy(net.sampleShape(), 0, shape, 1, shape.length - 1);
        Tensor cond = net.classes() > 0 ? Tensor.ofLongs(new long[]{net.nullLabel()}, 1).to(net.device()) : null;
        int[] f;
        try (var g = NoGrad.enter()) {
            f = net.features(Variable.constant(Tensor.zeros(DType.F32, net.device(), shape)), new double[]{1.0}, cond).shape();
        }
        GanHead head = new GanHead(Arrays.copyOfRange(f, 1, f.length), rng);
        head.to(net.device());
        return head;
    }

    /** GroupNorm groups for {@code c} channels: gcd(c, 32). */
    static int groups(int c) {
        int a = c, b = GROUPS;
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** The per-sample feature shape this head reads. */
    public int[] featureShape() {
        return featureShape.clone();
    }

    /** Logits [B] of features [B, featureShape...]. */
    public Variable forward(Variable features) {
        int[] s = features.shape();
        if (s.length != featureShape.length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), featureShape))
            throw new IllegalArgumentException("GanHead: features of shape " + Arrays.toString(s) + ", expected [B, " + Arrays.toString(featureShape).substring(1));
        int b = s[0];
        Variable h;
        if (featureShape.length == 1) {
            h = hidden.forward(features).silu();
        } else {
            h = features;
            if (down != null) h = norm.forwardSilu(down.forward(h));
            if (down4 != null) h = norm4.forwardSilu(down4.forward(h));
            h = h.mean(2, 3);
        }
        return out.forward(h).reshape(b);
    }

    /** {@code softplus(x) = ln(1 + e^x)}, computed as {@code max(x, 0) + ln(1 + e^{-|x|})} so that no exponential overflows. */
    public static Variable softplus(Variable x) {
        return x.relu().add(x.abs().neg().exp().add(1).log());
    }

    /** The discriminator loss {@code L_D = mean softplus(l_fake) + mean softplus(-l_real)} (spec §2.4). */
    public static Variable discriminatorLoss(Variable realLogits, Variable fakeLogits) {
        return softplus(fakeLogits).mean().add(softplus(realLogits.neg()).mean());
    }

    /** The generator's GAN loss {@code L_G_gan = mean softplus(-l_fake)} (spec §2.4). */
    public static Variable generatorLoss(Variable fakeLogits) {
        return softplus(fakeLogits.neg()).mean();
    }
}
