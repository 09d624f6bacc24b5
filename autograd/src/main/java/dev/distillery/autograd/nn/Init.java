package dev.distillery.autograd.nn;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;

import java.util.function.Supplier;

/**
 * PyTorch's default initialisations, so freshly built modules train like their PyTorch twins.
 *
 * <p><b>Shape-only construction.</b> Inside {@link #shapeOnly}, the initialisers here return storage-less
 * placeholders ({@link MetaStorage}, device {@code meta}) of the requested shape instead of drawing values, so a
 * module tree can be built to inspect its parameter names, shapes and counts without allocating its weights (an
 * SDXL UNet is 2.6 billion parameters, 10 GB in F32). The flag is a {@link ScopedValue}: it covers exactly the
 * code run by {@code shapeOnly}'s supplier on that thread, and nothing after it returns. Modules built that way can
 * be walked ({@link Module#namedParameters}, {@link Module#stateDict}, {@link Module#parameterCount}) but not run
 * or loaded: any op on a meta tensor fails with "no backend for device meta". Initialisers that bypass this class
 * (a module calling {@code Tensor.ones} directly) still allocate; route new modules' initial values through here.
 */
public final class Init {
    private Init() {}

    private static final ScopedValue<Boolean> SHAPE_ONLY = ScopedValue.newInstance();

    /** Runs {@code build} with shape-only initialisation and returns its result (a module built without weights). */
    public static <T> T shapeOnly(Supplier<T> build) {
        return ScopedValue.where(SHAPE_ONLY, Boolean.TRUE).call(build::get);
    }

    /** True inside {@link #shapeOnly}. */
    public static boolean isShapeOnly() {
        return SHAPE_ONLY.isBound() && SHAPE_ONLY.get();
    }

    /** True when {@code t} is a shape-only placeholder (it has no elements to read). */
    public static boolean isMeta(Tensor t) {
        return t.storage() instanceof MetaStorage;
    }

    /** A storage-less tensor of {@code shape} (what the initialisers return inside {@link #shapeOnly}). */
    public static Tensor meta(DType dtype, int... shape) {
        return Tensor.of(new MetaStorage(dtype, Shapes.numel(shape)), shape);
    }

    /**
     * {@code kaiming_uniform_(a=sqrt(5))}, PyTorch's default for Linear and Conv weights, which reduces to
     * U(-1/sqrt(fanIn), 1/sqrt(fanIn)); the same bound is PyTorch's default for their biases.
     */
    public static Tensor uniformFanIn(Rng rng, int fanIn, int... shape) {
        if (isShapeOnly()) return meta(DType.F32, shape);
        double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        return Tensor.uniform(rng, -bound, bound, DType.F32, shape);
    }

    /** F32 ones (norm weights), or a placeholder inside {@link #shapeOnly}. */
    public static Tensor ones(int... shape) {
        return isShapeOnly() ? meta(DType.F32, shape) : Tensor.ones(DType.F32, shape);
    }

    /** F32 zeros (norm biases), or a placeholder inside {@link #shapeOnly}. */
    public static Tensor zeros(int... shape) {
        return isShapeOnly() ? meta(DType.F32, shape) : Tensor.zeros(DType.F32, shape);
    }

    /** F32 N(0, 1) draws (embedding tables), or a placeholder inside {@link #shapeOnly}. */
    public static Tensor randn(Rng rng, int... shape) {
        return isShapeOnly() ? meta(DType.F32, shape) : Tensor.randn(rng, DType.F32, shape);
    }
}
