package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;

/** Inverted dropout, active only in training mode; draws its masks from its own generator. */
public final class Dropout extends Module {
    public final double p;
    private final Rng rng;

    public Dropout(double p, Rng rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        this.p = p;
        this.rng = rng;
    }

    public Variable forward(Variable x) {
        return isTraining() && p > 0 ? x.dropout(p, rng) : x;
    }
}
