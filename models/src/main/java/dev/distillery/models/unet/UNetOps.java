package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/** Small shared pieces of the UNets: activations by diffusers name, timestep handling and features. */
final class UNetOps {
    private UNetOps() {}

    /**
     * A generator for one dropout layer: a fork of {@code rng} keyed by its current offset, so layers built one after
     * another (with weights drawn in between) get different masks, deterministically, without consuming draws.
     */
    static Rng dropoutRng(Rng rng) {
        return rng.fork(0x44524F504F5554L ^ rng.offset());
    }

    /** Checks an activation name ({@code get_activation}'s names that autograd has). */
    static String checkActivation(String field, String name) {
        switch (name) {
            case "silu", "swish", "gelu", "relu" -> {
                return name;
            }
            default -> throw new UnsupportedOperationException(field + " '" + name + "' is not supported (silu, swish, gelu, relu)");
        }
    }

    static Variable activation(String name, Variable x) {
        return switch (name) {
            case "silu", "swish" -> x.silu();
            case "gelu" -> x.gelu();
            case "relu" -> x.relu();
            default -> throw new UnsupportedOperationException("activation '" + name + "' is not supported");
        };
    }

    /**
     * Timestep values for a batch: a 0-d or one-element tensor is repeated {@code batch} times, a [batch] tensor
     * is taken as is (any numeric dtype), as diffusers' UNets do before {@code time_proj}.
     */
    static double[] timestepValues(Tensor timesteps, int batch) {
        if (timesteps.dim() > 1) throw new IllegalArgumentException("timesteps must be a scalar or 1-D, got shape " + Arrays.toString(timesteps.shape()));
        int n = timesteps.numel();
        double[] out = new double[batch];
        if (n == 1 || n == batch) {
            double[] v = timesteps.toDoubleArray(); // one download from a device
            if (n == 1) Arrays.fill(out, v[0]);
            else System.arraycopy(v, 0, out, 0, batch);
        } else {
            throw new IllegalArgumentException("timesteps: " + n + " values for a batch of " + batch + " (give 1 or " + batch + ")");
        }
        return out;
    }

    /**
     * diffusers' {@code get_timestep_embedding} (scale 1, max_period 10000) in float32 arithmetic step by step as
     * PyTorch computes it, so that large timesteps give the same sinusoid arguments: exponent_i =
     * f32(f32(i) * f32(-ln 10000)) / f32(half - shift), freq_i = exp(exponent_i), arg = f32(t) * freq_i;
     * [sin, cos] or [cos, sin] with {@code flipSinToCos}; zero-padded when dim is odd. Result [n, dim] F32.
     */
    static Tensor timestepFeatures(double[] timesteps, int dim, boolean flipSinToCos, double downscaleFreqShift) {
        int half = dim / 2, n = timesteps.length;
        float negLog = (float) -Math.log(10000);
        float denom = (float) (half - downscaleFreqShift);
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) {
            float e = (float) i * negLog;
            e = e / denom;
            freq[i] = (float) Math.exp(e);
        }
        float[] out = new float[n * dim];
        for (int b = 0; b < n; b++) {
            float t = (float) timesteps[b];
            for (int i = 0; i < half; i++) {
                float a = t * freq[i];
                float s = (float) Math.sin(a), c = (float) Math.cos(a);
                out[b * dim + i] = flipSinToCos ? c : s;
                out[b * dim + half + i] = flipSinToCos ? s : c;
            }
        }
        return Tensor.of(out, n, dim);
    }
}
