package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;

import java.util.Arrays;

/** Images held as one float array {@code [N, C, H, W]} with integer labels. */
public final class InMemoryDataset implements Dataset {
    private final float[] data;
    private final int[] labels;
    private final int c, h, w;

    public InMemoryDataset(float[] data, int[] labels, int c, int h, int w) {
        if (data.length != labels.length * c * h * w) throw new IllegalArgumentException("data length " + data.length + " != " + labels.length + " x " + c + "x" + h + "x" + w);
        this.data = data;
        this.labels = labels;
        this.c = c;
        this.h = h;
        this.w = w;
    }

    /** Shape of every image, {@code [C, H, W]}. */
    public int[] imageShape() {
        return new int[]{c, h, w};
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Sample get(int i) {
        int n = c * h * w;
        return new Sample(Tensor.of(Arrays.copyOfRange(data, i * n, (i + 1) * n), c, h, w), labels[i]);
    }
}
