package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;

/**
 * One dataset item: an F32 image {@code [C, H, W]} in [-1, 1] (or a point {@code [D]} for toy data), a class label
 * ({@link #NO_LABEL} when there is none) and a caption ({@code null} when there is none).
 */
public record Sample(Tensor image, int label, String caption) {
    public static final int NO_LABEL = -1;

    public Sample(Tensor image, int label) {
        this(image, label, null);
    }
}
