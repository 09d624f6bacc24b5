package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Device;
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

    /**
     * Moves this parameter's tensor (and any accumulated gradient) to {@code device}, keeping this object: what
     * holds the parameter sees the moved tensor. A no-op when it is already there. For {@link Module#to}.
     */
    void moveTo(Device device) {
        if (!value().device().equals(device)) replaceValue(value().to(device));
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
