package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.Tensor;

/**
 * The EDM denoising score-matching loss used to fit a score network to samples (spec disback.md §2.4, L_fake
 * Eq. (5) and L_deg Eq. (7), in Diff-Instruct's denoiser form):
 * {@code L = mean_{b,i} lambda(sigma_b) (D(x0 + sigma_b n; sigma_b) - x0)^2} with
 * {@code lambda = (sigma^2 + sigma_d^2)/(sigma sigma_d)^2} ({@link EdmPreconditioning#lossWeight}). The samples
 * {@code x0} are constants: nothing flows back to whatever produced them. The same loss trains a teacher on data.
 */
public final class DenoisingScoreMatching {
    private DenoisingScoreMatching() {}

    /**
     * @param x0    clean samples [B, ...] (constants)
     * @param sigma one noise level per sample
     * @param noise standard normal noise, same shape as x0
     */
    public static Variable loss(EdmDenoiserNet net, Tensor x0, Tensor cond, double[] sigma, Tensor noise) {
        int b = x0.size(0);
        double[] w = new double[b];
        EdmPreconditioning pre = net.preconditioning();
        for (int i = 0; i < b; i++) w[i] = pre.lossWeight(sigma[i]);
        Tensor xt = x0.add(noise.mul(EdmDenoiserNet.perSample(sigma, x0)));
        Variable d = net.denoise(Variable.constant(xt), sigma, cond);
        return d.sub(Variable.constant(x0)).square().mul(Variable.constant(EdmDenoiserNet.perSample(w, x0))).mean();
    }
}
