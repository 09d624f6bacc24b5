package dev.distillery.distill.cli;

import dev.distillery.tensor.Device;
import dev.distillery.tensor.backend.Backends;
import picocli.CommandLine.Option;

/**
 * The {@code --device} flag of {@code train-teacher}, {@code sample} and {@code distill}: {@code cpu} (the default) or an accelerator
 * such as {@code tornado:0} (the TornadoVM backend; see the README). The device is checked before any work starts: a
 * malformed value or a backend that is not on the class path is a one-line usage error naming the flag (exit code 2).
 */
final class DeviceOption {
    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
            description = "Where to train/sample: cpu, or tornado:N (TornadoVM; run ./distillery with TORNADOVM_HOME set). Default: ${DEFAULT-VALUE}.")
    String device;

    /** The parsed device, its backend loaded; an {@link IllegalArgumentException} (shown as one line, exit 2) when it cannot be used. */
    Device resolve() {
        Device d;
        try {
            d = Device.parse(device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device " + device + ": " + e.getMessage());
        }
        if (d.equals(Device.CPU)) return d;
        try {
            Backends.forDevice(d);
        } catch (RuntimeException | LinkageError e) {
            String msg = e.getMessage() != null ? e.getMessage() : e.toString();
            throw new IllegalArgumentException("--device " + device + ": " + msg.replace('\n', ' '));
        }
        return d;
    }
}
