package dev.distillery.tensor.tornado;

import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.BackendProvider;

/** Registers {@link TornadoBackend} for devices {@code tornado:K} (found by {@code Backends} through ServiceLoader). */
public final class TornadoBackendProvider implements BackendProvider {
    @Override
    public String kind() {
        return "tornado";
    }

    @Override
    public Backend create(int deviceIndex) {
        try {
            return new TornadoBackend(deviceIndex);
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            throw new IllegalStateException("the TornadoVM runtime did not start: run java with the SDK's flags (java @$TORNADOVM_HOME/tornado-argfile ...)", e);
        }
    }
}
