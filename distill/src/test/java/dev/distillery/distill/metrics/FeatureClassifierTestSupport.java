package dev.distillery.distill.metrics;

import dev.distillery.distill.data.Dataset;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/** Image sets for the metric tests. */
final class FeatureClassifierTestSupport {
    private FeatureClassifierTestSupport() {}

    static Tensor features(FeatureClassifier c, Tensor images) {
        return c.features(images);
    }

    /** Every image with its pixels permuted by one fixed random permutation (same pixel statistics, no digit shapes). */
    static Tensor shufflePixels(Tensor images, Rng rng) {
        int n = images.size(0), per = (int) (images.numel() / n);
        long[] perm = Tensor.randperm(rng, per).toLongArray();
        float[] src = images.contiguous().toFloatArray(), dst = new float[src.length];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < per; p++) dst[i * per + p] = src[i * per + (int) perm[p]];
        return Tensor.of(dst, images.shape());
    }

    /** The classifier's training split as one tensor. */
    static Tensor trainImages(FeatureClassifier c) {
        Dataset train = c.data().train();
        int[] shape = train.get(0).image().shape();
        int per = shape[0] * shape[1] * shape[2];
        float[] all = new float[train.size() * per];
        for (int i = 0; i < train.size(); i++) System.arraycopy(train.get(i).image().toFloatArray(), 0, all, i * per, per);
        return Tensor.of(all, train.size(), shape[0], shape[1], shape[2]);
    }
}
