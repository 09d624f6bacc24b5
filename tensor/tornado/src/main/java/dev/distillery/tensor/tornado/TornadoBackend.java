package dev.distillery.tensor.tornado;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.TensorScope;
import dev.distillery.tensor.backend.AdamTensors;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.CompareOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.NormGradients;
import dev.distillery.tensor.backend.NormResult;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.ParamGradients;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.RandomKind;
import dev.distillery.tensor.backend.RangeAllocator;
import dev.distillery.tensor.backend.ReduceOp;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.backend.ValuesIndices;
import dev.distillery.tensor.tornado.DevicePlan.Kernel;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TornadoVM backend of device {@code tornado:K}: tensors live in two device-resident arenas ({@link DevicePlan})
 * and ops run as TornadoVM-compiled kernels ({@link TornadoKernels}). Data crosses the bus only in {@link #copyInto}
 * between a host and a device tensor (that is, {@code Tensor.to(device)} and reading values on the host), and in the
 * ops that have no device kernel yet, which run on the host and say so once in the log (see {@link #HOST_OPS}).
 *
 * <p>Ops are synchronized on the backend: the launch arguments are one shared buffer, so calls from several threads
 * run one after another.
 *
 * <p>Storage types: F32 (float arena), I64 (int arena, as int32: values outside the int range are refused on upload)
 * and BOOL (int arena). F64 and the half types stay on the host.
 *
 * <p>Settings (system properties): {@code distillery.tornado.arena.mb} float arena size in MiB (default 1024),
 * {@code distillery.tornado.intArena.mb} (default 64), {@code distillery.tornado.stage.mb} transfer staging buffer
 * (default 16), {@code distillery.tornado.profile} ({@code true}: time every launch and print {@link #launchProfile()} to
 * stderr at exit; launches are synchronous, so each time is the kernel's plus TornadoVM's per-launch overhead;
 * {@code callers}: the same per calling method too, which slows every launch by a stack walk).
 */
public final class TornadoBackend implements Backend {
    private static final System.Logger LOG = System.getLogger(TornadoBackend.class.getName());
    private static final Cleaner CLEANER = Cleaner.create();

    /** Ops that run on the host (download, CPU backend, upload) because they have no device kernel yet. */
    public static final List<String> HOST_OPS = List.of("pad (reflect, replicate)", "compare/where on I64");

    private final Device device;
    private final DevicePlan plan;
    private final KernelArgs args;
    private final RangeAllocator floatArena, intArena;
    private final Set<String> hostOpsWarned = ConcurrentHashMap.newKeySet();

    TornadoBackend(int index) {
        this.device = new Device("tornado", index);
        int floatMb = Integer.getInteger("distillery.tornado.arena.mb", 1024);
        int intMb = Integer.getInteger("distillery.tornado.intArena.mb", 64);
        int stageMb = Integer.getInteger("distillery.tornado.stage.mb", 16);
        long floatCap = (long) floatMb << 18, intCap = (long) intMb << 18, stage = (long) stageMb << 18;
        if (floatCap > Integer.MAX_VALUE || intCap > Integer.MAX_VALUE)
            throw new IllegalArgumentException("-Ddistillery.tornado.arena.mb and -Ddistillery.tornado.intArena.mb must be below 8192 (TornadoVM arrays are int-indexed)");
        var tornadoDevice = DevicePlan.findDevice(index);
        String profileSetting = System.getProperty("distillery.tornado.profile", "false");
        if (!List.of("false", "true", "callers").contains(profileSetting))
            throw new IllegalArgumentException("-Ddistillery.tornado.profile must be false, true or callers, got '" + profileSetting + "'");
        boolean profile = !profileSetting.equals("false");
        this.plan = new DevicePlan(tornadoDevice, (int) floatCap, (int) intCap, (int) stage, profile, profileSetting.equals("callers"));
        // stderr, not the logger: java.util.logging resets its handlers in a shutdown hook of its own, racing this one.
        if (profile) Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.print(launchProfile()), "tornado-profile"));
        this.args = new KernelArgs(plan.args, plan.scalars);
        this.floatArena = new RangeAllocator(device + " float arena (-Ddistillery.tornado.arena.mb=" + floatMb + ")", floatCap, 16);
        this.intArena = new RangeAllocator(device + " int arena (-Ddistillery.tornado.intArena.mb=" + intMb + ")", intCap, 16);
        LOG.log(System.Logger.Level.INFO, "TornadoVM backend {0}: {1}, arenas {2} MiB float + {3} MiB int",
                device, plan.deviceName(), floatMb, intMb);
    }

    @Override public String name() { return "tornado"; }

    @Override public Device device() { return device; }

    /** The TornadoVM device this backend runs on. */
    public String deviceName() { return plan.deviceName(); }

    @Override
    public long launches() { return plan.launches(); }

    /**
     * The launch profile ({@code -Ddistillery.tornado.profile=true}): per kernel, per op for the elementwise ones and per
     * mode for the convolutions, the launches, their total and mean time, most time first.
     */
    public String launchProfile() {
        var profile = plan.profile();
        if (profile.isEmpty()) return device + ": no launch profile (run with -Ddistillery.tornado.profile=true)";
        long count = 0, nanos = 0;
        for (long[] v : profile.values()) {
            count += v[0];
            nanos += v[1];
        }
        var sb = new StringBuilder(String.format(java.util.Locale.ROOT, "launch profile of %s: %d launches, %.1f ms%n%-40s %9s %11s %9s%n",
                device, count, nanos / 1e6, "kernel", "launches", "total ms", "mean us"));
        var rows = new ArrayList<>(profile.entrySet());
        rows.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        for (var e : rows)
            sb.append(String.format(java.util.Locale.ROOT, "%-40s %9d %11.1f %9.1f%n", profileName(e.getKey()), e.getValue()[0],
                    e.getValue()[1] / 1e6, e.getValue()[1] / 1e3 / e.getValue()[0]));
        return sb.toString();
    }

    /** "UNARY#3" -> "UNARY SILU": the op enums' ordinals are the kernels' op codes; "CONV#1" -> "CONV input-grad". */
    private static String profileName(String key) {
        int callers = key.indexOf(" < ");
        if (callers > 0) return profileName(key.substring(0, callers)) + key.substring(callers);
        int hash = key.indexOf('#');
        if (hash < 0) return key;
        String kernel = key.substring(0, hash);
        int code = Integer.parseInt(key.substring(hash + 1));
        if (kernel.startsWith("CONV")) return kernel + " " + (code == 0 ? "forward" : code == 1 ? "input-grad" : "weight-grad");
        Enum<?>[] ops = switch (kernel) {
            case "UNARY", "UNARY_BACKWARD" -> UnaryOp.values();
            case "BINARY" -> BinaryOp.values();
            default -> CompareOp.values();
        };
        return kernel + " " + (code >= 0 && code < ops.length ? ops[code].name() : "#" + code);
    }

    /** Float-arena elements in use now and at peak. */
    public long[] floatArenaUse() { return new long[]{floatArena.usedElements(), floatArena.peakElements()}; }

    // ------------------------------------------------------------------------------------------------ memory

    private Tensor allocate(DType dtype, int[] shape) {
        if (dtype != DType.F32 && dtype != DType.I64 && dtype != DType.BOOL)
            throw new IllegalArgumentException(device + " stores F32, I64 and BOOL tensors, not " + dtype
                    + ": convert on the host first (for example tensor.to(DType.F32).to(device))");
        int n = Shapes.numel(shape);
        RangeAllocator arena = dtype == DType.F32 ? floatArena : intArena;
        long offset = allocateWithGc(arena, n);
        TornadoStorage.Range range = new TornadoStorage.Range(arena, offset);
        TornadoStorage s = new TornadoStorage(device, dtype, (int) offset, n, range);
        CLEANER.register(s, range);
        return Tensor.of(s, shape);
    }

    /** Device memory is invisible to the GC: when an arena is full, collect, let the cleaners run, and try again. */
    private static long allocateWithGc(RangeAllocator arena, int n) {
        for (int attempt = 0; ; attempt++) {
            try {
                return arena.allocate(n);
            } catch (IllegalStateException full) {
                if (attempt == 3) throw full;
                System.gc();
                try {
                    Thread.sleep(20L << attempt);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw full;
                }
            }
        }
    }

    @Override
    public synchronized Tensor zeros(DType dtype, int... shape) {
        Tensor t = allocate(dtype, shape);
        fill(t, 0);
        return t;
    }

    /** Allocated and uploaded, not zeroed first: one launch (per staging buffer) instead of two. */
    @Override
    public synchronized Tensor fromHost(Tensor host, DType dtype) {
        Tensor out = allocate(dtype, host.shape());
        copyInto(host, out);
        return out;
    }

    /** An op output: owned by the innermost open {@link TensorScope}, which returns it to the arena when it closes. */
    @Override
    public synchronized Tensor uninitialized(DType dtype, int... shape) {
        Tensor t = allocate(dtype, shape);
        TensorScope.adopt((TornadoStorage) t.storage());
        return t;
    }

    private void fill(Tensor contiguous, double value) {
        args.set(0, contiguous.numel());
        args.set(1, contiguous.dtype() == DType.F32 ? 0 : 1);
        args.set(2, KernelArgs.base(contiguous));
        args.scalar(0, value);
        plan.launch1d(Kernel.FILL, contiguous.numel());
    }

    // ------------------------------------------------------------------------------------------------ copies

    private boolean onDevice(Tensor t) {
        return t.device().equals(device);
    }

    @Override
    public synchronized void copyInto(Tensor src, Tensor dst) {
        if (src.numel() == 0) return;
        boolean srcHere = onDevice(src), dstHere = onDevice(dst);
        if (srcHere && dstHere) deviceCopy(src, dst);
        else if (dstHere) upload(src, dst);
        else if (srcHere) download(src, dst);
        else throw new IllegalArgumentException(device + ".copyInto: neither " + src.device() + " nor " + dst.device() + " is this device");
    }

    private void deviceCopy(Tensor src, Tensor dst) {
        boolean fromFloat = src.dtype() == DType.F32;
        int mode = switch (dst.dtype()) {
            case F32 -> fromFloat ? 0 : 3;
            case I64 -> fromFloat ? 2 : 1;
            case BOOL -> fromFloat ? 4 : (src.dtype() == DType.BOOL ? 1 : 5);
            default -> throw new IllegalStateException("unreachable: " + dst.dtype());
        };
        args.elementwise(mode, dst.shape(), src, dst);
        plan.launch1d(Kernel.COPY, dst.numel());
    }

    private void upload(Tensor host, Tensor dst) {
        Tensor target = dst.isContiguous() ? dst : uninitialized(dst.dtype(), dst.shape());
        int n = dst.numel();
        if (dst.dtype() == DType.F32) {
            float[] v = host.toFloatArray();
            plan.uploadFloats(MemorySegment.ofArray(v), 0, KernelArgs.base(target), n);
        } else {
            long[] v = host.toLongArray();
            int[] ints = new int[n];
            for (int i = 0; i < n; i++) {
                long x = v[i];
                if (dst.dtype() == DType.BOOL) x = x != 0 ? 1 : 0;
                else if (x != (int) x)
                    throw new IllegalArgumentException(device + " stores I64 tensors as int32; element " + i + " is " + x);
                ints[i] = (int) x;
            }
            plan.uploadInts(MemorySegment.ofArray(ints), 0, KernelArgs.base(target), n);
        }
        if (target != dst) deviceCopy(target, dst);
    }

    private void download(Tensor src, Tensor hostDst) {
        Tensor c = src.isContiguous() ? src : contiguousCopy(src);
        int n = c.numel();
        Tensor host;
        if (c.dtype() == DType.F32) {
            float[] v = new float[n];
            plan.downloadFloats(KernelArgs.base(c), n, v);
            host = Tensor.of(v, c.shape());
        } else {
            int[] v = new int[n];
            plan.downloadInts(KernelArgs.base(c), n, v);
            long[] l = new long[n];
            for (int i = 0; i < n; i++) l[i] = v[i];
            host = Tensor.ofLongs(l, c.shape());
            if (c.dtype() == DType.BOOL) host = host.to(DType.BOOL);
        }
        Backends.forDevice(hostDst.device()).copyInto(host, hostDst);
    }

    private Tensor contiguousCopy(Tensor t) {
        Tensor out = uninitialized(t.dtype(), t.shape());
        deviceCopy(t, out);
        return out;
    }

    private Tensor contiguous(Tensor t) {
        return t.isContiguous() ? t : contiguousCopy(t);
    }

    // ------------------------------------------------------------------------------------------------ elementwise

    private static boolean isFloat(Tensor... ts) {
        for (Tensor t : ts) if (t.dtype() != DType.F32) return false;
        return true;
    }

    @Override
    public synchronized Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        requireFloat("unary " + op, x);
        Tensor out = uninitialized(DType.F32, x.shape());
        if (x.numel() == 0) return out;
        args.elementwise(op.ordinal(), x.shape(), x, out);
        args.scalar(0, p0);
        args.scalar(1, p1);
        plan.launch1d(Kernel.UNARY, x.numel());
        return out;
    }

    @Override
    public synchronized Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1) {
        return unaryBackward(op, x, gradOut, p0, p1, null);
    }

    /** The addend read as a third operand and added before the store: one launch. */
    @Override
    public synchronized Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1, Tensor addend) {
        requireFloat("unaryBackward " + op, x, gradOut);
        if (addend != null) requireFloat("unaryBackward addend", addend);
        Tensor out = uninitialized(DType.F32, x.shape());
        if (x.numel() == 0) return out;
        if (addend == null) args.elementwise(op.ordinal(), x.shape(), x, gradOut, out);
        else args.elementwise(op.ordinal(), x.shape(), x, gradOut, addend, out);
        args.scalar(0, p0);
        args.scalar(1, p1);
        args.scalar(2, addend == null ? 0 : 1);
        plan.launch1d(Kernel.UNARY_BACKWARD, x.numel());
        return out;
    }

    @Override
    public synchronized Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        requireFloat("binary " + op, a, b);
        Tensor out = uninitialized(DType.F32, a.shape());
        if (a.numel() == 0) return out;
        args.elementwise(op.ordinal(), a.shape(), a, b, out);
        plan.launch1d(Kernel.BINARY, a.numel());
        return out;
    }

    @Override
    public synchronized Tensor compare(CompareOp op, Tensor a, Tensor b) {
        if (!isFloat(a, b)) return onHost("compare/where on I64", () -> Backends.cpu().compare(op, host(a), host(b)));
        Tensor out = uninitialized(DType.BOOL, a.shape());
        if (a.numel() == 0) return out;
        args.elementwise(op.ordinal(), a.shape(), a, b, out);
        plan.launch1d(Kernel.COMPARE, a.numel());
        return out;
    }

    @Override
    public synchronized Tensor where(Tensor cond, Tensor a, Tensor b) {
        if (!isFloat(a, b)) return onHost("compare/where on I64", () -> Backends.cpu().where(host(cond), host(a), host(b)));
        Tensor out = uninitialized(DType.F32, a.shape());
        if (a.numel() == 0) return out;
        args.elementwise(0, a.shape(), cond, a, b, out);
        plan.launch1d(Kernel.WHERE, a.numel());
        return out;
    }

    private void requireFloat(String op, Tensor... ts) {
        for (Tensor t : ts)
            if (t.dtype() != DType.F32) throw new IllegalArgumentException(device + " " + op + ": computes in F32, got " + t.dtype());
    }

    // ------------------------------------------------------------------------------------------------ reductions

    /** Above this many inner elements per output (with few outputs), a reduction splits each output into chunks. */
    private static final int CHUNK = 1024;

    @Override
    public synchronized Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, double correction) {
        requireFloat("reduce " + op, x);
        int[] shape = x.shape();
        int[] outShape = reducedShape(shape, dims, keepDim);
        int inner = 1;
        for (int d : dims) inner *= shape[d];
        int outputs = x.numel() / Math.max(1, inner);
        if (x.numel() == 0 && inner == 0) outputs = Shapes.numel(outShape);
        if (op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN) {
            Tensor out = uninitialized(DType.I64, outShape);
            if (outputs == 0) return out;
            reduceLayout(x, dims, 0, inner, 1, 0, 0, 0);
            args.set(0, outputs);
            args.set(1, op == ReduceOp.ARGMAX ? 0 : 1);
            args.set(6, KernelArgs.base(out));
            plan.launch1d(Kernel.ARG_REDUCE, outputs);
            return out;
        }
        Tensor out = uninitialized(DType.F32, outShape);
        if (outputs == 0) return out;
        if (inner == 0) {
            double v = switch (op) {
                case SUM -> 0;
                case LOGSUMEXP -> Double.NEGATIVE_INFINITY;
                default -> Double.NaN; // PyTorch: mean and var of nothing are NaN
            };
            fill(out, v);
            return out;
        }
        switch (op) {
            case SUM -> reduceInto(x, dims, 0, inner, outputs, out, null);
            case MAX -> reduceInto(x, dims, 1, inner, outputs, out, null);
            case MIN -> reduceInto(x, dims, 2, inner, outputs, out, null);
            case MEAN -> {
                reduceInto(x, dims, 0, inner, outputs, out, null);
                scaleInPlace(out, 1.0 / inner);
            }
            case VAR -> {
                Tensor mean = uninitialized(DType.F32, outShape);
                reduceInto(x, dims, 0, inner, outputs, mean, null);
                scaleInPlace(mean, 1.0 / inner);
                reduceInto(x, dims, 3, inner, outputs, out, mean);
                scaleInPlace(out, 1.0 / Math.max(0.0, inner - correction));
            }
            case LOGSUMEXP -> {
                Tensor max = uninitialized(DType.F32, outShape);
                reduceInto(x, dims, 1, inner, outputs, max, null);
                Tensor sumExp = uninitialized(DType.F32, outShape);
                reduceInto(x, dims, 4, inner, outputs, sumExp, max);
                Tensor log = unary(UnaryOp.LOG, sumExp, 0, 0);
                args.elementwise(BinaryOp.ADD.ordinal(), outShape, log, max, out);
                plan.launch1d(Kernel.BINARY, outputs);
            }
            default -> throw new IllegalStateException("unreachable: " + op);
        }
        return out;
    }

    private static int[] reducedShape(int[] shape, int[] dims, boolean keepDim) {
        List<Integer> out = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            boolean reduced = Arrays.binarySearch(dims, d) >= 0;
            if (!reduced) out.add(shape[d]);
            else if (keepDim) out.add(1);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private void scaleInPlace(Tensor t, double factor) {
        args.elementwise(UnaryOp.MUL_SCALAR.ordinal(), t.shape(), t, t);
        args.scalar(0, factor);
        args.scalar(1, 0);
        plan.launch1d(Kernel.UNARY, t.numel());
    }

    /**
     * Writes the {@link TornadoKernels#reduce} layout for x with {@code dims} as the inner index space; a[0], a[1],
     * a[6], a[7] are the caller's.
     */
    private void reduceLayout(Tensor x, int[] dims, int op, int inner, int chunks, int chunkLength, int outBase, int auxBase) {
        int[] shape = x.shape(), strides = x.strides();
        int outerRank = shape.length - dims.length, innerRank = dims.length;
        if (10 + 2 * shape.length > KernelArgs.INTS) throw new IllegalArgumentException("tornado reduce: rank " + shape.length + " is too high");
        args.set(1, op);
        args.set(2, chunks);
        args.set(3, chunkLength);
        args.set(4, inner);
        args.set(5, KernelArgs.base(x));
        args.set(6, outBase);
        args.set(7, auxBase);
        args.set(8, outerRank);
        args.set(9, innerRank);
        int o = 0;
        for (int d = 0; d < shape.length; d++) {
            if (Arrays.binarySearch(dims, d) >= 0) continue;
            args.set(10 + o, shape[d]);
            args.set(10 + outerRank + o, strides[d]);
            o++;
        }
        int at = 10 + 2 * outerRank;
        for (int i = 0; i < innerRank; i++) {
            args.set(at + i, shape[dims[i]]);
            args.set(at + innerRank + i, strides[dims[i]]);
        }
    }

    /**
     * One reduction of x over dims into the contiguous {@code out}: in one pass when there are many outputs or few
     * inner elements, else in two (chunk partials into a scratch tensor, then a sum/max/min over the chunks).
     */
    private void reduceInto(Tensor x, int[] dims, int op, int inner, int outputs, Tensor out, Tensor aux) {
        int auxBase = aux == null ? 0 : KernelArgs.base(aux);
        int chunks = outputs >= 4096 || inner <= 2 * CHUNK ? 1 : Math.min(CHUNK, (inner + CHUNK - 1) / CHUNK);
        if (chunks == 1) {
            reduceLayout(x, dims, op, inner, 1, inner, KernelArgs.base(out), auxBase);
            args.set(0, outputs);
            plan.launch1d(Kernel.REDUCE, outputs);
            return;
        }
        int length = (inner + chunks - 1) / chunks;
        Tensor partial = uninitialized(DType.F32, outputs, chunks);
        reduceLayout(x, dims, op, inner, chunks, length, KernelArgs.base(partial), auxBase);
        args.set(0, outputs * chunks);
        plan.launch1d(Kernel.REDUCE, (long) outputs * chunks);
        int combine = op == 1 || op == 2 ? op : 0; // partial sums of every kind add up
        reduceLayout(partial, new int[]{1}, combine, chunks, 1, chunks, KernelArgs.base(out), 0);
        args.set(0, outputs);
        plan.launch1d(Kernel.REDUCE, outputs);
    }

    // ------------------------------------------------------------------------------------------------ matmul

    /** Outputs with both sides at least this long use the 64 x 64 register-blocked matmul (and conv, per group). */
    private static final int BLOCKED_MIN = 64;
    /** {@code -Ddistillery.tornado.matmul=auto|tile|blocked}: which matmul kernel (read per call; tests force each one). */
    static final String MATMUL_KERNEL_PROPERTY = "distillery.tornado.matmul";

    /**
     * Whether an M x N product runs on the 64 x 64 register-blocked kernel: the setting {@code property} ({@code auto},
     * {@code tile} or {@code blocked}, read per call so tests can force each), by default when both sides fill a block.
     */
    private static boolean useBlocked(String property, int m, int n) {
        return switch (System.getProperty(property, "auto")) {
            case "auto" -> m >= BLOCKED_MIN && n >= BLOCKED_MIN;
            case "blocked" -> true;
            case "tile" -> false;
            default -> throw new IllegalArgumentException("-D" + property + " must be auto, tile or blocked, got '" + System.getProperty(property) + "'");
        };
    }

    @Override
    public synchronized Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, null);
    }

    /** The product with the bias added by the kernel as it stores each output (no extra launch). */
    @Override
    public synchronized Tensor matmul(Tensor a, Tensor b, Tensor bias) {
        int[] as = a.shape(), ast = a.strides(), bst = b.strides();
        return matmulLaunch(a, b, bias, null, as[0], 1, ast[0], 0, bst[0], 0, as[1], as[2], b.shape()[2], ast[1], ast[2], bst[1], bst[2]);
    }

    /** The addend added by the kernel as it stores each output (no extra launch); a strided addend is added after. */
    @Override
    public synchronized Tensor matmulAdd(Tensor a, Tensor b, Tensor addend) {
        if (!addend.isContiguous()) return binary(BinaryOp.ADD, matmul(a, b), addend);
        requireFloat("matmulAdd addend", addend);
        int[] as = a.shape(), ast = a.strides(), bst = b.strides();
        return matmulLaunch(a, b, null, addend, as[0], 1, ast[0], 0, bst[0], 0, as[1], as[2], b.shape()[2], ast[1], ast[2], bst[1], bst[2]);
    }

    /** The kernels store on {@code out}'s strides: a gradient in its input's layout needs no copy afterwards. */
    @Override
    public synchronized void matmulInto(Tensor a, Tensor b, Tensor out) {
        requireFloat("matmulInto", out);
        int[] as = a.shape(), ast = a.strides(), bst = b.strides();
        matmulLaunch(a, b, null, null, out, as[0] * as[1], as[1], ast[0], ast[1], bst[0], bst[1], as[2], as[3], b.shape()[3], ast[2], ast[3],
                bst[2], bst[3]);
    }

    /** Both batch levels indexed by the kernels (no copy of operands whose two batch dims do not merge). */
    @Override
    public synchronized Tensor matmulTwoBatchDims(Tensor a, Tensor b, Tensor bias) {
        int[] as = a.shape(), ast = a.strides(), bst = b.strides();
        return matmulLaunch(a, b, bias, null, as[0] * as[1], as[1], ast[0], ast[1], bst[0], bst[1], as[2], as[3], b.shape()[3], ast[2], ast[3],
                bst[2], bst[3]);
    }

    /**
     * One launch of {@link TornadoKernels#matmul} or {@link TornadoKernels#matmulBlocked}: {@code batches} products
     * of [m, k] by [k, n], batch i at outer index i / inner and inner index i mod inner (strides given per operand),
     * into a contiguous [batches, m, n], plus bias over the rows and a contiguous addend of the output's shape when not null.
     */
    private Tensor matmulLaunch(Tensor a, Tensor b, Tensor bias, Tensor addend, int batches, int inner, int aOuter, int aInner, int bOuter, int bInner,
                               int m, int k, int n, int aRow, int aCol, int bRow, int bCol) {
        return matmulLaunch(a, b, bias, addend, null, batches, inner, aOuter, aInner, bOuter, bInner, m, k, n, aRow, aCol, bRow, bCol);
    }

    /**
     * {@link #matmulLaunch(Tensor, Tensor, Tensor, Tensor, int, int, int, int, int, int, int, int, int, int, int, int, int)}
     * into {@code into} ([B1, B2, M, N], any non-overlapping strides, no bias or addend) when not null, else into a new
     * contiguous [batches, M, N].
     */
    private Tensor matmulLaunch(Tensor a, Tensor b, Tensor bias, Tensor addend, Tensor into, int batches, int inner, int aOuter, int aInner,
                               int bOuter, int bInner, int m, int k, int n, int aRow, int aCol, int bRow, int bCol) {
        requireFloat("matmul", a, b);
        if (bias != null) requireFloat("matmul bias", bias);
        Tensor out = into != null ? into : uninitialized(DType.F32, batches, m, n);
        if (out.numel() == 0) return out;
        if (k == 0) {
            if (into != null) {
                deviceCopy(zeros(DType.F32, 1).expand(into.shape()), into);
                return into;
            }
            fill(out, 0);
            if (addend != null) out = binary(BinaryOp.ADD, out, addend);
            return bias == null ? out : binary(BinaryOp.ADD, out, bias.unsqueeze(0).unsqueeze(0).expand(out.shape()));
        }
        Tensor biasC = bias == null ? null : contiguous(bias);
        int[] os = into != null ? into.strides() : new int[]{inner * m * n, m * n, n, 1};
        int[] v = {m, n, k, 0, KernelArgs.base(a), aOuter, aRow, aCol, KernelArgs.base(b), bOuter, bRow, bCol, KernelArgs.base(out),
                biasC == null ? -1 : KernelArgs.base(biasC), inner, aInner, bInner, k, 0, 0, -1, addend == null ? -1 : KernelArgs.base(addend),
                os[0], os[1], os[2], os[3]};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        launchMatmul(batches, m, n);
        return out;
    }

    /**
     * Launches the matmul kernel whose arguments are set (a[3] is set here): the 64 x 64 register-blocked one where the
     * output is big enough to fill its blocks, else 16 x 16 tiles; {@code columns} output columns per product.
     */
    private void launchMatmul(int batches, int m, int columns) {
        boolean blocked = useBlocked(MATMUL_KERNEL_PROPERTY, m, columns);
        int edge = blocked ? 64 : TornadoKernels.TILE;
        int rowTiles = (m + edge - 1) / edge;
        args.set(3, rowTiles);
        plan.launchTiled(blocked ? Kernel.MATMUL_BLOCKED : Kernel.MATMUL, (columns + edge - 1) / edge, (long) batches * rowTiles);
    }

    /**
     * One launch for both: the weight gradient g^T x as a GEMM whose reduction index walks both leading dims of g
     * [P, M, N] and x [P, M, C] (two levels where one stride cannot walk them, {@link TornadoKernels#kOffset}), and the
     * bias gradient as its extra column of ones.
     */
    @Override
    public synchronized ParamGradients linearParamGradients(Tensor gradOut, Tensor x, boolean withBias) {
        requireFloat("linearParamGradients", gradOut, x);
        int[] gs = gradOut.shape(), gst = gradOut.strides(), xs = x.shape(), xst = x.strides();
        int p = gs[0], rows = gs[1], n = gs[2], c = xs[2];
        Tensor weight = uninitialized(DType.F32, n, c);
        Tensor bias = withBias ? uninitialized(DType.F32, n) : null;
        int k = p * rows;
        if (k == 0) {
            fill(weight, 0);
            if (bias != null) fill(bias, 0);
            return new ParamGradients(weight, bias);
        }
        if (weight.numel() == 0 && bias == null) return new ParamGradients(weight, null);
        // K = (p, m): one level when the p stride is m m-strides in both operands (or either count is 1)
        int kInner = rows, gInner = gst[1], xInner = xst[1];
        if (rows == 1) {
            kInner = k;
            gInner = gst[0];
            xInner = xst[0];
        } else if (p == 1 || (gst[0] == rows * gst[1] && xst[0] == rows * xst[1])) {
            kInner = k;
        }
        // A = g^T [N, K]: row stride g's column stride; B = x [K, C].
        int[] v = {n, c, k, 0, KernelArgs.base(gradOut), 0, gst[2], gInner, KernelArgs.base(x), 0, xInner, xst[2], KernelArgs.base(weight), -1,
                1, 0, 0, kInner, gst[0], xst[0], bias == null ? -1 : KernelArgs.base(bias), -1, 0, 0, c, 1};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        launchMatmul(1, n, bias == null ? c : c + 1);
        return new ParamGradients(weight, bias);
    }

    // ------------------------------------------------------------------------------------------------ softmax, norms

    @Override
    public synchronized Tensor softmax(Tensor x, int dim, boolean log) {
        requireFloat("softmax", x);
        Tensor xc = contiguous(x);
        Tensor out = uninitialized(DType.F32, x.shape());
        int rows = softmaxRows(xc, dim);
        if (rows == 0) return out;
        args.set(4, KernelArgs.base(xc));
        args.set(5, KernelArgs.base(out));
        args.set(1, log ? 1 : 0);
        plan.launch1d(Kernel.SOFTMAX, rows);
        return out;
    }

    @Override
    public synchronized Tensor softmaxBackward(Tensor output, Tensor gradOut, int dim, boolean log) {
        requireFloat("softmaxBackward", output, gradOut);
        Tensor y = contiguous(output), g = contiguous(gradOut);
        Tensor out = uninitialized(DType.F32, output.shape());
        int rows = softmaxRows(y, dim);
        if (rows == 0) return out;
        args.set(4, KernelArgs.base(y));
        args.set(5, KernelArgs.base(out));
        args.set(6, KernelArgs.base(g));
        args.set(1, log ? 1 : 0);
        plan.launch1d(Kernel.SOFTMAX_BACKWARD, rows);
        return out;
    }

    /** Sets a[0] rows, a[2] row length and a[3] the stride along dim of a contiguous tensor; returns the row count. */
    private int softmaxRows(Tensor x, int dim) {
        int[] shape = x.shape();
        int len = shape.length == 0 ? 1 : shape[dim];
        int inner = 1;
        for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
        int rows = len == 0 ? 0 : x.numel() / len;
        args.set(0, rows);
        args.set(2, len);
        args.set(3, inner);
        return rows;
    }

    @Override
    public synchronized NormResult layerNorm(Tensor x, Tensor weight, Tensor bias, int normSize, double eps) {
        requireFloat("layerNorm", x);
        int rows = x.numel() / Math.max(1, normSize);
        return norm(0, x, weight, bias, rows, normSize, eps, new int[]{rows}, 0, 0, 0, false);
    }

    @Override
    public synchronized NormResult groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps, boolean silu) {
        requireFloat("groupNorm", x);
        int[] shape = x.shape();
        int n = shape[0], channels = shape[1];
        int spatial = 1;
        for (int d = 2; d < shape.length; d++) spatial *= shape[d];
        int perGroup = channels / groups;
        return norm(1, x, weight, bias, n * groups, perGroup * spatial, eps, new int[]{n, groups}, groups, spatial, perGroup, silu);
    }

    private NormResult norm(int kind, Tensor x, Tensor weight, Tensor bias, int rows, int length, double eps, int[] statShape,
                            int groups, int spatial, int perGroup, boolean silu) {
        Tensor xc = contiguous(x);
        Tensor w = weight == null ? null : contiguous(weight), b = bias == null ? null : contiguous(bias);
        Tensor out = uninitialized(DType.F32, x.shape());
        Tensor mean = uninitialized(DType.F32, statShape), rstd = uninitialized(DType.F32, statShape);
        if (rows == 0 || length == 0) {
            if (rows > 0) {
                fill(mean, Double.NaN);
                fill(rstd, Double.NaN);
            }
            return new NormResult(out, mean, rstd);
        }
        args.set(0, rows);
        args.set(1, kind);
        args.set(2, length);
        args.set(3, KernelArgs.base(xc));
        args.set(4, KernelArgs.base(out));
        args.set(5, KernelArgs.base(mean));
        args.set(6, KernelArgs.base(rstd));
        args.set(7, w == null ? -1 : KernelArgs.base(w));
        args.set(8, b == null ? -1 : KernelArgs.base(b));
        args.set(9, groups);
        args.set(10, spatial);
        args.set(11, perGroup);
        args.set(12, silu ? 1 : 0);
        args.scalar(0, eps);
        plan.launch1d(Kernel.NORM, rows);
        return new NormResult(out, mean, rstd);
    }

    @Override
    public synchronized NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize,
                                                        boolean affineGrads) {
        return layerNormBackward(gradOut, x, mean, rstd, weight, normSize, affineGrads, null);
    }

    @Override
    public synchronized NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize,
                                                        boolean affineGrads, Tensor inputAddend) {
        requireFloat("layerNormBackward", gradOut, x, mean, rstd);
        int rows = x.numel() / Math.max(1, normSize);
        return normBackward(gradOut, x, mean, rstd, weight, null, false, rows, normSize, 1, 1, normSize, affineGrads, new int[]{normSize}, inputAddend);
    }

    @Override
    public synchronized NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                                        boolean silu, boolean affineGrads) {
        return groupNormBackward(gradOut, x, mean, rstd, weight, bias, groups, silu, affineGrads, null);
    }

    @Override
    public synchronized NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                                        boolean silu, boolean affineGrads, Tensor inputAddend) {
        requireFloat("groupNormBackward", gradOut, x, mean, rstd);
        int n = x.size(0), channels = x.size(1), spatial = x.numel() / Math.max(1, n * channels);
        return normBackward(gradOut, x, mean, rstd, weight, bias, silu, n * groups, channels / groups * spatial, spatial, groups, channels,
                affineGrads, new int[]{channels}, inputAddend);
    }

    /**
     * Two launches of {@link TornadoKernels#normBackward}: the input gradient per row (plus the addend when not null;
     * a strided one is copied first, a launch like the add it replaces), the affine gradients per parameter.
     */
    private NormGradients normBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, boolean silu, int rows,
                                       int len, int run, int rowsPerSample, int params, boolean affineGrads, int[] paramShape, Tensor inputAddend) {
        if (inputAddend != null) requireFloat("norm backward addend", inputAddend);
        Tensor addend = inputAddend == null ? null : contiguous(inputAddend);
        Tensor dx = uninitialized(DType.F32, x.shape());
        Tensor dw = affineGrads ? uninitialized(DType.F32, paramShape) : null, db = affineGrads ? uninitialized(DType.F32, paramShape) : null;
        if (len == 0 || rows == 0) { // nothing to normalise: no input gradient, affine gradients sum nothing
            if (affineGrads) {
                fill(dw, 0);
                fill(db, 0);
            }
            return new NormGradients(dx, dw, db);
        }
        // g as [samples, parameters, run]: a view on its own strides where they allow one (group norm's [N, C, spatial]
        // through attention's transpose), else a copy
        Tensor gc = gradOut.reshape(rows / rowsPerSample, params, run);
        int[] gStrides = gc.strides();
        Tensor xc = contiguous(x), mc = contiguous(mean), rc = contiguous(rstd);
        Tensor wc = weight == null ? null : contiguous(weight), bc = bias == null ? null : contiguous(bias);
        int[] v = {rows, 0, len, KernelArgs.base(xc), KernelArgs.base(gc), KernelArgs.base(mc), KernelArgs.base(rc),
                wc == null ? -1 : KernelArgs.base(wc), KernelArgs.base(dx), run, rowsPerSample, len / run, rows,
                dw == null ? 0 : KernelArgs.base(dw), db == null ? 0 : KernelArgs.base(db), params, silu ? 1 : 0, bc == null ? -1 : KernelArgs.base(bc),
                addend == null ? -1 : KernelArgs.base(addend), gStrides[0], gStrides[1], gStrides[2]};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        plan.launch1d(Kernel.NORM_BACKWARD, rows);
        if (affineGrads) { // same arguments, but one work-item per parameter
            args.set(0, params);
            args.set(1, 1);
            plan.launch1d(Kernel.NORM_BACKWARD, params);
        }
        return new NormGradients(dx, dw, db);
    }

    // ------------------------------------------------------------------------------------------------ structure

    @Override
    public synchronized Tensor concat(List<Tensor> parts, int dim) {
        int[] shape = parts.getFirst().shape();
        int total = 0;
        for (Tensor p : parts) total += p.shape()[dim];
        shape[dim] = total;
        Tensor out = uninitialized(parts.getFirst().dtype(), shape);
        int inner = 1;
        for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
        boolean contiguousFloats = out.dtype() == DType.F32;
        for (Tensor p : parts) contiguousFloats &= p.isContiguous();
        int at = 0;
        List<int[]> entries = new ArrayList<>();
        for (Tensor p : parts) {
            int size = p.shape()[dim];
            if (size > 0 && p.numel() > 0) {
                if (contiguousFloats) entries.add(new int[]{p.numel(), KernelArgs.base(p), KernelArgs.base(out) + at * inner, size * inner, total * inner});
                else deviceCopy(p, out.narrow(dim, at, size));
            }
            at += size;
        }
        // contiguous F32 parts (a UNet's skip concat): all in one launch
        foreachLaunches(3, entries, 0, 0);
        return out;
    }

    @Override
    public synchronized Tensor pad(Tensor x, int[] pads, PadMode mode, double value) {
        if (mode != PadMode.CONSTANT) return onHost("pad (reflect, replicate)", () -> Backends.cpu().pad(host(x), pads, mode, value));
        int[] shape = x.shape();
        int[] outShape = shape.clone();
        for (int d = 0; d < shape.length; d++) outShape[d] += pads[2 * d] + pads[2 * d + 1];
        Tensor out = uninitialized(x.dtype(), outShape);
        fill(out, value);
        Tensor inside = out;
        for (int d = 0; d < shape.length; d++) inside = inside.narrow(d, pads[2 * d], shape[d]);
        if (x.numel() > 0) deviceCopy(x, inside);
        return out;
    }

    // ------------------------------------------------------------------------------------------------ optimiser

    @Override
    public synchronized void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, double lr, double beta1, double beta2, double eps,
                         double weightDecay, boolean decoupled, long step) {
        requireFloat("adamStep", param, grad, expAvg, expAvgSq);
        for (Tensor t : new Tensor[]{param, grad, expAvg, expAvgSq})
            if (!t.isContiguous()) throw new IllegalArgumentException(device + " adamStep: tensors must be contiguous");
        int n = param.numel();
        if (n == 0) return;
        args.set(0, n);
        args.set(1, KernelArgs.base(param));
        args.set(2, KernelArgs.base(grad));
        args.set(3, KernelArgs.base(expAvg));
        args.set(4, KernelArgs.base(expAvgSq));
        args.set(5, decoupled ? 1 : 0);
        adamScalars(lr, beta1, beta2, eps, weightDecay, step);
        plan.launch1d(Kernel.ADAM, n);
    }

    /**
     * All parameters in as few launches as the tensor table holds ({@link DevicePlan#TENSOR_TABLE}; one for models
     * with up to 1,638 parameter tensors), instead of one launch per parameter.
     */
    @Override
    public synchronized void adamSteps(List<AdamTensors> tensors, double lr, double beta1, double beta2, double eps, double weightDecay,
                                       boolean decoupled, long step) {
        List<int[]> entries = new ArrayList<>();
        for (AdamTensors t : tensors) {
            requireFloat("adamSteps", t.param(), t.grad(), t.expAvg(), t.expAvgSq());
            for (Tensor x : new Tensor[]{t.param(), t.grad(), t.expAvg(), t.expAvgSq()})
                if (!x.isContiguous()) throw new IllegalArgumentException(device + " adamSteps: tensors must be contiguous");
            entries.add(new int[]{t.param().numel(), KernelArgs.base(t.param()), KernelArgs.base(t.grad()), KernelArgs.base(t.expAvg()),
                    KernelArgs.base(t.expAvgSq())});
        }
        overTable(entries, (count, elements) -> {
            args.set(0, (int) (long) elements);
            args.set(1, count);
            args.set(5, decoupled ? 1 : 0);
            adamScalars(lr, beta1, beta2, eps, weightDecay, step);
            plan.launch1d(Kernel.ADAM_MULTI, elements);
        });
    }

    @Override
    public synchronized void emaUpdate(List<Tensor> shadows, List<Tensor> params, double decay) {
        List<int[]> entries = new ArrayList<>();
        for (int i = 0; i < shadows.size(); i++) {
            Tensor shadow = shadows.get(i), param = contiguous(params.get(i));
            requireFloat("emaUpdate", shadow, param);
            if (!shadow.isContiguous()) throw new IllegalArgumentException(device + " emaUpdate: shadow tensors must be contiguous");
            entries.add(new int[]{shadow.numel(), KernelArgs.base(shadow), KernelArgs.base(param), 0, 0});
        }
        foreachLaunches(0, entries, decay, 1 - decay);
    }

    @Override
    public synchronized List<Tensor> scaled(List<Tensor> tensors, double factor) {
        List<Tensor> out = new ArrayList<>();
        List<int[]> entries = new ArrayList<>();
        for (Tensor t : tensors) {
            requireFloat("scaled", t);
            Tensor src = contiguous(t), dst = uninitialized(DType.F32, t.shape());
            out.add(dst);
            entries.add(new int[]{t.numel(), KernelArgs.base(src), KernelArgs.base(dst), 0, 0});
        }
        foreachLaunches(1, entries, factor, 0);
        return out;
    }

    /** Chunks of at least this many elements per work-item in {@link #sumOfSquares}. */
    private static final int SQUARES_CHUNK = 1024;

    /** Sums of squares per chunk of every tensor in one launch per table-full, then one sum and one value read back. */
    @Override
    public synchronized double sumOfSquares(List<Tensor> tensors) {
        long total = 0;
        for (Tensor t : tensors) total += t.numel();
        if (total == 0) return 0;
        int chunk = (int) Math.max(SQUARES_CHUNK, (total + 1023) / 1024); // about a thousand chunks, plus one per tensor
        List<Tensor> sources = new ArrayList<>();
        int chunks = 0;
        for (Tensor t : tensors) {
            requireFloat("sumOfSquares", t);
            if (t.numel() == 0) continue;
            sources.add(contiguous(t));
            chunks += (t.numel() + chunk - 1) / chunk;
        }
        Tensor partial = uninitialized(DType.F32, chunks);
        int perLaunch = DevicePlan.TENSOR_TABLE / TornadoKernels.TABLE_ENTRY, inTable = 0, written = 0;
        for (Tensor t : sources) {
            int base = KernelArgs.base(t), n = t.numel();
            for (int start = 0; start < n; start += chunk) {
                if (inTable == perLaunch) {
                    squaresLaunch(inTable);
                    inTable = 0;
                }
                int e = inTable * TornadoKernels.TABLE_ENTRY;
                plan.tensorTable.set(e + 1, base + start);
                plan.tensorTable.set(e + 2, Math.min(chunk, n - start));
                plan.tensorTable.set(e + 3, KernelArgs.base(partial) + written);
                inTable++;
                written++;
            }
        }
        squaresLaunch(inTable);
        return reduce(ReduceOp.SUM, partial, new int[]{0}, false, 0).item();
    }

    private void squaresLaunch(int entries) {
        if (entries == 0) return;
        args.set(0, entries);
        args.set(1, entries);
        args.set(2, 2);
        plan.launch1d(Kernel.FOREACH, entries);
    }

    /** {@link TornadoKernels#foreach} op 0 or 1 over per-tensor entries, with scalars s[0], s[1]. */
    private void foreachLaunches(int op, List<int[]> entries, double s0, double s1) {
        overTable(entries, (count, elements) -> {
            args.set(0, (int) (long) elements);
            args.set(1, count);
            args.set(2, op);
            args.scalar(0, s0);
            args.scalar(1, s1);
            plan.launch1d(Kernel.FOREACH, elements);
        });
    }

    /**
     * Fills the tensor table from per-tensor entries {elements, then four arena offsets} (empty tensors skipped) as
     * table entries {first element's index in the launch, the four offsets}, calling {@code launch(entries, elements)}
     * whenever the table is full and at the end.
     */
    private void overTable(List<int[]> tensors, java.util.function.BiConsumer<Integer, Long> launch) {
        int entries = 0;
        long elements = 0;
        for (int[] t : tensors) {
            int n = t[0];
            if (n == 0) continue;
            if ((entries + 1) * TornadoKernels.TABLE_ENTRY > DevicePlan.TENSOR_TABLE || elements + n > Integer.MAX_VALUE - DevicePlan.GROUP) {
                launch.accept(entries, elements);
                entries = 0;
                elements = 0;
            }
            int e = entries * TornadoKernels.TABLE_ENTRY;
            plan.tensorTable.set(e, (int) elements);
            for (int k = 1; k < TornadoKernels.TABLE_ENTRY; k++) plan.tensorTable.set(e + k, t[k]);
            entries++;
            elements += n;
        }
        if (entries > 0) launch.accept(entries, elements);
    }

    /** The scalars of {@link TornadoKernels#adam} and {@link TornadoKernels#adamMulti}. */
    private void adamScalars(double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        args.scalar(0, lr);
        args.scalar(1, beta1);
        args.scalar(2, beta2);
        args.scalar(3, eps);
        args.scalar(4, weightDecay);
        args.scalar(5, lr / (1 - Math.pow(beta1, step)));
        args.scalar(6, Math.sqrt(1 - Math.pow(beta2, step)));
    }

    // ------------------------------------------------------------------------------------------------ on the host for now

    private Tensor host(Tensor t) {
        return t == null ? null : t.to(Device.CPU);
    }

    private Tensor up(Tensor t) {
        return t.to(device);
    }

    private Tensor onHost(String op, java.util.function.Supplier<Tensor> body) {
        if (hostOpsWarned.add(op))
            LOG.log(System.Logger.Level.WARNING, "{0} has no {1} kernel yet: it runs on the host (two copies per call)", device, op);
        return up(body.get());
    }

    // ------------------------------------------------------------------------------------------------ convolution

    @Override
    public synchronized Tensor conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dParams p) {
        return conv2dAdd(x, weight, bias, p, null);
    }

    /** The addend (any strides) added by the kernel as it stores each output, after the bias: no extra launch. */
    @Override
    public synchronized Tensor conv2dAdd(Tensor x, Tensor weight, Tensor bias, Conv2dParams p, Tensor addend) {
        requireFloat("conv2d", x, weight);
        if (addend != null) requireFloat("conv2d addend", addend);
        Tensor xc = samplesContiguous(x), wc = contiguous(weight), bc = bias == null ? null : contiguous(bias);
        int[] xs = x.shape(), ws = weight.shape();
        int oh = Conv2dParams.convOut(xs[2], ws[2], p.strideH(), p.padH(), p.dilationH());
        int ow = Conv2dParams.convOut(xs[3], ws[3], p.strideW(), p.padW(), p.dilationW());
        Tensor out = uninitialized(DType.F32, xs[0], ws[0], oh, ow);
        if (out.numel() == 0) return out;
        int og = ws[0] / p.groups();
        convLaunch(0, og, xs[0] * oh * ow, ws[1] * ws[2] * ws[3], p, xs, ws, oh, ow, xc, wc, null, bc, out, addend);
        return out;
    }

    @Override
    public synchronized Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p) {
        return conv2dBackwardInput(gradOut, weight, inputShape, p, null);
    }

    /** The addend (any strides) added by the kernel as it stores each input-gradient element: no extra launch. */
    @Override
    public synchronized Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p, Tensor addend) {
        requireFloat("conv2dBackwardInput", gradOut, weight);
        if (addend != null) requireFloat("conv2dBackwardInput addend", addend);
        Tensor gc = samplesContiguous(gradOut), wc = contiguous(weight);
        int[] ws = weight.shape(), gs = gradOut.shape();
        Tensor out = uninitialized(DType.F32, inputShape);
        if (out.numel() == 0) return out;
        int og = ws[0] / p.groups();
        convLaunch(1, ws[1], inputShape[0] * inputShape[2] * inputShape[3], og * ws[2] * ws[3], p, inputShape, ws, gs[2], gs[3], null, wc, gc, null, out, addend);
        return out;
    }

    @Override
    public synchronized Tensor conv2dBackwardWeight(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p) {
        return conv2dParamGradients(gradOut, x, weightShape, p, false).weight();
    }

    /** The bias gradient as one more column of the weight gradient's GEMM (against ones): one launch for both. */
    @Override
    public synchronized ParamGradients conv2dParamGradients(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p, boolean withBias) {
        requireFloat("conv2dBackwardWeight", gradOut, x);
        Tensor gc = samplesContiguous(gradOut), xc = samplesContiguous(x);
        int[] xs = x.shape(), gs = gradOut.shape();
        Tensor out = uninitialized(DType.F32, weightShape);
        Tensor bias = withBias ? uninitialized(DType.F32, weightShape[0]) : null;
        if (out.numel() == 0 && bias == null) return new ParamGradients(out, null);
        int og = weightShape[0] / p.groups();
        int k = xs[0] * gs[2] * gs[3];
        if (k == 0) {
            fill(out, 0);
            if (bias != null) fill(bias, 0);
            return new ParamGradients(out, bias);
        }
        convLaunch(2, og, weightShape[1] * weightShape[2] * weightShape[3], k, p, xs, weightShape, gs[2], gs[3], xc, null, gc, bias, out, null);
        return new ParamGradients(out, bias);
    }

    /**
     * t [N, C, H, W] itself when each sample is contiguous, as in a channel slice of a concat's gradient (the conv
     * kernels take a sample stride), else a contiguous copy.
     */
    private Tensor samplesContiguous(Tensor t) {
        return t.numel() == 0 || t.narrow(0, 0, 1).isContiguous() ? t : contiguousCopy(t);
    }

    /** The distance between samples of a {@link #samplesContiguous} tensor (any value serves a single sample). */
    private static int sampleStride(Tensor t) {
        int[] sh = t.shape();
        return sh[0] == 1 ? sh[1] * sh[2] * sh[3] : t.strides()[0];
    }

    /** {@code -Ddistillery.tornado.conv=auto|tile|blocked}: which conv kernel (read per call; tests force each one). */
    static final String CONV_KERNEL_PROPERTY = "distillery.tornado.conv";

    /**
     * The {@link TornadoKernels#conv} layout and launch; x, w, gradOut, bias, addend (modes 0 and 1) may be null where
     * the mode does not read them. As in {@link #matmul}, the implicit GEMM (M x N per group) runs on the 64 x 64 register-blocked
     * {@link TornadoKernels#convBlocked} where M and N are both at least {@value #BLOCKED_MIN}, else on 16 x 16 tiles;
     * {@link #CONV_KERNEL_PROPERTY} forces either. a[4] counts row tiles or blocks per group accordingly.
     */
    private void convLaunch(int mode, int m, int n, int k, Conv2dParams p, int[] xs, int[] ws, int oh, int ow,
                            Tensor x, Tensor w, Tensor gradOut, Tensor bias, Tensor out, Tensor addend) {
        boolean blocked = useBlocked(CONV_KERNEL_PROPERTY, m, n);
        int edge = blocked ? 64 : TornadoKernels.TILE;
        int rowTiles = (m + edge - 1) / edge;
        int columns = mode == 2 && bias != null ? n + 1 : n; // a weight gradient's extra column: the bias gradient
        int colTiles = (columns + edge - 1) / edge;
        int[] addendStrides = addend == null ? new int[4] : addend.strides();
        int[] v = {mode, m, n, k, rowTiles, x == null ? 0 : KernelArgs.base(x), w == null ? 0 : KernelArgs.base(w),
                gradOut == null ? 0 : KernelArgs.base(gradOut), bias == null ? -1 : KernelArgs.base(bias), KernelArgs.base(out),
                xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[2], ws[3], oh, ow, ws[0] / p.groups(),
                p.strideH(), p.strideW(), p.padH(), p.padW(), p.dilationH(), p.dilationW(), columns - n,
                x == null ? 0 : sampleStride(x), gradOut == null ? 0 : sampleStride(gradOut), addend == null ? -1 : KernelArgs.base(addend),
                addendStrides[0], addendStrides[1], addendStrides[2], addendStrides[3]};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        plan.launchTiled(blocked ? Kernel.CONV_BLOCKED : Kernel.CONV, colTiles, (long) p.groups() * rowTiles);
    }

    // ------------------------------------------------------------------------------------------------ pooling, resizing

    @Override
    public synchronized Tensor avgPool2d(Tensor x, Pool2dParams p) {
        return pool(0, x, p).values();
    }

    @Override
    public synchronized ValuesIndices maxPool2d(Tensor x, Pool2dParams p) {
        return pool(1, x, p);
    }

    private ValuesIndices pool(int kind, Tensor x, Pool2dParams p) {
        requireFloat(kind == 0 ? "avgPool2d" : "maxPool2d", x);
        Tensor xc = contiguous(x);
        int[] s = x.shape();
        int oh = p.outH(s[2]), ow = p.outW(s[3]);
        Tensor out = uninitialized(DType.F32, s[0], s[1], oh, ow);
        Tensor idx = kind == 1 ? uninitialized(DType.I64, s[0], s[1], oh, ow) : null;
        if (out.numel() == 0) return new ValuesIndices(out, idx);
        int[] v = {out.numel(), kind, s[2], s[3], oh, ow, idx == null ? 0 : KernelArgs.base(idx), p.kernelH(), p.kernelW(),
                p.strideH(), p.strideW(), p.padH(), p.padW(), KernelArgs.base(xc), KernelArgs.base(out)};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        plan.launch1d(Kernel.POOL, out.numel());
        return new ValuesIndices(out, idx);
    }

    @Override
    public synchronized Tensor upsample2d(Tensor x, int outH, int outW, boolean bilinear, boolean alignCorners) {
        requireFloat("upsample2d", x);
        Tensor xc = contiguous(x);
        int[] s = x.shape();
        Tensor out = uninitialized(DType.F32, s[0], s[1], outH, outW);
        if (out.numel() == 0) return out;
        int[] v = {out.numel(), !bilinear ? 0 : alignCorners ? 2 : 1, s[2], s[3], outH, outW, KernelArgs.base(xc), KernelArgs.base(out)};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        if (bilinear && alignCorners) {
            args.scalar(0, outH > 1 ? (double) (s[2] - 1) / (outH - 1) : 0);
            args.scalar(1, outW > 1 ? (double) (s[3] - 1) / (outW - 1) : 0);
        } else {
            args.scalar(0, bilinear ? (double) s[2] / outH : (float) s[2] / outH); // nearest: PyTorch's float scale
            args.scalar(1, bilinear ? (double) s[3] / outW : (float) s[3] / outW);
        }
        plan.launch1d(Kernel.RESIZE, out.numel());
        return out;
    }

    // ------------------------------------------------------------------------------------------------ indexing

    @Override
    public synchronized Tensor indexSelect(Tensor x, int dim, Tensor index) {
        int[] shape = x.shape();
        shape[dim] = index.numel();
        return gatherLaunch(1, x, dim, index, shape);
    }

    @Override
    public synchronized Tensor gather(Tensor x, int dim, Tensor index) {
        return gatherLaunch(0, x, dim, index, index.shape());
    }

    private Tensor gatherLaunch(int mode, Tensor x, int dim, Tensor index, int[] outShape) {
        Tensor idx = contiguous(index);
        Tensor out = uninitialized(x.dtype(), outShape);
        if (out.numel() == 0) return out;
        int r = outShape.length;
        if (8 + 2 * r > KernelArgs.INTS) throw new IllegalArgumentException(device + " gather: rank " + r + " is too high");
        int[] st = x.strides();
        int[] v = {out.numel(), mode, r, dim, KernelArgs.base(x), KernelArgs.base(idx), KernelArgs.base(out), x.dtype() == DType.F32 ? 0 : 1};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        for (int d = 0; d < r; d++) {
            args.set(8 + d, outShape[d]);
            args.set(8 + r + d, st[d]);
        }
        plan.launch1d(Kernel.GATHER, out.numel());
        return out;
    }

    @Override
    public synchronized Tensor scatterAdd(Tensor index, Tensor src, int dim, int[] outShape) {
        requireFloat("scatterAdd", src);
        Tensor out = uninitialized(DType.F32, outShape);
        if (out.numel() == 0) return out;
        if (src.numel() == 0) {
            fill(out, 0);
            return out;
        }
        Tensor idx = contiguous(index), sc = contiguous(src);
        int[] shape = src.shape(), srcStrides = sc.strides();
        int r = shape.length;
        if (8 + 3 * r > KernelArgs.INTS) throw new IllegalArgumentException(device + " scatterAdd: rank " + r + " is too high");
        int[] v = {out.numel(), 0, r, dim, KernelArgs.base(sc), KernelArgs.base(idx), KernelArgs.base(out), 0};
        for (int i = 0; i < v.length; i++) args.set(i, v[i]);
        for (int d = 0; d < r; d++) {
            args.set(8 + d, outShape[d]);
            args.set(8 + r + d, shape[d]);
            args.set(8 + 2 * r + d, srcStrides[d]);
        }
        plan.launch1d(Kernel.SCATTER_ADD, out.numel());
        return out;
    }

    // ------------------------------------------------------------------------------------------------ random

    @Override
    public synchronized void fillRandom(Tensor dst, RandomKind kind, double a, double b, long seed, long offset) {
        requireFloat("fillRandom", dst);
        int n = dst.numel();
        if (n == 0) return;
        args.set(0, n);
        args.set(1, KernelArgs.base(dst));
        args.set(2, kind == RandomKind.UNIFORM ? 0 : 1);
        args.set(3, (int) (seed >>> 32));
        args.set(4, (int) seed);
        args.set(5, (int) (offset >>> 32));
        args.set(6, (int) offset);
        args.scalar(0, a);
        args.scalar(1, b);
        plan.launch1d(Kernel.RANDOM, n);
    }

    @Override
    public String toString() {
        return device + " (" + plan.deviceName() + ")";
    }
}
