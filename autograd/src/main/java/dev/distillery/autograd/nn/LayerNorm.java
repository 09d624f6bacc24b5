package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;

/** Layer normalisation over the trailing dims; weight (ones) and bias (zeros) of that shape. */
public final class LayerNorm extends Module {
    public final int[] normalizedShape;
    public final double eps;
    public final Parameter weight;
    public final Parameter bias;

    public LayerNorm(int dim, double eps, boolean affine) {
        this(new int[]{dim}, eps, affine);
    }

    public LayerNorm(int[] normalizedShape, double eps, boolean affine) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = affine ? parameter("weight", Init.ones(normalizedShape)) : null;
        this.bias = affine ? parameter("bias", Init.zeros(normalizedShape)) : null;
    }

    public Variable forward(Variable x) {
        return x.layerNorm(normalizedShape, weight, bias, eps);
    }
}
