package dev.distillery.tensor.backend;

/**
 * Service interface through which optional backends (TornadoVM) register for a device kind; listed in
 * {@code META-INF/services/dev.distillery.tensor.backend.BackendProvider}.
 */
public interface BackendProvider {
    /** The device kind served, e.g. {@code "tornado"}. */
    String kind();

    Backend create(int deviceIndex);
}
