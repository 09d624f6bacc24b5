/**
 * Sample-quality metrics on feature vectors, all in double precision and pure Java: {@link
 * dev.distillery.distill.metrics.FrechetDistance} (FID formula, streaming {@link
 * dev.distillery.distill.metrics.FeatureStatistics}), {@link dev.distillery.distill.metrics.PrecisionRecall} (improved
 * precision/recall, k-NN radii), {@link dev.distillery.distill.metrics.Mmd} (unbiased RBF MMD^2), bundled by {@link
 * dev.distillery.distill.metrics.FeatureMetrics} into a {@link dev.distillery.distill.metrics.MetricsReport} together
 * with {@link dev.distillery.models.diffusion.SlicedWasserstein}. {@link dev.distillery.distill.metrics.SymmetricEigen}
 * is the symmetric eigen-solver behind the matrix square root (no matrix-library dependency).
 *
 * <p>The features themselves (e.g. an Inception or CLIP embedding of generated images) are computed elsewhere.
 */
package dev.distillery.distill.metrics;
