package dev.distillery.autograd.nn;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Storage;

/**
 * A storage that has a type and a length but no elements: the placeholder behind parameters built under
 * {@link Init#shapeOnly}. It lives on the {@link #DEVICE meta} device, for which there is no backend, so any
 * arithmetic, copy or {@link dev.distillery.autograd.nn.Module#loadStateDict} on such a tensor fails with
 * "no backend for device meta" instead of computing on garbage; element access throws
 * {@link UnsupportedOperationException}. Shapes, names, {@code numel} and parameter counts work as usual.
 */
public record MetaStorage(DType dtype, int length) implements Storage {
    /** The device of shape-only tensors (PyTorch's {@code meta}). */
    public static final Device DEVICE = new Device("meta", 0);

    public MetaStorage {
        if (dtype == null) throw new IllegalArgumentException("MetaStorage: dtype must not be null");
        if (length < 0) throw new IllegalArgumentException("MetaStorage: length must be >= 0, got " + length);
    }

    @Override
    public Device device() {
        return DEVICE;
    }

    @Override
    public double getDouble(int i) {
        throw new UnsupportedOperationException("a shape-only (meta) tensor has no elements to read");
    }

    @Override
    public void setDouble(int i, double v) {
        throw new UnsupportedOperationException("a shape-only (meta) tensor has no elements to write");
    }
}
