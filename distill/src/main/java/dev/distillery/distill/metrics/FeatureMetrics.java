package dev.distillery.distill.metrics;

import dev.distillery.models.diffusion.SlicedWasserstein;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/**
 * All sample-quality metrics of this package on one pair of feature sets, as a {@link MetricsReport} with the keys
 * {@code fid}, {@code precision}, {@code recall}, {@code mmd2}, {@code mmd_bandwidth} and, when
 * {@code swProjections > 0}, {@code sw1} (sliced Wasserstein-1 from {@link SlicedWasserstein}).
 */
public final class FeatureMetrics {
    /**
     * @param k             k of the k-NN radii for precision/recall
     * @param mmdBandwidth  RBF bandwidth sigma; NaN selects the median heuristic
     * @param swProjections random directions for sliced Wasserstein-1; 0 skips it
     * @param seed          seed of the sliced-Wasserstein directions
     */
    public record Options(int k, double mmdBandwidth, int swProjections, long seed) {
        public static Options defaults() {
            return new Options(PrecisionRecall.DEFAULT_K, Double.NaN, 128, 0);
        }
    }

    private FeatureMetrics() {}

    public static MetricsReport compare(Tensor real, Tensor fake) {
        return compare(real, fake, Options.defaults());
    }

    public static MetricsReport compare(Tensor real, Tensor fake, Options options) {
        FeatureStatistics.checkMatrix(real);
        FeatureStatistics.checkMatrix(fake);
        if (real.size(1) != fake.size(1))
            throw new IllegalArgumentException("feature dimension mismatch: " + real.size(1) + " vs " + fake.size(1));
        int n = real.size(0), m = fake.size(0), dim = real.size(1);
        double[] r = real.toDoubleArray(), f = fake.toDoubleArray();
        double fid = FrechetDistance.compute(FeatureStatistics.of(r, n, dim), FeatureStatistics.of(f, m, dim));
        PrecisionRecall.Result pr = PrecisionRecall.compute(r, n, f, m, dim, options.k());
        double sigma = Double.isNaN(options.mmdBandwidth()) ? Mmd.medianDistance(r, n, f, m, dim) : options.mmdBandwidth();
        Mmd.Result mmd = Mmd.compute(r, n, f, m, dim, sigma);
        MetricsReport report = MetricsReport.empty()
                .with("fid", fid)
                .with("precision", pr.precision())
                .with("recall", pr.recall())
                .with("mmd2", mmd.mmd2())
                .with("mmd_bandwidth", mmd.bandwidth());
        if (options.swProjections() > 0)
            report = report.with("sw1", SlicedWasserstein.distance(r, n, f, m, dim, options.swProjections(),
                    new Rng(options.seed()), 1));
        return report;
    }
}
