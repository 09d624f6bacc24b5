package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Dropout;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code ResnetBlock2D} with {@code time_embedding_norm="default"}, SiLU, no up/down sampling:
 * <pre>
 *   h = conv1(silu(norm1(x))) + time_emb_proj(silu(temb))[:, :, None, None]
 *   h = conv2(dropout(silu(norm2(h))))
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

    /**
     * @param tembChannels width of the time embedding, or 0 for a block without one
     */
    public ResnetBlock2D(int in, int out, int tembChannels, int groups, double eps, double dropoutP, double outputScaleFactor, Rng rng) {
        norm1 = child("norm1", new GroupNorm(groups, in, eps, true));
        conv1 = child("conv1", new Conv2d(in, out, 3, 1, 1, true, rng));
        timeEmbProj = tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, out, true, rng)) : null;
        norm2 = child("norm2", new GroupNorm(groups, out, eps, true));
        dropout = child("dropout", new Dropout(dropoutP, rng.fork(1)));
        conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1, true, rng));
        convShortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0, true, rng)) : null;
        this.outputScaleFactor = outputScaleFactor;
    }

    /** @param temb [N, tembChannels] or null */
    public Variable forward(Variable x, Variable temb) {
        Variable h = conv1.forward(norm1.forward(x).silu());
        if (timeEmbProj != null && temb != null) h = h.add(timeEmbProj.forward(temb.silu()).unsqueeze(-1).unsqueeze(-1));
        h = conv2.forward(dropout.forward(norm2.forward(h).silu()));
        Variable y = (convShortcut != null ? convShortcut.forward(x) : x).add(h);
        return outputScaleFactor == 1 ? y : y.div(outputScaleFactor);
    }
}
