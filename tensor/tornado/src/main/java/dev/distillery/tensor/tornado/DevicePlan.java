package dev.distillery.tensor.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.Map;

/**
 * The device side of one {@code tornado:K} device: the two arenas, the per-launch argument buffers and one
 * {@link TornadoExecutionPlan} holding a task graph per {@link Kernel}.
 *
 * <p>Why one plan with fixed graphs: TornadoVM binds a task graph to the Java objects it names and caches compiled code
 * per plan, so a graph per op call would recompile (seconds) every time. Here every graph names the same arenas, so
 * each kernel compiles once, on its first launch, and serves every tensor through offsets in the argument buffer. The
 * arenas move to the device once (the {@code INIT} graph) and stay there: each graph consumes them from the graph that
 * ran before it and persists them for the next ({@code consumeFromDevice}/{@code persistOnDevice}). Only the argument
 * buffers, and the staging buffers of explicit transfers, cross the bus.
 *
 * <p>Launches are serialised (one plan, one argument buffer): the backend is called from one thread at a time.
 */
final class DevicePlan implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DevicePlan.class.getName());
    /**
     * OpenCL build options of every kernel ({@code -Ddistillery.tornado.opencl.flags}). TornadoVM's default,
     * {@code -cl-mad-enable -cl-fast-relaxed-math}, lets the compiler assume there is no NaN or infinity (NaN == x came
     * out true and NaN converted to bool false on PoCL) and fuse multiply-adds, so results moved off the CPU
     * backend's by more than rounding; IEEE semantics with correctly rounded division and sqrt keep the device within
     * the parity suite's tolerances. Faster, looser flags are a setting away.
     */
    static final String OPENCL_FLAGS = System.getProperty("distillery.tornado.opencl.flags", "-cl-fp32-correctly-rounded-divide-sqrt -w");

    /** Work-group size of the 1-D kernels. */
    static final int GROUP = 128;
    /**
     * Elements of the small staging buffers. A graph sends its whole staging array on every launch, so reading one
     * loss value through the big buffer ({@code -Ddistillery.tornado.stage.mb}) would move megabytes each time;
     * transfers up to this size go through small buffers instead.
     */
    static final int SMALL_STAGE = 1 << 16;
    /** Ints of the {@link #tensorTable}: {@link TornadoKernels#TABLE_ENTRY} per tensor (or chunk of one). */
    static final int TENSOR_TABLE = 8192;

    /** The graphs of the plan, in plan order. */
    enum Kernel {
        INIT, UPLOAD_FLOATS, UPLOAD_INTS, DOWNLOAD_FLOATS, DOWNLOAD_INTS,
        UPLOAD_FLOATS_SMALL, UPLOAD_INTS_SMALL, DOWNLOAD_FLOATS_SMALL, DOWNLOAD_INTS_SMALL, FILL, COPY, UNARY, UNARY_BACKWARD, BINARY, COMPARE, WHERE,
        REDUCE, ARG_REDUCE, MATMUL, MATMUL_BLOCKED, CONV, CONV_BLOCKED, SOFTMAX, SOFTMAX_BACKWARD, NORM, NORM_BACKWARD, ADAM, ADAM_MULTI, FOREACH,
        POOL, RESIZE, GATHER, SCATTER_ADD, RANDOM;

        /** Whether the kernel runs on a 2-D grid of TILE x TILE groups. */
        boolean tiled() { return this == MATMUL || this == MATMUL_BLOCKED || this == CONV || this == CONV_BLOCKED; }

        String graph() { return name().toLowerCase(); }

        String task() { return graph() + ".t"; }
    }

    final FloatArray floats;
    final IntArray ints;
    final IntArray args = new IntArray(KernelArgs.INTS);
    final FloatArray scalars = new FloatArray(KernelArgs.FLOATS);
    final int stageLength;
    private final FloatArray floatStageIn, floatStageOut, floatSmallIn, floatSmallOut;
    private final IntArray intStageIn, intStageOut, intSmallIn, intSmallOut;
    /**
     * The tensor table of the multi-tensor kernels ({@link TornadoKernels#adamMulti}, {@link TornadoKernels#foreach}),
     * sent with each of their launches: one launch for all the parameters of a model.
     */
    final IntArray tensorTable = new IntArray(TENSOR_TABLE);
    private final TornadoExecutionPlan plan;
    private final GridScheduler grids = new GridScheduler();
    private final Map<Kernel, WorkerGrid1D> grids1d = new EnumMap<>(Kernel.class);
    private final Map<Kernel, WorkerGrid2D> grids2d = new EnumMap<>(Kernel.class);
    private final TornadoDevice device;
    private long launches;
    /** Launch counts and nanoseconds per profile key ({@link #profileKey}), when profiling is on; else null. */
    private final Map<String, long[]> profile;
    /** Whether profile keys name the two calling methods outside the tensor packages (slow: a stack walk per launch). */
    private final boolean profileCallers;

    DevicePlan(TornadoDevice device, int floatCapacity, int intCapacity, int stageLength, boolean profile, boolean profileCallers) {
        this.device = device;
        this.profile = profile ? new java.util.TreeMap<>() : null;
        this.profileCallers = profileCallers;
        this.floats = new FloatArray(floatCapacity);
        this.ints = new IntArray(intCapacity);
        this.stageLength = stageLength;
        this.floatStageIn = new FloatArray(stageLength);
        this.floatStageOut = new FloatArray(stageLength);
        this.intStageIn = new IntArray(stageLength);
        this.intStageOut = new IntArray(stageLength);
        int small = Math.min(SMALL_STAGE, stageLength);
        this.floatSmallIn = new FloatArray(small);
        this.floatSmallOut = new FloatArray(small);
        this.intSmallIn = new IntArray(small);
        this.intSmallOut = new IntArray(small);
        KernelContext ctx = new KernelContext();
        Kernel[] kernels = Kernel.values();
        ImmutableTaskGraph[] graphs = new ImmutableTaskGraph[kernels.length];
        for (Kernel k : kernels) {
            TaskGraph g = new TaskGraph(k.graph());
            if (k == Kernel.INIT) g.transferToDevice(DataTransferMode.FIRST_EXECUTION, floats, ints);
            else g.consumeFromDevice(floats, ints);
            g.transferToDevice(DataTransferMode.EVERY_EXECUTION, args, scalars);
            switch (k) {
                case INIT -> g.task("t", TornadoKernels::noop, ctx, floats, ints, args, scalars);
                case UPLOAD_FLOATS -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, floatStageIn)
                        .task("t", TornadoKernels::uploadFloats, ctx, floats, ints, args, scalars, floatStageIn);
                case UPLOAD_INTS -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, intStageIn)
                        .task("t", TornadoKernels::uploadInts, ctx, floats, ints, args, scalars, intStageIn);
                case DOWNLOAD_FLOATS -> g.task("t", TornadoKernels::downloadFloats, ctx, floats, ints, args, scalars, floatStageOut)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, floatStageOut);
                case DOWNLOAD_INTS -> g.task("t", TornadoKernels::downloadInts, ctx, floats, ints, args, scalars, intStageOut)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, intStageOut);
                case UPLOAD_FLOATS_SMALL -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, floatSmallIn)
                        .task("t", TornadoKernels::uploadFloats, ctx, floats, ints, args, scalars, floatSmallIn);
                case UPLOAD_INTS_SMALL -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, intSmallIn)
                        .task("t", TornadoKernels::uploadInts, ctx, floats, ints, args, scalars, intSmallIn);
                case DOWNLOAD_FLOATS_SMALL -> g.task("t", TornadoKernels::downloadFloats, ctx, floats, ints, args, scalars, floatSmallOut)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, floatSmallOut);
                case DOWNLOAD_INTS_SMALL -> g.task("t", TornadoKernels::downloadInts, ctx, floats, ints, args, scalars, intSmallOut)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, intSmallOut);
                case FILL -> g.task("t", TornadoKernels::fill, ctx, floats, ints, args, scalars);
                case COPY -> g.task("t", TornadoKernels::copy, ctx, floats, ints, args, scalars);
                case UNARY -> g.task("t", TornadoKernels::unary, ctx, floats, ints, args, scalars);
                case UNARY_BACKWARD -> g.task("t", TornadoKernels::unaryBackward, ctx, floats, ints, args, scalars);
                case BINARY -> g.task("t", TornadoKernels::binary, ctx, floats, ints, args, scalars);
                case COMPARE -> g.task("t", TornadoKernels::compare, ctx, floats, ints, args, scalars);
                case WHERE -> g.task("t", TornadoKernels::where, ctx, floats, ints, args, scalars);
                case REDUCE -> g.task("t", TornadoKernels::reduce, ctx, floats, ints, args, scalars);
                case ARG_REDUCE -> g.task("t", TornadoKernels::argReduce, ctx, floats, ints, args, scalars);
                case MATMUL -> g.task("t", TornadoKernels::matmul, ctx, floats, ints, args, scalars);
                case MATMUL_BLOCKED -> g.task("t", TornadoKernels::matmulBlocked, ctx, floats, ints, args, scalars);
                case CONV -> g.task("t", TornadoKernels::conv, ctx, floats, ints, args, scalars);
                case CONV_BLOCKED -> g.task("t", TornadoKernels::convBlocked, ctx, floats, ints, args, scalars);
                case POOL -> g.task("t", TornadoKernels::pool, ctx, floats, ints, args, scalars);
                case RESIZE -> g.task("t", TornadoKernels::resize, ctx, floats, ints, args, scalars);
                case GATHER -> g.task("t", TornadoKernels::gather, ctx, floats, ints, args, scalars);
                case SCATTER_ADD -> g.task("t", TornadoKernels::scatterAdd, ctx, floats, ints, args, scalars);
                case RANDOM -> g.task("t", TornadoKernels::random, ctx, floats, ints, args, scalars);
                case SOFTMAX -> g.task("t", TornadoKernels::softmax, ctx, floats, ints, args, scalars);
                case SOFTMAX_BACKWARD -> g.task("t", TornadoKernels::softmaxBackward, ctx, floats, ints, args, scalars);
                case NORM -> g.task("t", TornadoKernels::norm, ctx, floats, ints, args, scalars);
                case NORM_BACKWARD -> g.task("t", TornadoKernels::normBackward, ctx, floats, ints, args, scalars);
                case ADAM -> g.task("t", TornadoKernels::adam, ctx, floats, ints, args, scalars);
                case ADAM_MULTI -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, tensorTable)
                        .task("t", TornadoKernels::adamMulti, ctx, floats, ints, args, scalars, tensorTable);
                case FOREACH -> g.transferToDevice(DataTransferMode.EVERY_EXECUTION, tensorTable)
                        .task("t", TornadoKernels::foreach, ctx, floats, ints, args, scalars, tensorTable);
            }
            g.persistOnDevice(floats, ints);
            graphs[k.ordinal()] = g.snapshot();
            if (k.tiled()) {
                WorkerGrid2D w = new WorkerGrid2D(TornadoKernels.TILE, TornadoKernels.TILE);
                w.setLocalWork(TornadoKernels.TILE, TornadoKernels.TILE, 1);
                grids2d.put(k, w);
                grids.addWorkerGrid(k.task(), w);
            } else {
                WorkerGrid1D w = new WorkerGrid1D(GROUP);
                w.setLocalWork(GROUP, 1, 1);
                grids1d.put(k, w);
                grids.addWorkerGrid(k.task(), w);
            }
        }
        plan = new TornadoExecutionPlan(graphs);
        plan.withDevice(device).withGridScheduler(grids).withCompilerFlags(TornadoVMBackendType.OPENCL, OPENCL_FLAGS);
        args.set(0, 0);
        launch1d(Kernel.INIT, 1);
    }

    /** The device of {@code tornado:index}: TornadoVM's devices numbered across its backends in their order. */
    static TornadoDevice findDevice(int index) {
        var runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int seen = 0;
        StringBuilder all = new StringBuilder();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            TornadoBackend backend = runtime.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++, seen++) {
                TornadoDevice dev = backend.getDevice(d);
                if (seen == index) return dev;
                all.append("\n  tornado:").append(seen).append(" = ").append(dev.getPhysicalDevice().getDeviceName())
                        .append(" (").append(backend.getName()).append(')');
            }
        }
        throw new IllegalArgumentException("no TornadoVM device tornado:" + index + "; devices found:" + (seen == 0 ? " none" : all));
    }

    String deviceName() {
        return device.getPhysicalDevice().getDeviceName() + " [" + device.getPlatformName() + "]";
    }

    long launches() { return launches; }

    /** Runs a 1-D kernel over {@code items} work-items (rounded up to whole groups; kernels check their bound). */
    synchronized void launch1d(Kernel k, long items) {
        if (items <= 0) return;
        long global = (items + GROUP - 1) / GROUP * GROUP;
        if (global > Integer.MAX_VALUE) throw new IllegalArgumentException(k + ": " + items + " work-items exceed the int index range");
        WorkerGrid1D w = grids1d.get(k);
        w.setGlobalWork(global, 1, 1);
        w.setLocalWork(GROUP, 1, 1);
        execute(k);
    }

    /** Runs a tiled kernel ({@link Kernel#tiled}) over a grid of {@code colTiles x rowTiles} groups of TILE x TILE work-items. */
    synchronized void launchTiled(Kernel k, long colTiles, long rowTiles) {
        if (colTiles <= 0 || rowTiles <= 0) return;
        if (colTiles * TornadoKernels.TILE > Integer.MAX_VALUE || rowTiles * TornadoKernels.TILE > Integer.MAX_VALUE)
            throw new IllegalArgumentException(k + ": a grid of " + colTiles + " x " + rowTiles + " tiles exceeds the int index range");
        WorkerGrid2D w = grids2d.get(k);
        w.setGlobalWork(colTiles * TornadoKernels.TILE, rowTiles * TornadoKernels.TILE, 1);
        w.setLocalWork(TornadoKernels.TILE, TornadoKernels.TILE, 1);
        execute(k);
    }

    private void execute(Kernel k) {
        if (profile == null) {
            plan.withGraph(k.ordinal()).execute();
        } else {
            long t0 = System.nanoTime();
            plan.withGraph(k.ordinal()).execute(); // synchronous: the time is the kernel's plus TornadoVM's overhead
            long[] entry = profile.computeIfAbsent(profileKey(k), key -> new long[2]);
            entry[0]++;
            entry[1] += System.nanoTime() - t0;
        }
        launches++;
    }

    /**
     * The kernel, for the elementwise ones the op code of this launch ({@code a[1]}), for the convolutions the mode
     * ({@code a[0]}: 0 forward, 1 input gradient, 2 weight gradient), and maybe its callers.
     */
    private String profileKey(Kernel k) {
        String key = switch (k) {
            case UNARY, UNARY_BACKWARD, BINARY, COMPARE -> k + "#" + args.get(1);
            case CONV, CONV_BLOCKED -> k + "#" + args.get(0);
            default -> k.toString();
        };
        return profileCallers ? key + callers() : key;
    }

    /** " < Class.method < Class.method": the two innermost frames outside the tensor library and the op dispatch. */
    private static String callers() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().startsWith("dev.distillery.tensor.") && !f.getClassName().equals("dev.distillery.autograd.Op"))
                .limit(2)
                .map(f -> " < " + f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName())
                .reduce("", String::concat));
    }

    /** A copy of the launch profile: key to {count, nanoseconds}; empty when profiling is off. */
    synchronized Map<String, long[]> profile() {
        Map<String, long[]> copy = new java.util.TreeMap<>();
        if (profile != null) profile.forEach((key, v) -> copy.put(key, v.clone()));
        return copy;
    }

    /** Copies {@code count} floats from {@code src} (a heap segment) into the float arena at {@code offset}. */
    synchronized void uploadFloats(MemorySegment src, long srcByteOffset, int offset, int count) {
        if (count <= floatSmallIn.getSize()) upload(Kernel.UPLOAD_FLOATS_SMALL, floatSmallIn.getSegment(), floatSmallIn.getSize(), src, srcByteOffset, offset, count);
        else upload(Kernel.UPLOAD_FLOATS, floatStageIn.getSegment(), stageLength, src, srcByteOffset, offset, count);
    }

    /** Copies {@code count} ints into the int arena at {@code offset}. */
    synchronized void uploadInts(MemorySegment src, long srcByteOffset, int offset, int count) {
        if (count <= intSmallIn.getSize()) upload(Kernel.UPLOAD_INTS_SMALL, intSmallIn.getSegment(), intSmallIn.getSize(), src, srcByteOffset, offset, count);
        else upload(Kernel.UPLOAD_INTS, intStageIn.getSegment(), stageLength, src, srcByteOffset, offset, count);
    }

    /** Copies {@code count} floats of the float arena at {@code offset} into {@code dst}. */
    synchronized void downloadFloats(int offset, int count, float[] dst) {
        if (count <= floatSmallOut.getSize()) download(Kernel.DOWNLOAD_FLOATS_SMALL, floatSmallOut.getSegment(), floatSmallOut.getSize(), ValueLayout.JAVA_FLOAT, offset, count, dst);
        else download(Kernel.DOWNLOAD_FLOATS, floatStageOut.getSegment(), stageLength, ValueLayout.JAVA_FLOAT, offset, count, dst);
    }

    /** Copies {@code count} ints of the int arena at {@code offset} into {@code dst}. */
    synchronized void downloadInts(int offset, int count, int[] dst) {
        if (count <= intSmallOut.getSize()) download(Kernel.DOWNLOAD_INTS_SMALL, intSmallOut.getSegment(), intSmallOut.getSize(), ValueLayout.JAVA_INT, offset, count, dst);
        else download(Kernel.DOWNLOAD_INTS, intStageOut.getSegment(), stageLength, ValueLayout.JAVA_INT, offset, count, dst);
    }

    /** Host to arena through a staging buffer of {@code stageLength} elements, one stage-full at a time (4-byte elements). */
    private void upload(Kernel k, MemorySegment stage, int stageLength, MemorySegment src, long srcByteOffset, int offset, int count) {
        for (int done = 0; done < count; done += stageLength) {
            int len = Math.min(stageLength, count - done);
            MemorySegment.copy(src, srcByteOffset + 4L * done, stage, 0, 4L * len);
            args.set(0, len);
            args.set(1, offset + done);
            launch1d(k, len);
        }
    }

    /** Arena to host through a staging buffer of {@code stageLength} elements, one stage-full at a time, into {@code dst}. */
    private void download(Kernel k, MemorySegment stage, int stageLength, ValueLayout layout, int offset, int count, Object dst) {
        for (int done = 0; done < count; done += stageLength) {
            int len = Math.min(stageLength, count - done);
            args.set(0, len);
            args.set(1, offset + done);
            launch1d(k, len);
            MemorySegment.copy(stage, layout, 0, dst, done, len);
        }
    }

    @Override
    public synchronized void close() {
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing the TornadoVM plan of " + deviceName() + " failed", e);
        }
    }
}
