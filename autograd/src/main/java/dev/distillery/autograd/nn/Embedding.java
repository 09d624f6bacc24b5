package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

/** A lookup table [num, dim] initialised N(0, 1) as in PyTorch. */
public final class Embedding extends Module {
    public final Parameter weight;

    public Embedding(int num, int dim, Rng rng) {
        this.weight = parameter("weight", Init.randn(rng, num, dim));
    }

    /** Rows for I64 ids of any shape: ids.shape + [dim]. */
    public Variable forward(Tensor ids) {
        return Variable.embedding(weight, ids);
    }
}
