package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Dropout;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code ResnetBlock2D} with SiLU, no up/down sampling, and {@code time_embedding_norm} "default"
 * (additive time embedding) or "scale_shift":
 * <pre>
 *   h = conv1(silu(norm1(x)))
 *   default:      h = conv2(dropout(silu(norm2(h + time_emb_proj(silu(temb))[:, :, None, None]))))
 *   scale_shift:  scale, shift = chunk(time_emb_proj(silu(temb)), 2);  h = conv2(dropout(silu(norm2(h) * (1 + scale) + shift)))
 *   y = (shortcut(x) + h) / output_scale_factor        shortcut = conv_shortcut (1x1) when channels change
 * </pre>
 * Parameter names are diffusers' ({@code norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut}).
 */
public final class ResnetBlock2D extends Module {
    public final GroupNorm norm1, norm2;
    public final Conv2d conv1, conv2, convShortcut;
    public final Linear timeEmbProj;
    public final Dropout dropout;
    private final double outputScaleFactor;
    private final boolean scaleShift;

    /**
     * @param tembChannels width of the time embedding, or 0 for a block without one
     */
    public ResnetBlock2D(int in, int out, int tembChannels, int groups, double eps, double dropoutP, double outputScaleFactor, Rng rng) {
        this(in, out, tembChannels, groups, eps, dropoutP, outputScaleFactor, false, rng);
    }

    /**
     * @param tembChannels width of the time embedding, or 0 for a block without one
     * @param scaleShift   {@code time_embedding_norm="scale_shift"}: time_emb_proj gives 2*out (scale, shift) applied after norm2
     */
    public ResnetBlock2D(int in, int out, int tembChannels, int groups, double eps, double dropoutP, double outputScaleFactor, boolean scaleShift,
                         Rng rng) {
        norm1 = child("norm1", new GroupNorm(groups, in, eps, true));
        conv1 = child("conv1", new Conv2d(in, out, 3, 1, 1, true, rng));
        timeEmbProj = tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, scaleShift ? 2 * out : out, true, rng)) : null;
        norm2 = child("norm2", new GroupNorm(groups, out, eps, true));
        dropout = child("dropout", new Dropout(dropoutP, UNetOps.dropoutRng(rng)));
        conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1, true, rng));
        convShortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0, true, rng)) : null;
        this.outputScaleFactor = outputScaleFactor;
        this.scaleShift = scaleShift;
    }

    /** @param temb [N, tembChannels] or null */
    public Variable forward(Variable x, Variable temb) {
        Variable t = timeEmbProj != null && temb != null ? timeEmbProj.forward(temb.silu()).unsqueeze(-1).unsqueeze(-1) : null;
        // the time embedding and the residual are added by the convolutions as they store (one op each, no extra pass)
        Variable h = t != null && !scaleShift ? conv1.forward(norm1.forwardSilu(x), t) : conv1.forward(norm1.forwardSilu(x));
        if (t != null && scaleShift) {
            int c = t.size(1) / 2;
            h = norm2.forward(h).mul(t.narrow(1, 0, c).add(1)).add(t.narrow(1, c, c)).silu();
        } else {
            h = norm2.forwardSilu(h);
        }
        Variable y = conv2.forward(dropout.forward(h), convShortcut != null ? convShortcut.forward(x) : x);
        return outputScaleFactor == 1 ? y : y.div(outputScaleFactor);
    }
}
