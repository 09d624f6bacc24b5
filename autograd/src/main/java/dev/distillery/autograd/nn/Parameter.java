package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Tensor;

/**
 * A trainable leaf owned by a {@link Module}. Its tensor is updated in place by optimisers (so graphs built before
 * a step must be backpropagated before that step, as in PyTorch) and replaced in place by
 * {@link Module#loadStateDict}.
 */
public final class Parameter extends Variable {
    private boolean frozen;

    public Parameter(Tensor value) {
        // Optimisers update the storage in place, so a parameter owns a compact contiguous copy.
        super(value.isContiguous() && value.offset() == 0 && value.storage().length() == value.numel() ? value : value.copy(), true);
    }

    /** True when frozen: no gradient is accumulated and optimisers skip it. */
    public boolean isFrozen() {
        return frozen;
    }

    public void setFrozen(boolean frozen) {
        this.frozen = frozen;
        setRequiresGrad(!frozen);
        if (frozen) zeroGrad();
    }
}
