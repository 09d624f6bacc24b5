package dev.distillery.distill.disback;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.distill.data.GaussianMixture;
import dev.distillery.distill.data.Toy2d;
import dev.distillery.distill.metrics.Mmd;
import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.OneStepGenerator;
import dev.distillery.distill.viz.ScatterPlot;
import dev.distillery.models.diffusion.SlicedWasserstein;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The 2-D toy metrics of spec disback.md §6A, on {@code n} generator samples from fixed latents against {@code n}
 * fixed held-out data points:
 * <ul>
 *   <li>{@code sw2}: sliced Wasserstein-2, 128 projections with a fixed seed (the primary metric);</li>
 *   <li>{@code mmd2}: the sum of RBF MMD^2 at three bandwidths, {@code mmd2_bw*} each. The spec's {0.02, 0.1, 0.5}
 *       are for a ring of radius 1; our ring8 has radius {@value Toy2d#RING_RADIUS}, so they are scaled by it;</li>
 *   <li>ring8 only: {@code modes_covered} (modes receiving at least 5% of the samples within 3 std of their centre),
 *       {@code precision} (fraction of samples within 3 std of some centre), and the score mismatch on generator
 *       samples against the exact mixture: {@code mismatch_teacher} and {@code mismatch_target}, the mean over
 *       sigma in {@link #MISMATCH_SIGMAS} of {@code E ||D_net(x_t; sigma) - D_exact(x_t; sigma)||^2} with
 *       {@code x_t = G(z) + sigma eps}. This is the spec's {@code E ||s_net - grad log p_sigma||^2} weighted by
 *       sigma^4 (the denoiser form keeps small sigmas from dominating).</li>
 * </ul>
 */
public final class ToyEvaluator implements Evaluator {
    public static final double[] MISMATCH_SIGMAS = {0.1, 0.3, 1.0, 3.0};
    private static final double[] SPEC_BANDWIDTHS = {0.02, 0.1, 0.5};
    private final Toy2d.Kind kind;
    private final int n;
    private final long seed;
    private final Tensor reference;
    private final GaussianMixture mixture;

    public ToyEvaluator(Toy2d.Kind kind, int n, long seed) {
        this.kind = kind;
        this.n = n;
        this.seed = seed;
        this.reference = Toy2d.sample(kind, new Rng(seed).fork(1), n);
        this.mixture = kind == Toy2d.Kind.RING8 ? Toy2d.ring8Mixture() : null;
    }

    @Override
    public String primaryMetric() {
        return "sw2";
    }

    Tensor samples(OneStepGenerator g) {
        return g.sample(new Rng(seed).fork(2), n, 4096, null);
    }

    @Override
    public Map<String, Double> evaluate(OneStepGenerator generator, EdmDenoiserNet target, EdmDenoiserNet teacher) {
        Tensor gen = samples(generator);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("sw2", SlicedWasserstein.distance(gen, reference, 128, new Rng(seed).fork(3)));
        double total = 0;
        for (double b : SPEC_BANDWIDTHS) {
            double bw = b * Toy2d.RING_RADIUS;
            double v = Mmd.compute(gen, reference, bw).mmd2();
            m.put(String.format(Locale.ROOT, "mmd2_bw%.2f", bw), v);
            total += v;
        }
        m.put("mmd2", total);
        if (mixture != null) {
            double[] p = gen.toDoubleArray();
            int k = mixture.components();
            int[] hits = new int[k];
            int near = 0;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < k; c++) {
                    double[] mu = mixture.mean(c);
                    double dx = p[2 * i] - mu[0], dy = p[2 * i + 1] - mu[1];
                    if (Math.sqrt(dx * dx + dy * dy) <= 3 * Math.sqrt(mixture.variance(c))) {
                        hits[c]++;
                        near++;
                        break;
                    }
                }
            }
            int covered = 0;
            for (int h : hits) if (h >= 0.05 * n) covered++;
            m.put("modes_covered", (double) covered);
            m.put("precision", near / (double) n);
            m.put("mismatch_teacher", mismatch(teacher, gen));
            m.put("mismatch_target", target == teacher ? m.get("mismatch_teacher") : mismatch(target, gen));
        }
        return m;
    }

    /** Mean over {@link #MISMATCH_SIGMAS} of the squared error of {@code net}'s denoiser against the exact one, at noised samples. */
    double mismatch(EdmDenoiserNet net, Tensor gen) {
        Rng r = new Rng(seed).fork(4);
        double total = 0;
        for (double s : MISMATCH_SIGMAS) {
            Tensor xt = gen.add(Tensor.randn(r, DType.F32, gen.shape()).mul(s));
            double[] sig = new double[gen.size(0)];
            java.util.Arrays.fill(sig, s);
            double[] a, b;
            try (var g = NoGrad.enter()) {
                a = net.denoise(Variable.constant(xt.to(net.device())), sig, null).value().toDoubleArray(); // host draws; read back
            }
            b = mixture.denoiseEdm(xt, s).toDoubleArray();
            double se = 0;
            for (int i = 0; i < a.length; i++) se += (a[i] - b[i]) * (a[i] - b[i]);
            total += se / gen.size(0);
        }
        return total / MISMATCH_SIGMAS.length;
    }

    @Override
    public void writeSamples(Path png, OneStepGenerator generator, String title) throws IOException {
        ScatterPlot.compare(png, samples(generator), reference, 3.0, 560, title);
    }
}
