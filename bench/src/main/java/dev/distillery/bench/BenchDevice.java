package dev.distillery.bench;

import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;

import java.util.List;

/**
 * The device a benchmark runs on: {@code -Ddistillery.bench.device=tornado:0} (default {@code cpu}). Specs make their
 * inputs on the host and move them with {@link #put}, once, before timing; {@link #sync} ends every timed run by
 * reading one element of its first output, so a device's queued kernels are inside the measured time (the CPU
 * backend is synchronous and skips this).
 */
public final class BenchDevice {
    private static final Device DEVICE = Device.parse(System.getProperty("distillery.bench.device", "cpu"));

    private BenchDevice() {}

    public static Device device() {
        return DEVICE;
    }

    /** {@code t} on the benchmark device (itself on the CPU). */
    public static Tensor put(Tensor t) {
        return t == null ? null : t.to(DEVICE);
    }

    /** Waits for the device to finish the work that produced {@code result}; returns null. */
    public static Object sync(Object result) {
        if (DEVICE.equals(Device.CPU)) return null;
        List<Tensor> ts = Outputs.tensors(result);
        if (ts.isEmpty()) return null;
        Tensor t = ts.getFirst();
        if (t.numel() > 0 && !t.device().equals(Device.CPU)) t.reshape(-1).narrow(0, 0, 1).to(Device.CPU);
        return null;
    }
}
