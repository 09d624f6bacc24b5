package dev.distillery.tensor.testing;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.cpu.CpuBackend;

import java.util.Arrays;
import java.util.Set;

/**
 * The backend that the {@code Cpu*VsReferenceTest} classes compare with the reference backend. By default the
 * {@link CpuBackend}; with {@code -Ddistillery.test.backend=tornado:0} (set by the TornadoVM module's parity run) a
 * {@link HostRoundTripBackend} over that device's backend, so the very same tests (shapes, layouts, special values,
 * tolerances) check the device kernels.
 */
public final class BackendUnderTest {
    /** The system property naming the device whose backend the parity tests run ({@code cpu} when absent). */
    public static final String PROPERTY = "distillery.test.backend";
    /** Storage types a device backend holds (TornadoVM: floats in F32; ids and masks in its int arena). */
    private static final Set<DType> DEVICE_DTYPES = Set.of(DType.F32, DType.I64, DType.BOOL);

    /**
     * Device tolerances where the CPU backend is (nearly) bit-identical to the reference. OpenCL's pow may be 16 ulp
     * from the correctly rounded result. Normal draws go through the device's log and cos: on PoCL the standard
     * normal z came within about 5 float ulps of |z|, so a draw mean + std z is within 8 ulp of std |z| (atol 8e-6 for
     * the test's std 2 and |z| up to 5). Bilinear resizing computes source coordinates in float, the CPU in double: a
     * coordinate near 30 is off by up to an ulp (2e-6), times neighbour differences of a few units.
     */
    public static final double DEVICE_POW_RTOL = 16 * 0x1p-23, DEVICE_NORMAL_RTOL = 8 * 0x1p-23, DEVICE_NORMAL_ATOL = 8e-6,
            DEVICE_BILINEAR_ATOL = 1e-5;

    private static final Backend BACKEND = create();

    private BackendUnderTest() {}

    private static Backend create() {
        String name = System.getProperty(PROPERTY, "cpu");
        if (name.equals("cpu")) return CpuBackend.create();
        return new HostRoundTripBackend(Backends.forDevice(Device.parse(name)), DEVICE_DTYPES);
    }

    /** The backend under test. */
    public static Backend get() {
        return BACKEND;
    }

    /** True when the CPU backend itself is under test (CPU-only checks such as thread counts apply). */
    public static boolean isCpu() {
        return BACKEND instanceof CpuBackend;
    }

    /** Whether the backend under test computes with all of {@code dtypes} (the CPU backend: every dtype). */
    public static boolean supports(DType... dtypes) {
        if (!(BACKEND instanceof HostRoundTripBackend rt)) return true;
        for (DType d : dtypes) if (!rt.deviceDtypes().contains(d)) return false;
        return true;
    }

    /** The entries of {@code dtypes} the backend under test supports, in order. */
    public static DType[] supported(DType... dtypes) {
        return Arrays.stream(dtypes).filter(BackendUnderTest::supports).toArray(DType[]::new);
    }
}
