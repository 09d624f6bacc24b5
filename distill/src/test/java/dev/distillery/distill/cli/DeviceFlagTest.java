package dev.distillery.distill.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --device} without an accelerator backend on the class path (the default build has no TornadoVM): a one-line
 * error naming the flag, exit code 2, no stack trace, and nothing written. {@code --device cpu} (the default) trains
 * exactly as without the flag.
 */
class DeviceFlagTest {
    static void assertOneLineDeviceError(MainTest.Out r, String value) {
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line, no stack trace:\n" + r.err());
        assertTrue(err.startsWith("error: --device " + value + ": "), err);
        assertFalse(err.contains("\tat "), err);
    }

    @Test
    void tornadoWithoutTheBackendIsAOneLineUsageError(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        MainTest.Out r = MainTest.run(MainTest.concat(new String[]{"train-teacher"}, MainTest.concat(MainTest.TINY, "--out", out.toString(), "--device", "tornado:0")));
        assertOneLineDeviceError(r, "tornado:0");
        assertTrue(r.err().contains("TornadoVM backend is not on the class path"), r.err());
        assertFalse(Files.exists(out), "nothing is written when the device cannot be used");
    }

    @Test
    void sampleWithTornadoWithoutTheBackendIsAOneLineUsageError(@TempDir Path tmp) {
        MainTest.Out r = MainTest.run("sample", "--run", tmp.toString(), "--device", "tornado:0");
        assertOneLineDeviceError(r, "tornado:0");
    }

    @Test
    void distillWithTornadoWithoutTheBackendIsAOneLineUsageError(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        MainTest.Out r = MainTest.run("distill", "--teacher", tmp.toString(), "--out", out.toString(), "--device", "tornado:0");
        assertOneLineDeviceError(r, "tornado:0");
        assertFalse(Files.exists(out), "nothing is written when the device cannot be used");
        assertOneLineDeviceError(MainTest.run("distill", "--resume", tmp.toString(), "--device", "tornado:0"), "tornado:0");
    }

    @Test
    void malformedAndUnknownDevicesAreOneLineUsageErrors() {
        assertOneLineDeviceError(MainTest.run("train-teacher", "--device", "tornado:x", "--steps", "1"), "tornado:x");
        MainTest.Out r = MainTest.run("train-teacher", "--device", "cuda:0", "--steps", "1");
        assertOneLineDeviceError(r, "cuda:0");
        assertTrue(r.err().contains("known kinds are 'cpu' and 'tornado'"), r.err());
    }

    @Test
    void deviceCpuIsTheDefaultAndTrainsIdentically(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        assertEquals(0, MainTest.run(MainTest.concat(new String[]{"train-teacher"}, MainTest.concat(MainTest.TINY, "--out", a.toString()))).code());
        assertEquals(0, MainTest.run(MainTest.concat(new String[]{"train-teacher"}, MainTest.concat(MainTest.TINY, "--out", b.toString(), "--device", "cpu"))).code());
        assertEquals(Files.readString(a.resolve("report.md")).replace(a.toString(), "X").lines().filter(l -> l.startsWith("|")).toList(),
                Files.readString(b.resolve("report.md")).replace(b.toString(), "X").lines().filter(l -> l.startsWith("|")).toList());
        assertTrue(Files.readString(tmp.resolve("a/config.json")).length() > 0);
        assertTrue(MainTest.run("train-teacher", "--help").out().contains("--device"));
        assertTrue(MainTest.run("sample", "--help").out().contains("--device"));
        assertTrue(MainTest.run("distill", "--help").out().contains("--device"));
    }
}
