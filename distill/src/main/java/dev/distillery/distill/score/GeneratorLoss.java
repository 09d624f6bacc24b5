package dev.distillery.distill.score;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Tensor;

import java.util.Locale;

/**
 * The generator's score-distillation loss (spec disback.md §2.4, L_gen, paper Eq. (8)). Both forms take the
 * generator's output {@code x0} (with its graph) and the two denoisers evaluated without gradient at
 * {@code x_t = sg(x0) + sigma eps}: the fake score's {@code D_phi(x_t)} and the target's {@code D_tgt(x_t)}. The only
 * gradient path is through {@code x0}; the scores are constants.
 * <ul>
 *   <li>{@link #DIFF_INSTRUCT}: {@code loss = (1/B) sum_{b,i} sg(D_phi - D_tgt)_{b,i} x0_{b,i}}, so
 *       {@code dloss/dx0 = (D_phi - D_tgt)/B = sigma^2 (s_phi - s_tgt)/B} (weight w(sigma) = sigma^2).</li>
 *   <li>{@link #DMD2}: {@code p_real = x0 - D_tgt}, {@code p_fake = x0 - D_phi},
 *       {@code g = (p_real - p_fake) / mean_{features}|p_real|} per sample (non-finite entries set to 0, as
 *       DMD2's nan_to_num), {@code loss = 0.5 mean((x0 - sg(x0 - g))^2)}, so {@code dloss/dx0 = g / numel}.</li>
 * </ul>
 * A descent step moves x0 toward the target's denoised estimate and away from the fake's in both forms.
 */
public enum GeneratorLoss {
    DIFF_INSTRUCT, DMD2;

    /** The loss variable; backward() puts the gradient into the generator through {@code x0}. */
    public Variable loss(Variable x0, Tensor dFake, Tensor dTarget) {
        return switch (this) {
            case DIFF_INSTRUCT -> x0.mul(Variable.constant(dFake.sub(dTarget))).sum().div(x0.size(0));
            case DMD2 -> {
                Tensor g = dmd2Gradient(x0.value(), dFake, dTarget);
                Tensor target = x0.value().sub(g);
                yield x0.sub(Variable.constant(target)).square().mean().mul(0.5);
            }
        };
    }

    /** DMD2's normalised score difference g (per-sample normalisation by mean |x0 - D_tgt|). */
    public static Tensor dmd2Gradient(Tensor x0, Tensor dFake, Tensor dTarget) {
        int b = x0.size(0);
        Tensor pReal = x0.sub(dTarget), pFake = x0.sub(dFake);
        double[] diff = pReal.sub(pFake).toDoubleArray(), real = pReal.toDoubleArray();
        int per = diff.length / b;
        double[] g = new double[diff.length];
        for (int s = 0; s < b; s++) {
            double norm = 0;
            for (int i = 0; i < per; i++) norm += Math.abs(real[s * per + i]);
            norm /= per;
            for (int i = 0; i < per; i++) {
                double v = diff[s * per + i] / norm;
                g[s * per + i] = Double.isFinite(v) ? v : 0;
            }
        }
        return Tensor.of(g, x0.shape()).to(x0.dtype()).to(x0.device());
    }

    public static GeneratorLoss parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "di", "diff_instruct", "vsd" -> DIFF_INSTRUCT;
            case "dmd2", "dmd" -> DMD2;
            default -> throw new IllegalArgumentException("--generator-loss: unknown form '" + name + "' (expected di or dmd2)");
        };
    }

    public String cliName() {
        return this == DIFF_INSTRUCT ? "di" : "dmd2";
    }
}
