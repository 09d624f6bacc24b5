/**
 * Sample-quality metrics on feature vectors, all in double precision and pure Java: {@link
 * dev.distillery.distill.metrics.FrechetDistance} (FID formula, streaming {@link
 * dev.distillery.distill.metrics.FeatureStatistics}), {@link dev.distillery.distill.metrics.PrecisionRecall} (improved
 * precision/recall, k-NN radii), {@link dev.distillery.distill.metrics.Mmd} (unbiased RBF MMD^2), bundled by {@link
 * dev.distillery.distill.metrics.FeatureMetrics} into a {@link dev.distillery.distill.metrics.MetricsReport} together
 * with {@link dev.distillery.models.diffusion.SlicedWasserstein}. {@link dev.distillery.distill.metrics.SymmetricEigen}
 * is the symmetric eigen-solver behind the matrix square root (no matrix-library dependency).
 *
 * <p>For the image datasets the features come from {@link dev.distillery.distill.metrics.FeatureClassifier}, a small
 * classifier per dataset trained by the project (fixed seed, cached by content hash); {@link
 * dev.distillery.distill.metrics.ImageMetrics} turns generated images into FD-&lt;dataset&gt; (the FID formula on those
 * features), precision/recall, class-conditional accuracy and class entropy ({@code distillery eval}).
 */
package dev.distillery.distill.metrics;
