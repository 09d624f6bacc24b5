package dev.distillery.tensor.backend;

import dev.distillery.tensor.Device;
import dev.distillery.tensor.backend.cpu.CpuBackend;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Finds the backend for a device. The CPU has two: {@link CpuBackend} (default) and {@link ReferenceBackend},
 * chosen with {@code -Ddistillery.backend=cpu|reference} or, for one block of code, {@link #using}. Other device
 * kinds come from {@link BackendProvider} services (the TornadoVM module), with a clear error when absent.
 */
public final class Backends {
    private static final ScopedValue<Backend> OVERRIDE = ScopedValue.newInstance();
    private static final Map<Device, Backend> DEVICES = new ConcurrentHashMap<>();
    private static volatile Backend cpu;

    private Backends() {}

    /** The backend that runs ops for tensors on {@code device}. */
    public static Backend forDevice(Device device) {
        if (OVERRIDE.isBound()) {
            Backend b = OVERRIDE.get();
            if (b.device().equals(device)) return b;
        }
        if (device.equals(Device.CPU)) return cpu();
        return DEVICES.computeIfAbsent(device, Backends::load);
    }

    /** The default CPU backend. */
    public static Backend cpu() {
        Backend b = cpu;
        if (b == null) {
            synchronized (Backends.class) {
                if (cpu == null) cpu = createCpu(System.getProperty("distillery.backend", "cpu"));
                b = cpu;
            }
        }
        return b;
    }

    private static Backend createCpu(String name) {
        return switch (name) {
            case "cpu" -> CpuBackend.create();
            case "reference" -> ReferenceBackend.INSTANCE;
            default -> throw new IllegalArgumentException("-Ddistillery.backend must be 'cpu' or 'reference', got '" + name + "'");
        };
    }

    private static Backend load(Device device) {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class))
            if (p.kind().equals(device.kind())) return p.create(device.index());
        throw new IllegalStateException("no backend for device " + device + ": "
                + (device.kind().equals("tornado")
                    ? "the TornadoVM backend is not on the class path (build with TORNADOVM_HOME set, which enables the 'tornado' Maven profile, and run with the SDK's tornado-argfile)"
                    : "known kinds are 'cpu' and 'tornado'"));
    }

    /** Runs {@code body} with {@code backend} serving its device on this thread (tests compare backends this way). */
    public static <T> T using(Backend backend, Supplier<T> body) {
        return ScopedValue.where(OVERRIDE, backend).call(body::get);
    }
}
