package dev.distillery.distill.data;

/**
 * Separable resampling of float image planes with half-pixel centres: an area (box) filter when shrinking an axis,
 * bilinear interpolation with clamped edges when enlarging it, a copy when the size is unchanged.
 */
public final class Resample {
    private Resample() {}

    /** Resizes {@code c} planes of {@code inH x inW} (row-major, plane after plane) to {@code outH x outW}. */
    public static float[] resize(float[] in, int c, int inH, int inW, int outH, int outW) {
        if (inH == outH && inW == outW) return in.clone();
        Weights wy = weights(inH, outH), wx = weights(inW, outW);
        float[] tmp = new float[c * inH * outW];
        for (int p = 0; p < c; p++)
            for (int y = 0; y < inH; y++) {
                int rowIn = (p * inH + y) * inW, rowOut = (p * inH + y) * outW;
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    for (int k = wx.start[x]; k < wx.start[x] + wx.w[x].length; k++) s += wx.w[x][k - wx.start[x]] * in[rowIn + k];
                    tmp[rowOut + x] = (float) s;
                }
            }
        float[] out = new float[c * outH * outW];
        for (int p = 0; p < c; p++)
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    for (int k = wy.start[y]; k < wy.start[y] + wy.w[y].length; k++) s += wy.w[y][k - wy.start[y]] * tmp[(p * inH + k) * outW + x];
                    out[(p * outH + y) * outW + x] = (float) s;
                }
        return out;
    }

    private record Weights(int[] start, double[][] w) {}

    private static Weights weights(int in, int out) {
        int[] start = new int[out];
        double[][] w = new double[out][];
        double scale = (double) in / out;
        for (int o = 0; o < out; o++) {
            if (scale > 1) { // area: input interval [o*scale, (o+1)*scale)
                double a = o * scale, b = (o + 1) * scale;
                int i0 = (int) Math.floor(a), i1 = Math.min(in - 1, (int) Math.ceil(b) - 1);
                start[o] = i0;
                w[o] = new double[i1 - i0 + 1];
                for (int i = i0; i <= i1; i++) w[o][i - i0] = (Math.min(b, i + 1) - Math.max(a, i)) / scale;
            } else if (scale == 1) {
                start[o] = o;
                w[o] = new double[]{1};
            } else { // bilinear with half-pixel centres
                double src = Math.clamp((o + 0.5) * scale - 0.5, 0, in - 1);
                int i0 = Math.min((int) Math.floor(src), in - 1);
                double f = src - i0;
                start[o] = i0;
                w[o] = i0 + 1 < in ? new double[]{1 - f, f} : new double[]{1};
            }
        }
        return new Weights(start, w);
    }
}
