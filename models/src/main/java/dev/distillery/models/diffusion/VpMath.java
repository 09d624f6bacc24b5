package dev.distillery.models.diffusion;

import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/** Shared pieces of the VP samplers: x0 post-processing (clip, dynamic thresholding) and noise draws. */
final class VpMath {
    private VpMath() {}

    /** Standard normal noise shaped like {@code x}, on its device and in its dtype. */
    static Tensor randnLike(Rng rng, Tensor x) {
        Tensor n = Tensor.randn(rng, x.dtype(), x.shape());
        return x.device().equals(Device.CPU) ? n : n.to(x.device());
    }

    /**
     * diffusers' step 4 of {@code DDIMScheduler.step} / step 3 of {@code DDPMScheduler.step}: dynamic thresholding
     * when {@code thresholding}, else clamping to [-clip_sample_range, clip_sample_range] when {@code clip_sample}.
     */
    static Tensor processX0(Tensor x0, SchedulerConfig c) {
        if (c.thresholding()) return dynamicThreshold(x0, c.dynamicThresholdingRatio(), c.sampleMaxValue());
        if (c.clipSample()) return x0.clamp(-c.clipSampleRange(), c.clipSampleRange());
        return x0;
    }

    /**
     * Dynamic thresholding (Saharia et al. 2022, Imagen; diffusers {@code _threshold_sample}): per batch element,
     * {@code s = clamp(quantile(|x0|, ratio), 1, maxValue)} (linear-interpolated quantile, as torch.quantile), then
     * {@code x0 = clamp(x0, -s, s) / s}.
     */
    static Tensor dynamicThreshold(Tensor x0, double ratio, double maxValue) {
        int b = x0.size(0);
        int per = x0.numel() / b;
        double[] v = x0.toDoubleArray();
        double[] s = new double[b];
        double[] row = new double[per];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < per; j++) row[j] = Math.abs(v[i * per + j]);
            Arrays.sort(row);
            double pos = ratio * (per - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, per - 1);
            double q = row[lo] + (row[hi] - row[lo]) * (pos - lo);
            s[i] = Math.min(Math.max(q, 1.0), maxValue); // torch.clamp(min=1, max=maxValue): max wins
        }
        int[] shape = new int[x0.dim()];
        Arrays.fill(shape, 1);
        shape[0] = b;
        Tensor st = Tensor.of(s, shape).to(x0.dtype());
        if (!x0.device().equals(Device.CPU)) st = st.to(x0.device());
        return x0.maximum(st.neg()).minimum(st).div(st);
    }
}
