package dev.distillery.autograd.nn;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;

/**
 * Sinusoidal timestep features as diffusers' {@code get_timestep_embedding}: for half = dim/2 frequencies
 * f_i = exp(-ln(maxPeriod) i / (half - shift)), features [sin(t f), cos(t f)] (or [cos, sin] with
 * {@code flipSinToCos}), zero-padded when dim is odd.
 */
public final class TimestepEmbedding {
    private TimestepEmbedding() {}

    public static Tensor sinusoidal(Tensor timesteps, int dim, boolean flipSinToCos, double downscaleFreqShift, double scale, double maxPeriod) {
        if (timesteps.dim() != 1) throw new IllegalArgumentException("sinusoidal: timesteps must be 1-D, got " + java.util.Arrays.toString(timesteps.shape()));
        int half = dim / 2;
        Tensor exponent = Tensor.arange(half, DType.F32).to(timesteps.device()).mul(-Math.log(maxPeriod) / (half - downscaleFreqShift));
        Tensor args = timesteps.to(DType.F32).view(-1, 1).mul(exponent.exp().view(1, half)).mul(scale);
        Tensor sin = args.sin(), cos = args.cos();
        Tensor emb = Tensor.concat(flipSinToCos ? java.util.List.of(cos, sin) : java.util.List.of(sin, cos), 1);
        if (dim % 2 == 1) emb = emb.pad(new int[]{0, 1}, dev.distillery.tensor.backend.PadMode.CONSTANT, 0);
        return emb;
    }
}
