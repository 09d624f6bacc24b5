package dev.distillery.tensor;

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
import dev.distillery.tensor.backend.ReduceOp;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.backend.ValuesIndices;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An N-d tensor: a {@link Storage} plus a layout (shape, strides, offset, all in elements). Views (reshape,
 * permute, transpose, narrow, expand, squeeze, unsqueeze, select) share storage and cost nothing;
 * {@link #contiguous()} copies only when the layout is not already row-major.
 *
 * <p>Tensors are immutable values as far as this API goes: every op returns a new tensor. Ops check shapes and
 * dtypes here, name the op and the shapes in their errors, resolve broadcasting into stride-0 views and then call
 * the {@link Backend} of the tensor's device. There is no implicit dtype promotion: mixing F32 and F64 is an
 * error, and F16/BF16 tensors must be converted with {@link #to(DType)} before arithmetic.
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    private Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ------------------------------------------------------------------------------------------ construction

    /** A tensor over existing storage with an explicit layout (checked to stay inside the storage). */
    public static Tensor of(Storage storage, int[] shape, int[] strides, int offset) {
        if (shape.length != strides.length)
            throw new IllegalArgumentException("shape " + Shapes.str(shape) + " and strides " + Shapes.str(strides) + " differ in rank");
        long lo = offset, hi = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("negative dimension in shape " + Shapes.str(shape));
            if (shape[i] == 0) { lo = 0; hi = -1; break; }
            long ext = (long) strides[i] * (shape[i] - 1);
            if (ext < 0) lo += ext; else hi += ext;
        }
        if (hi >= lo && (lo < 0 || hi >= storage.length()))
            throw new IllegalArgumentException("layout shape " + Shapes.str(shape) + " strides " + Shapes.str(strides) + " offset " + offset
                    + " reaches outside a storage of " + storage.length() + " elements");
        return new Tensor(storage, shape.clone(), strides.clone(), offset);
    }

    /** A contiguous tensor over existing storage. */
    public static Tensor of(Storage storage, int... shape) {
        int n = Shapes.numel(shape);
        if (n != storage.length())
            throw new IllegalArgumentException("storage of " + storage.length() + " elements does not match shape " + Shapes.str(shape) + " (" + n + " elements)");
        return new Tensor(storage, shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** An F32 tensor holding a copy of {@code data}. */
    public static Tensor of(float[] data, int... shape) {
        return of(new Storage.FloatStorage(data.clone()), shape);
    }

    /** An F64 tensor holding a copy of {@code data}. */
    public static Tensor of(double[] data, int... shape) {
        return of(new Storage.DoubleStorage(data.clone()), shape);
    }

    /** An I64 tensor holding a copy of {@code data}. */
    public static Tensor ofLongs(long[] data, int... shape) {
        return of(new Storage.LongStorage(data.clone()), shape);
    }

    /** A 0-d tensor. */
    public static Tensor scalar(double value, DType dtype) {
        Storage s = Storage.allocate(dtype, 1);
        s.setDouble(0, value);
        return of(s);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return Backends.forDevice(Device.CPU).zeros(dtype, shape);
    }

    public static Tensor zeros(DType dtype, Device device, int... shape) {
        return Backends.forDevice(device).zeros(dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        if (value != 0) {
            Storage s = t.storage;
            for (int i = 0; i < s.length(); i++) s.setDouble(i, value);
        }
        return t;
    }

    /**
     * {@link #full(double, DType, int...)} on {@code device}: made on the host and moved (one small upload), so
     * constants that meet a device tensor (a backward seed, a mask, a kernel) live where that tensor does. On the
     * CPU it is exactly {@code full(value, dtype, shape)}.
     */
    public static Tensor full(double value, DType dtype, Device device, int... shape) {
        return full(value, dtype, shape).to(device);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1, dtype, shape);
    }

    /** {@code start, start+step, ...} below {@code end}, as {@code torch.arange}. */
    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || (end - start) / step < 0) throw new IllegalArgumentException("arange: empty or infinite range " + start + ".." + end + " step " + step);
        int n = (int) Math.ceil((end - start) / step);
        Tensor t = zeros(dtype, n);
        for (int i = 0; i < n; i++) t.storage.setDouble(i, start + i * step);
        return t;
    }

    public static Tensor arange(int n, DType dtype) {
        return arange(0, n, 1, dtype);
    }

    /** Standard normal draws from {@code rng}. */
    public static Tensor randn(Rng rng, DType dtype, int... shape) {
        return random(rng, RandomKind.NORMAL, 0, 1, dtype, shape);
    }

    /** Uniform draws on [0, 1). */
    public static Tensor rand(Rng rng, DType dtype, int... shape) {
        return random(rng, RandomKind.UNIFORM, 0, 1, dtype, shape);
    }

    /** Uniform draws on [lo, hi). */
    public static Tensor uniform(Rng rng, double lo, double hi, DType dtype, int... shape) {
        return random(rng, RandomKind.UNIFORM, lo, hi, dtype, shape);
    }

    /** Normal draws with the given mean and standard deviation. */
    public static Tensor normal(Rng rng, double mean, double std, DType dtype, int... shape) {
        return random(rng, RandomKind.NORMAL, mean, std, dtype, shape);
    }

    private static Tensor random(Rng rng, RandomKind kind, double a, double b, DType dtype, int... shape) {
        if (!dtype.isCompute()) throw new IllegalArgumentException(kind.name().toLowerCase() + ": random tensors are F32 or F64, not " + dtype);
        Backend be = Backends.forDevice(Device.CPU);
        Tensor t = be.zeros(dtype, shape);
        be.fillRandom(t, kind, a, b, rng.seed(), rng.advance(t.numel()));
        return t;
    }

    /** Integers uniform on [lo, hi) as I64. Draw i is floor(lo + u_i * (hi - lo)). */
    public static Tensor randint(Rng rng, long lo, long hi, int... shape) {
        if (hi <= lo) throw new IllegalArgumentException("randint: empty range [" + lo + ", " + hi + ")");
        int n = Shapes.numel(shape);
        long first = rng.advance(n);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = Math.min(hi - 1, lo + (long) Math.floor(Rng.uniform(rng.seed(), first + i) * (hi - lo)));
        return of(new Storage.LongStorage(out), shape);
    }

    /** A random permutation of 0..n-1 as I64 (Fisher-Yates over the generator's draws). */
    public static Tensor randperm(Rng rng, int n) {
        long first = rng.advance(n);
        long[] p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int) Math.floor(Rng.uniform(rng.seed(), first + i) * (i + 1));
            long tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return of(new Storage.LongStorage(p), n);
    }

    // ------------------------------------------------------------------------------------------ accessors

    public Storage storage() { return storage; }

    public DType dtype() { return storage.dtype(); }

    public Device device() { return storage.device(); }

    public int[] shape() { return shape.clone(); }

    public int[] strides() { return strides.clone(); }

    public int offset() { return offset; }

    public int dim() { return shape.length; }

    /** Size of dim {@code d} (negative counts from the end). */
    public int size(int d) { return shape[Shapes.dim("size", d, shape.length)]; }

    public int stride(int d) { return strides[Shapes.dim("stride", d, shape.length)]; }

    public int numel() { return Shapes.numel(shape); }

    public boolean isContiguous() {
        if (numel() == 0) return true;
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** Storage index of the element at a row-major linear position (slow; reference code and tests). */
    public int storageIndex(int linear) {
        int idx = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            int i = linear % shape[d];
            linear /= shape[d];
            idx += i * strides[d];
        }
        return idx;
    }

    /** The element at {@code index} as a double. */
    public double get(int... index) {
        if (index.length != shape.length) throw new IllegalArgumentException("get: " + index.length + " indices for a tensor of rank " + shape.length);
        int idx = offset;
        for (int d = 0; d < shape.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) throw new IndexOutOfBoundsException("get: index " + Arrays.toString(index) + " out of bounds for shape " + Shapes.str(shape));
            idx += index[d] * strides[d];
        }
        return hostStorage().getDouble(idx);
    }

    /** The value of a one-element tensor (copied back from a device when it lives on one). */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item: tensor of shape " + Shapes.str(shape) + " has " + numel() + " elements, not 1");
        if (!device().equals(Device.CPU)) return toDoubleArray()[0]; // a loss or a norm: one element comes back from the device
        return hostStorage().getDouble(storageIndex(0));
    }

    /** A row-major copy of the elements as floats. */
    public float[] toFloatArray() {
        if (numel() == 0) return new float[0];
        Tensor t = to(DType.F32).toHost().contiguous();
        float[] d = ((Storage.FloatStorage) t.storage).data();
        return t.offset == 0 && d.length == t.numel() ? d.clone() : Arrays.copyOfRange(d, t.offset, t.offset + t.numel());
    }

    /** A row-major copy of the elements as doubles. */
    public double[] toDoubleArray() {
        if (numel() == 0) return new double[0];
        Tensor t = toHost().to(DType.F64).contiguous(); // host first: a device may not store F64
        double[] d = ((Storage.DoubleStorage) t.storage).data();
        return Arrays.copyOfRange(d, t.offset, t.offset + t.numel());
    }

    /** A row-major copy of the elements as longs. */
    public long[] toLongArray() {
        if (numel() == 0) return new long[0];
        Tensor t = to(DType.I64).toHost().contiguous();
        long[] d = ((Storage.LongStorage) t.storage).data();
        return Arrays.copyOfRange(d, t.offset, t.offset + t.numel());
    }

    private Storage hostStorage() {
        if (!device().equals(Device.CPU)) throw new IllegalStateException("element access on " + device() + ": copy to the host first with to(Device.CPU)");
        return storage;
    }

    private Tensor toHost() {
        return device().equals(Device.CPU) ? this : to(Device.CPU);
    }

    private Backend backend() {
        return Backends.forDevice(device());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(Shapes.str(shape));
        if (!device().equals(Device.CPU)) sb.append(", ").append(device());
        if (device().equals(Device.CPU)) {
            int n = Math.min(numel(), 8);
            sb.append(" [");
            for (int i = 0; i < n; i++) sb.append(i > 0 ? ", " : "").append((float) storage.getDouble(storageIndex(i)));
            if (numel() > n) sb.append(", ...");
            sb.append(']');
        }
        return sb.append(')').toString();
    }

    // ------------------------------------------------------------------------------------------ views

    /** A view with a new shape (one dim may be -1); fails when the layout makes a copy necessary. */
    public Tensor view(int... newShape) {
        int[] ns = inferShape("view", newShape);
        int[] st = viewStrides(ns);
        if (st == null)
            throw new IllegalArgumentException("view: shape " + Shapes.str(shape) + " with strides " + Shapes.str(strides)
                    + " cannot be viewed as " + Shapes.str(ns) + " without a copy; use reshape");
        return new Tensor(storage, ns, st, offset);
    }

    /** Like {@link #view} but copies when the layout requires it. */
    public Tensor reshape(int... newShape) {
        int[] ns = inferShape("reshape", newShape);
        int[] st = viewStrides(ns);
        return st != null ? new Tensor(storage, ns, st, offset) : contiguous().view(ns);
    }

    /** Flattens dims {@code start..end} (inclusive) into one. */
    public Tensor flatten(int start, int end) {
        return reshape(Shapes.flattened("flatten", shape, start, end));
    }

    public Tensor flatten() {
        return reshape(numel());
    }

    private int[] inferShape(String op, int[] newShape) {
        return Shapes.reshaped(op, shape, newShape);
    }

    /** Strides that view this layout as {@code ns}, or null if impossible (PyTorch's computeStride). */
    private int[] viewStrides(int[] ns) {
        if (isContiguous()) return Shapes.contiguousStrides(ns);
        int n = numel();
        int[] out = new int[ns.length];
        if (n == 0) return Shapes.contiguousStrides(ns);
        int viewD = ns.length - 1;
        long chunkBase = strides.length == 0 ? 1 : strides[strides.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || ns[viewD] == 1)) {
                    out[viewD] = (int) (viewNumel * chunkBase);
                    viewNumel *= ns[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        if (viewD != -1) return null;
        return out;
    }

    /** Reorders dims: result dim i is this tensor's dim {@code order[i]}. */
    public Tensor permute(int... order) {
        if (order.length != shape.length) throw new IllegalArgumentException("permute: " + Arrays.toString(order) + " for a tensor of rank " + shape.length);
        int[] ns = new int[order.length], st = new int[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int d = Shapes.dim("permute", order[i], shape.length);
            if (seen[d]) throw new IllegalArgumentException("permute: dim " + d + " repeated in " + Arrays.toString(order));
            seen[d] = true;
            ns[i] = shape[d];
            st[i] = strides[d];
        }
        return new Tensor(storage, ns, st, offset);
    }

    /** Swaps two dims. */
    public Tensor transpose(int d0, int d1) {
        int a = Shapes.dim("transpose", d0, shape.length), b = Shapes.dim("transpose", d1, shape.length);
        int[] order = new int[shape.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    /** Transpose of the last two dims. */
    public Tensor mT() {
        if (shape.length < 2) throw new IllegalArgumentException("mT: needs rank >= 2, got shape " + Shapes.str(shape));
        return transpose(-2, -1);
    }

    /** {@code length} entries of dim {@code d} starting at {@code start}. */
    public Tensor narrow(int d, int start, int length) {
        int dd = Shapes.dim("narrow", d, shape.length);
        if (start < 0 || length < 0 || start + length > shape[dd])
            throw new IllegalArgumentException("narrow: [" + start + ", " + (start + length) + ") out of range for dim " + dd + " of shape " + Shapes.str(shape));
        int[] ns = shape.clone();
        ns[dd] = length;
        return new Tensor(storage, ns, strides.clone(), offset + start * strides[dd]);
    }

    /** Python-style {@code [start:end:step]} along dim {@code d} (negative start/end count from the end). */
    public Tensor slice(int d, int start, int end, int step) {
        int dd = Shapes.dim("slice", d, shape.length);
        if (step < 1) throw new IllegalArgumentException("slice: step must be >= 1, got " + step);
        int n = shape[dd];
        int s = Math.max(0, Math.min(n, start < 0 ? start + n : start));
        int e = Math.max(s, Math.min(n, end < 0 ? end + n : end));
        int[] ns = shape.clone(), st = strides.clone();
        ns[dd] = (e - s + step - 1) / step;
        st[dd] = strides[dd] * step;
        return new Tensor(storage, ns, st, offset + s * strides[dd]);
    }

    /** Index {@code i} of dim {@code d}, removing that dim. */
    public Tensor select(int d, int i) {
        int dd = Shapes.dim("select", d, shape.length);
        int ii = i < 0 ? i + shape[dd] : i;
        if (ii < 0 || ii >= shape[dd]) throw new IndexOutOfBoundsException("select: index " + i + " out of range for dim " + dd + " of shape " + Shapes.str(shape));
        return new Tensor(storage, remove(shape, dd), remove(strides, dd), offset + ii * strides[dd]);
    }

    /** Broadcasts to {@code newShape} with stride-0 dims; -1 keeps a dim. */
    public Tensor expand(int... newShape) {
        if (newShape.length < shape.length)
            throw new IllegalArgumentException("expand: cannot expand shape " + Shapes.str(shape) + " to fewer dims " + Shapes.str(newShape));
        int lead = newShape.length - shape.length;
        int[] ns = new int[newShape.length], st = new int[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            int want = newShape[i];
            if (i < lead) {
                if (want < 0) throw new IllegalArgumentException("expand: -1 not allowed for new leading dim in " + Shapes.str(newShape));
                ns[i] = want;
                st[i] = 0;
            } else {
                int have = shape[i - lead];
                if (want == -1 || want == have) {
                    ns[i] = have;
                    st[i] = strides[i - lead];
                } else if (have == 1) {
                    ns[i] = want;
                    st[i] = 0;
                } else {
                    throw new IllegalArgumentException("expand: shape " + Shapes.str(shape) + " cannot be expanded to " + Shapes.str(newShape));
                }
            }
        }
        return new Tensor(storage, ns, st, offset);
    }

    /** Removes all size-1 dims. */
    public Tensor squeeze() {
        int k = 0;
        for (int s : shape) if (s != 1) k++;
        int[] ns = new int[k], st = new int[k];
        k = 0;
        for (int i = 0; i < shape.length; i++)
            if (shape[i] != 1) {
                ns[k] = shape[i];
                st[k++] = strides[i];
            }
        return new Tensor(storage, ns, st, offset);
    }

    /** Removes dim {@code d} if it has size 1 (else returns this tensor, as PyTorch). */
    public Tensor squeeze(int d) {
        int dd = Shapes.dim("squeeze", d, shape.length);
        if (shape[dd] != 1) return this;
        return new Tensor(storage, remove(shape, dd), remove(strides, dd), offset);
    }

    /** Inserts a size-1 dim at position {@code d} (0..rank). */
    public Tensor unsqueeze(int d) {
        int dd = Shapes.dim("unsqueeze", d, shape.length + 1);
        int[] ns = new int[shape.length + 1], st = new int[shape.length + 1];
        for (int i = 0, j = 0; i < ns.length; i++) {
            if (i == dd) {
                ns[i] = 1;
                st[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                ns[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new Tensor(storage, ns, st, offset);
    }

    private static int[] remove(int[] a, int i) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }

    /**
     * This tensor if its layout is already row-major (it may start at an offset into a larger storage, as a narrow of
     * the outer dim does), else a contiguous copy.
     */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        return copy(dtype());
    }

    /** A contiguous copy that shares nothing with this tensor. */
    public Tensor copy() {
        return copy(dtype());
    }

    private Tensor copy(DType to) {
        Backend be = backend();
        Tensor out = be.uninitialized(to, shape); // copyInto writes every element
        be.copyInto(this, out);
        return out;
    }

    /** Converts to {@code dtype} (returns this tensor if it already has it). */
    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : copy(dtype);
    }

    /** Moves to {@code device} (returns this tensor if already there). */
    public Tensor to(Device target) {
        if (target.equals(device())) return this;
        Backend dst = Backends.forDevice(target);
        if (device().equals(Device.CPU)) return dst.fromHost(this, dtype());
        Backend src = Backends.forDevice(device());
        Tensor out = dst.zeros(dtype(), shape);
        // The non-CPU side does the transfer; CPU storage is what both understand.
        if (target.equals(Device.CPU)) src.copyInto(this, out);
        else dst.copyInto(this, out);
        return out;
    }

    /** Writes {@code src} (broadcast to this shape, converted to this dtype, from any device) into this tensor's elements, in place. */
    public Tensor copyFrom(Tensor src) {
        // A device source into a host tensor: the host backend cannot read device storage, so download it first
        // (a host source into a device tensor is uploaded by the device backend's copyInto).
        if (device().equals(Device.CPU) && !src.device().equals(Device.CPU)) src = src.to(Device.CPU);
        Tensor s = src.expandTo("copyFrom", shape);
        backend().copyInto(s, this);
        return this;
    }

    private Tensor expandTo(String op, int[] target) {
        if (Arrays.equals(shape, target)) return this;
        int[] b = Shapes.broadcast(op, shape, target);
        if (!Arrays.equals(b, target))
            throw new IllegalArgumentException(op + ": shape " + Shapes.str(shape) + " cannot be broadcast to " + Shapes.str(target));
        return expand(target);
    }

    // ------------------------------------------------------------------------------------------ checks

    private void requireCompute(String op) {
        if (!dtype().isCompute())
            throw new IllegalArgumentException(op + ": needs an F32 or F64 tensor, got " + dtype() + Shapes.str(shape)
                    + (dtype().isFloatingPoint() ? " (convert with .to(DType.F32))" : ""));
    }

    private void requireSame(String op, Tensor other) {
        if (other.dtype() != dtype())
            throw new IllegalArgumentException(op + ": dtypes differ: " + dtype() + Shapes.str(shape) + " and " + other.dtype() + Shapes.str(other.shape));
        if (!other.device().equals(device()))
            throw new IllegalArgumentException(op + ": devices differ: " + device() + " and " + other.device());
    }

    // ------------------------------------------------------------------------------------------ elementwise

    private Tensor unary(String name, UnaryOp op, double p0, double p1) {
        requireCompute(name);
        return backend().unary(op, this, p0, p1);
    }

    public Tensor neg() { return unary("neg", UnaryOp.NEG, 0, 0); }
    public Tensor exp() { return unary("exp", UnaryOp.EXP, 0, 0); }
    public Tensor log() { return unary("log", UnaryOp.LOG, 0, 0); }
    public Tensor sqrt() { return unary("sqrt", UnaryOp.SQRT, 0, 0); }
    public Tensor rsqrt() { return unary("rsqrt", UnaryOp.RSQRT, 0, 0); }
    public Tensor abs() { return unary("abs", UnaryOp.ABS, 0, 0); }
    public Tensor tanh() { return unary("tanh", UnaryOp.TANH, 0, 0); }
    public Tensor sigmoid() { return unary("sigmoid", UnaryOp.SIGMOID, 0, 0); }
    public Tensor silu() { return unary("silu", UnaryOp.SILU, 0, 0); }
    /** GELU, exact (erf) form: {@code x * Phi(x)}. */
    public Tensor gelu() { return unary("gelu", UnaryOp.GELU_ERF, 0, 0); }
    /** GELU, tanh approximation: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public Tensor geluTanh() { return unary("geluTanh", UnaryOp.GELU_TANH, 0, 0); }
    public Tensor relu() { return unary("relu", UnaryOp.RELU, 0, 0); }
    public Tensor leakyRelu(double slope) { return unary("leakyRelu", UnaryOp.LEAKY_RELU, slope, 0); }
    public Tensor square() { return unary("square", UnaryOp.SQUARE, 0, 0); }
    public Tensor sin() { return unary("sin", UnaryOp.SIN, 0, 0); }
    public Tensor cos() { return unary("cos", UnaryOp.COS, 0, 0); }
    public Tensor reciprocal() { return unary("reciprocal", UnaryOp.RECIPROCAL, 0, 0); }
    public Tensor sign() { return unary("sign", UnaryOp.SIGN, 0, 0); }
    public Tensor add(double s) { return unary("add", UnaryOp.ADD_SCALAR, s, 0); }
    public Tensor sub(double s) { return unary("sub", UnaryOp.ADD_SCALAR, -s, 0); }
    public Tensor mul(double s) { return unary("mul", UnaryOp.MUL_SCALAR, s, 0); }
    public Tensor div(double s) { return unary("div", UnaryOp.MUL_SCALAR, 1.0 / s, 0); }
    /** {@code s - this}. */
    public Tensor rsub(double s) { return unary("rsub", UnaryOp.RSUB_SCALAR, s, 0); }
    public Tensor pow(double e) { return unary("pow", UnaryOp.POW_SCALAR, e, 0); }

    /**
     * {@code gradOut * d op(this) / d this} for the unary op that {@code neg()}, {@code exp()}, ... apply: the
     * backward pass of every elementwise op of one input, in one kernel.
     */
    public Tensor unaryBackward(UnaryOp op, Tensor gradOut, double p0, double p1) {
        requireCompute("unaryBackward");
        requireSame("unaryBackward", gradOut);
        if (!Arrays.equals(shape, gradOut.shape))
            throw new IllegalArgumentException("unaryBackward(" + op + "): gradient shape " + Shapes.str(gradOut.shape) + " differs from input " + Shapes.str(shape));
        return backend().unaryBackward(op, this, gradOut, p0, p1);
    }

    /**
     * {@link #unaryBackward(UnaryOp, Tensor, double, double)} plus {@code addend} of this shape (null: none), in one
     * backend call: autograd's sum of a variable's gradients folded into the rule that computes one of them.
     */
    public Tensor unaryBackward(UnaryOp op, Tensor gradOut, double p0, double p1, Tensor addend) {
        if (addend == null) return unaryBackward(op, gradOut, p0, p1);
        requireCompute("unaryBackward");
        requireSame("unaryBackward", gradOut);
        requireSame("unaryBackward", addend);
        if (!Arrays.equals(gradOut.shape, shape) || !Arrays.equals(addend.shape, shape))
            throw new IllegalArgumentException("unaryBackward(" + op + "): gradient " + Shapes.str(gradOut.shape) + " and addend " + Shapes.str(addend.shape)
                    + " must have the input's shape " + Shapes.str(shape));
        return backend().unaryBackward(op, this, gradOut, p0, p1, addend);
    }

    /** Clamps to [lo, hi]; pass ±infinity for one side. */
    public Tensor clamp(double lo, double hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp: min " + lo + " > max " + hi);
        return unary("clamp", UnaryOp.CLAMP, lo, hi);
    }

    private Tensor binary(String name, BinaryOp op, Tensor other) {
        requireCompute(name);
        requireSame(name, other);
        int[] out = Shapes.broadcast(name, shape, other.shape);
        return backend().binary(op, expandTo(name, out), other.expandTo(name, out));
    }

    public Tensor add(Tensor o) { return binary("add", BinaryOp.ADD, o); }
    public Tensor sub(Tensor o) { return binary("sub", BinaryOp.SUB, o); }
    public Tensor mul(Tensor o) { return binary("mul", BinaryOp.MUL, o); }
    public Tensor div(Tensor o) { return binary("div", BinaryOp.DIV, o); }
    public Tensor pow(Tensor o) { return binary("pow", BinaryOp.POW, o); }
    public Tensor maximum(Tensor o) { return binary("maximum", BinaryOp.MAXIMUM, o); }
    public Tensor minimum(Tensor o) { return binary("minimum", BinaryOp.MINIMUM, o); }

    private Tensor compare(String name, CompareOp op, Tensor other) {
        requireCompute(name);
        requireSame(name, other);
        int[] out = Shapes.broadcast(name, shape, other.shape);
        return backend().compare(op, expandTo(name, out), other.expandTo(name, out));
    }

    public Tensor eq(Tensor o) { return compare("eq", CompareOp.EQ, o); }
    public Tensor ne(Tensor o) { return compare("ne", CompareOp.NE, o); }
    public Tensor lt(Tensor o) { return compare("lt", CompareOp.LT, o); }
    public Tensor le(Tensor o) { return compare("le", CompareOp.LE, o); }
    public Tensor gt(Tensor o) { return compare("gt", CompareOp.GT, o); }
    public Tensor ge(Tensor o) { return compare("ge", CompareOp.GE, o); }
    public Tensor gt(double s) { return gt(scalar(s, dtype()).to(device())); }
    public Tensor lt(double s) { return lt(scalar(s, dtype()).to(device())); }

    /** {@code cond ? a : b} with broadcasting of all three; {@code cond} is BOOL. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        if (cond.dtype() != DType.BOOL) throw new IllegalArgumentException("where: condition must be BOOL, got " + cond.dtype() + Shapes.str(cond.shape));
        a.requireCompute("where");
        a.requireSame("where", b);
        int[] out = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
        return a.backend().where(cond.expandTo("where", out), a.expandTo("where", out), b.expandTo("where", out));
    }

    // ------------------------------------------------------------------------------------------ reductions

    private int[] reduceDims(String op, int[] dims) {
        if (dims.length == 0) {
            int[] all = new int[shape.length];
            for (int i = 0; i < all.length; i++) all[i] = i;
            return all;
        }
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = Shapes.dim(op, dims[i], shape.length);
        Arrays.sort(d);
        for (int i = 1; i < d.length; i++) if (d[i] == d[i - 1]) throw new IllegalArgumentException(op + ": dim " + d[i] + " repeated");
        return d;
    }

    private Tensor reduce(String name, ReduceOp op, int[] dims, boolean keepDim, double correction) {
        requireCompute(name);
        int[] d = reduceDims(name, dims);
        if (shape.length == 0) return copy();
        for (int x : d)
            if (shape[x] == 0 && op != ReduceOp.SUM && op != ReduceOp.MEAN)
                throw new IllegalArgumentException(name + ": cannot reduce empty dim " + x + " of shape " + Shapes.str(shape));
        return backend().reduce(op, this, d, keepDim, correction);
    }

    /** Sum over {@code dims} (all dims if none given), dropping them. */
    public Tensor sum(int... dims) { return reduce("sum", ReduceOp.SUM, dims, false, 0); }
    public Tensor sum(int[] dims, boolean keepDim) { return reduce("sum", ReduceOp.SUM, dims, keepDim, 0); }
    public Tensor mean(int... dims) { return reduce("mean", ReduceOp.MEAN, dims, false, 0); }
    public Tensor mean(int[] dims, boolean keepDim) { return reduce("mean", ReduceOp.MEAN, dims, keepDim, 0); }
    public Tensor max(int... dims) { return reduce("max", ReduceOp.MAX, dims, false, 0); }
    public Tensor max(int[] dims, boolean keepDim) { return reduce("max", ReduceOp.MAX, dims, keepDim, 0); }
    public Tensor min(int... dims) { return reduce("min", ReduceOp.MIN, dims, false, 0); }
    public Tensor min(int[] dims, boolean keepDim) { return reduce("min", ReduceOp.MIN, dims, keepDim, 0); }
    public Tensor logsumexp(int[] dims, boolean keepDim) { return reduce("logsumexp", ReduceOp.LOGSUMEXP, dims, keepDim, 0); }

    /** Variance with a correction (1: unbiased, PyTorch's default; 0: population). */
    public Tensor var(int[] dims, double correction, boolean keepDim) { return reduce("var", ReduceOp.VAR, dims, keepDim, correction); }

    /** Index of the maximum along {@code dim} (first occurrence), as I64. */
    public Tensor argmax(int dim, boolean keepDim) { return reduce("argmax", ReduceOp.ARGMAX, new int[]{dim}, keepDim, 0); }
    public Tensor argmin(int dim, boolean keepDim) { return reduce("argmin", ReduceOp.ARGMIN, new int[]{dim}, keepDim, 0); }

    // ------------------------------------------------------------------------------------------ linear algebra

    /**
     * Matrix product with {@code torch.matmul} semantics: 1-D operands are promoted (and the added dim removed),
     * batch dims broadcast. Transposed operands (e.g. {@code b.mT()}) are read in place, without a copy.
     */
    public Tensor matmul(Tensor other) {
        return matmul(other, null);
    }

    /**
     * {@code matmul(other)} plus {@code bias} [N] broadcast over the rows ({@code torch.addmm}, Linear's x W^T + b), in
     * one backend call; other must be at least 2-D. A null bias is plain matmul.
     */
    public Tensor matmul(Tensor other, Tensor bias) {
        requireCompute("matmul");
        requireSame("matmul", other);
        if (bias != null) {
            requireSame("matmul", bias);
            if (other.shape.length < 2 || bias.shape.length != 1 || bias.shape[0] != other.shape[other.shape.length - 1])
                throw new IllegalArgumentException("matmul: bias must be [" + (other.shape.length < 2 ? "N" : other.shape[other.shape.length - 1])
                        + "] for a 2-D or larger right operand " + Shapes.str(other.shape) + ", got " + Shapes.str(bias.shape));
        }
        if (shape.length == 0 || other.shape.length == 0) throw new IllegalArgumentException("matmul: 0-d operands " + Shapes.str(shape) + " and " + Shapes.str(other.shape));
        Tensor a = shape.length == 1 ? unsqueeze(0) : this;
        Tensor b = other.shape.length == 1 ? other.unsqueeze(1) : other;
        int m = a.size(-2), k = a.size(-1), k2 = b.size(-2), n = b.size(-1);
        if (k != k2)
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape) + " do not align (" + k + " vs " + k2 + ")");
        int[] ab = Arrays.copyOf(a.shape, a.shape.length - 2), bb = Arrays.copyOf(b.shape, b.shape.length - 2);
        int[] batch = Shapes.broadcast("matmul", ab, bb);
        int nb = Shapes.numel(batch);
        Tensor a4 = a.expand(concat(batch, m, k)), b4 = b.expand(concat(batch, k, n));
        Tensor out;
        if (batch.length == 2 && (!batchMerges(a4, 2) || !batchMerges(b4, 2))) {
            // Two batch dims that one stride cannot walk (attention's heads of a permuted projection): the backend
            // indexes both instead of a copy.
            out = backend().matmulTwoBatchDims(a4, b4, bias).view(concat(batch, m, n));
        } else {
            Tensor a3 = flattenBatch(a4, batch.length, nb), b3 = flattenBatch(b4, batch.length, nb);
            out = backend().matmul(a3, b3, bias).view(concat(batch, m, n));
        }
        if (shape.length == 1) out = out.squeeze(-2);
        if (other.shape.length == 1) out = out.squeeze(-1);
        return out;
    }

    /**
     * {@code matmul(other)} plus {@code addend} of the product's shape, in one backend call where the product has one
     * batch level and the addend is contiguous (else a product and an add): autograd's sum of a variable's gradients
     * folded into the rule that computes one of them (Linear's input gradient).
     */
    public Tensor matmulAdd(Tensor other, Tensor addend) {
        Tensor product = null;
        if (shape.length >= 2 && other.shape.length == 2 && addend.isContiguous()) {
            requireCompute("matmulAdd");
            requireSame("matmulAdd", other);
            requireSame("matmulAdd", addend);
            int m = size(-2), k = size(-1), n = other.shape[1];
            int[] batch = Arrays.copyOf(shape, shape.length - 2);
            int nb = Shapes.numel(batch);
            if (k == other.shape[0] && Arrays.equals(addend.shape, concat(batch, m, n)))
                product = backend().matmulAdd(flattenBatch(this, batch.length, nb), other.unsqueeze(0).expand(nb, k, n), addend.view(nb, m, n))
                        .view(concat(batch, m, n));
        }
        return product != null ? product : matmul(other).add(addend);
    }

    /**
     * a [B1, B2, M, K] times b [B1, B2, K, N] written into {@code out} [B1, B2, M, N], whose layout may be any
     * non-overlapping one ({@link #uninitializedLike}): one backend call ({@link Backend#matmulInto}).
     */
    public static void matmulInto(Tensor a, Tensor b, Tensor out) {
        a.requireCompute("matmulInto");
        a.requireSame("matmulInto", b);
        a.requireSame("matmulInto", out);
        if (a.shape.length != 4 || b.shape.length != 4 || out.shape.length != 4 || a.shape[3] != b.shape[2]
                || !Arrays.equals(out.shape, new int[]{a.shape[0], a.shape[1], a.shape[2], b.shape[3]})
                || a.shape[0] != b.shape[0] || a.shape[1] != b.shape[1])
            throw new IllegalArgumentException("matmulInto: " + Shapes.str(a.shape) + " x " + Shapes.str(b.shape) + " into " + Shapes.str(out.shape)
                    + " (two equal batch dims, K matching)");
        a.backend().matmulInto(a, b, out);
    }

    /**
     * A new tensor of t's shape, dtype and device, with t's layout when t is a permutation of a contiguous layout (the
     * same strides: a gradient can be written in its input's layout); contents unspecified. Null when t's layout is not
     * such a permutation (overlapping, gapped, expanded).
     */
    public static Tensor uninitializedLike(Tensor t) {
        int r = t.shape.length;
        Integer[] order = new Integer[r];
        for (int i = 0; i < r; i++) order[i] = i;
        Arrays.sort(order, (i, j) -> t.strides[i] != t.strides[j] ? Integer.compare(t.strides[j], t.strides[i]) : Integer.compare(i, j));
        int[] permuted = new int[r], inverse = new int[r];
        for (int i = 0; i < r; i++) {
            permuted[i] = t.shape[order[i]];
            inverse[order[i]] = i;
        }
        Tensor laid = t.backend().uninitialized(t.dtype(), permuted).permute(inverse);
        for (int d = 0; d < r; d++) if (t.shape[d] > 1 && laid.strides[d] != t.strides[d]) return null;
        return laid;
    }

    private static int[] concat(int[] head, int... tail) {
        int[] r = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, r, head.length, tail.length);
        return r;
    }

    /**
     * The parameter gradients of Linear, y = x W^T + b, from its output gradient: the weight gradient [N, C], g^T x
     * summed over every leading dim (contiguous, the weight's layout), and with {@code withBias} the bias gradient [N],
     * g summed over the leading dims. x [..., C] and g [..., N] share their leading dims (none, for a single row).
     * One launch on a device backend ({@link Backend#linearParamGradients}).
     */
    public static ParamGradients linearParamGrads(Tensor gradOut, Tensor x, boolean withBias) {
        gradOut.requireCompute("linearParamGrads");
        gradOut.requireSame("linearParamGrads", x);
        int r = x.shape.length;
        if (r == 0 || gradOut.shape.length != r || !Arrays.equals(Arrays.copyOf(x.shape, r - 1), Arrays.copyOf(gradOut.shape, r - 1)))
            throw new IllegalArgumentException("linearParamGrads: gradient " + Shapes.str(gradOut.shape) + " and input " + Shapes.str(x.shape)
                    + " must share their leading dims");
        return gradOut.backend().linearParamGradients(leadingAsTwo(gradOut), leadingAsTwo(x), withBias);
    }

    /** t [..., m, c] as [p, m, c]: a view where the dims before m merge (or there are none), else a copy. */
    private static Tensor leadingAsTwo(Tensor t) {
        int r = t.shape.length;
        if (r == 1) return t.unsqueeze(0).unsqueeze(0);
        if (r == 2) return t.unsqueeze(0);
        return flattenBatch(t, r - 2, Shapes.numel(Arrays.copyOf(t.shape, r - 2)));
    }

    /** Views [b0.., m, k] as [B, m, k] when the batch dims collapse; copies otherwise. */
    private static Tensor flattenBatch(Tensor t, int batchRank, int nb) {
        if (batchRank == 0) return t.unsqueeze(0);
        if (batchMerges(t, batchRank)) {
            int batchStride = 0; // the innermost non-trivial batch dim's stride walks them all
            for (int i = batchRank - 1; i >= 0; i--)
                if (t.shape[i] != 1) {
                    batchStride = t.strides[i];
                    break;
                }
            return new Tensor(t.storage, new int[]{nb, t.shape[batchRank], t.shape[batchRank + 1]},
                    new int[]{batchStride, t.strides[batchRank], t.strides[batchRank + 1]}, t.offset);
        }
        return t.contiguous().view(nb, t.shape[batchRank], t.shape[batchRank + 1]);
    }

    /** Whether t's first batchRank dims collapse into one: size-1 dims aside, each stride is the next one's times its size. */
    private static boolean batchMerges(Tensor t, int batchRank) {
        int innerStride = -1, innerSize = 0;
        for (int i = batchRank - 1; i >= 0; i--) {
            if (t.shape[i] == 1) continue;
            if (innerStride >= 0 && t.strides[i] != innerStride * innerSize) return false;
            innerStride = t.strides[i];
            innerSize = t.shape[i];
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------ convolution, pooling, resize

    private void requireRank(String op, int rank, String what) {
        if (shape.length != rank) throw new IllegalArgumentException(op + ": " + what + " must have rank " + rank + ", got shape " + Shapes.str(shape));
    }

    /** 2-D convolution; {@code weight} [O, C/groups, kH, kW], {@code bias} [O] or null. */
    public Tensor conv2d(Tensor weight, Tensor bias, Conv2dParams p) {
        conv2dShape("conv2d", weight, bias, p);
        return backend().conv2d(this, weight, bias, p);
    }

    /**
     * {@code conv2d(weight, bias, p).add(addend)} in one backend call ({@link Backend#conv2dAdd}): the addend broadcasts
     * to the output's shape ([N, O, 1, 1]: a per-channel time embedding; the output's shape: a residual).
     */
    public Tensor conv2dAdd(Tensor weight, Tensor bias, Conv2dParams p, Tensor addend) {
        int[] out = conv2dShape("conv2dAdd", weight, bias, p);
        requireSame("conv2dAdd", addend);
        return backend().conv2dAdd(this, weight, bias, p, addend.expandTo("conv2dAdd", out));
    }

    /** Checks conv2d's operands; returns its output shape [N, O, outH, outW]. */
    private int[] conv2dShape(String op, Tensor weight, Tensor bias, Conv2dParams p) {
        requireCompute(op);
        requireRank(op, 4, "input");
        weight.requireRank(op, 4, "weight");
        requireSame(op, weight);
        int c = shape[1], o = weight.shape[0];
        if (c % p.groups() != 0 || o % p.groups() != 0 || weight.shape[1] * p.groups() != c)
            throw new IllegalArgumentException(op + ": input " + Shapes.str(shape) + " and weight " + Shapes.str(weight.shape) + " do not match with groups=" + p.groups());
        checkBias(op, bias, o);
        int oh = Conv2dParams.convOut(shape[2], weight.shape[2], p.strideH(), p.padH(), p.dilationH());
        int ow = Conv2dParams.convOut(shape[3], weight.shape[3], p.strideW(), p.padW(), p.dilationW());
        if (oh < 1 || ow < 1)
            throw new IllegalArgumentException(op + ": kernel " + Shapes.str(weight.shape) + " larger than padded input " + Shapes.str(shape));
        return new int[]{shape[0], o, oh, ow};
    }

    /** Gradient of {@link #conv2d} w.r.t. its input, of shape {@code inputShape} (the backward pass). */
    public static Tensor conv2dInputGrad(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p) {
        return conv2dInputGrad(gradOut, weight, inputShape, p, null);
    }

    /**
     * {@link #conv2dInputGrad(Tensor, Tensor, int[], Conv2dParams)} plus {@code addend} of the input's shape (null:
     * none) in one backend call: a gradient already pending for the input, folded in as the kernel stores.
     */
    public static Tensor conv2dInputGrad(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p, Tensor addend) {
        gradOut.requireCompute("conv2dInputGrad");
        gradOut.requireSame("conv2dInputGrad", weight);
        gradOut.requireRank("conv2dInputGrad", 4, "gradient");
        weight.requireRank("conv2dInputGrad", 4, "weight");
        if (inputShape.length != 4 || gradOut.shape[1] != weight.shape[0] || inputShape[1] != weight.shape[1] * p.groups())
            throw new IllegalArgumentException("conv2dInputGrad: gradient " + Shapes.str(gradOut.shape) + ", weight " + Shapes.str(weight.shape)
                    + " and input shape " + Shapes.str(inputShape) + " do not match with groups=" + p.groups());
        if (addend == null) return gradOut.backend().conv2dBackwardInput(gradOut, weight, inputShape.clone(), p);
        gradOut.requireSame("conv2dInputGrad", addend);
        if (!Arrays.equals(addend.shape, inputShape))
            throw new IllegalArgumentException("conv2dInputGrad: addend " + Shapes.str(addend.shape) + " differs from the input shape " + Shapes.str(inputShape));
        return gradOut.backend().conv2dBackwardInput(gradOut, weight, inputShape.clone(), p, addend);
    }

    /** Gradient of {@link #conv2d} w.r.t. its weight, of shape {@code weightShape} (the backward pass). */
    public static Tensor conv2dWeightGrad(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p) {
        conv2dWeightGradChecks(gradOut, x, weightShape, p);
        return gradOut.backend().conv2dBackwardWeight(gradOut, x, weightShape.clone(), p);
    }

    private static void conv2dWeightGradChecks(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p) {
        gradOut.requireCompute("conv2dWeightGrad");
        gradOut.requireSame("conv2dWeightGrad", x);
        gradOut.requireRank("conv2dWeightGrad", 4, "gradient");
        x.requireRank("conv2dWeightGrad", 4, "input");
        if (weightShape.length != 4 || gradOut.shape[1] != weightShape[0] || x.shape[1] != weightShape[1] * p.groups() || gradOut.shape[0] != x.shape[0])
            throw new IllegalArgumentException("conv2dWeightGrad: gradient " + Shapes.str(gradOut.shape) + ", input " + Shapes.str(x.shape)
                    + " and weight shape " + Shapes.str(weightShape) + " do not match with groups=" + p.groups());
    }

    /**
     * {@link #conv2dWeightGrad} and, with {@code withBias}, the bias gradient [O] ({@code gradOut} summed over batch,
     * height and width): one launch on a device backend ({@link Backend#conv2dParamGradients}).
     */
    public static ParamGradients conv2dParamGrads(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p, boolean withBias) {
        if (!withBias) return new ParamGradients(conv2dWeightGrad(gradOut, x, weightShape, p), null);
        conv2dWeightGradChecks(gradOut, x, weightShape, p);
        return gradOut.backend().conv2dParamGradients(gradOut, x, weightShape.clone(), p, true);
    }

    /** Transposed convolution; {@code weight} [C, O/groups, kH, kW] as in PyTorch, bias [O] or null. */
    public Tensor convTranspose2d(Tensor weight, Tensor bias, Conv2dParams p) {
        requireCompute("convTranspose2d");
        requireRank("convTranspose2d", 4, "input");
        weight.requireRank("convTranspose2d", 4, "weight");
        requireSame("convTranspose2d", weight);
        int c = shape[1], g = p.groups();
        if (weight.shape[0] != c || c % g != 0)
            throw new IllegalArgumentException("convTranspose2d: input " + Shapes.str(shape) + " and weight " + Shapes.str(weight.shape) + " do not match with groups=" + g);
        if (p.outputPaddingH() >= Math.max(p.strideH(), p.dilationH()) || p.outputPaddingW() >= Math.max(p.strideW(), p.dilationW()))
            throw new IllegalArgumentException("convTranspose2d: output padding must be smaller than stride or dilation");
        int o = weight.shape[1] * g;
        checkBias("convTranspose2d", bias, o);
        int oh = Conv2dParams.convTransposeOut(shape[2], weight.shape[2], p.strideH(), p.padH(), p.dilationH(), p.outputPaddingH());
        int ow = Conv2dParams.convTransposeOut(shape[3], weight.shape[3], p.strideW(), p.padW(), p.dilationW(), p.outputPaddingW());
        if (oh < 1 || ow < 1) throw new IllegalArgumentException("convTranspose2d: empty output for input " + Shapes.str(shape));
        // conv_transpose2d is the adjoint of conv2d: the input gradient of a conv whose input has our output shape.
        Tensor out = backend().conv2dBackwardInput(this, weight, new int[]{shape[0], o, oh, ow}, p);
        return bias == null ? out : out.add(bias.view(1, o, 1, 1));
    }

    private void checkBias(String op, Tensor bias, int o) {
        if (bias == null) return;
        requireSame(op, bias);
        if (bias.shape.length != 1 || bias.shape[0] != o)
            throw new IllegalArgumentException(op + ": bias must have shape [" + o + "], got " + Shapes.str(bias.shape));
    }

    public Tensor avgPool2d(Pool2dParams p) {
        requireCompute("avgPool2d");
        requireRank("avgPool2d", 4, "input");
        checkPool("avgPool2d", p);
        return backend().avgPool2d(this, p);
    }

    /** Max pool; {@link ValuesIndices#indices()} hold flat positions in each input plane. */
    public ValuesIndices maxPool2d(Pool2dParams p) {
        requireCompute("maxPool2d");
        requireRank("maxPool2d", 4, "input");
        checkPool("maxPool2d", p);
        return backend().maxPool2d(this, p);
    }

    private void checkPool(String op, Pool2dParams p) {
        if (p.outH(shape[2]) < 1 || p.outW(shape[3]) < 1)
            throw new IllegalArgumentException(op + ": window " + p.kernelH() + "x" + p.kernelW() + " larger than padded input " + Shapes.str(shape));
    }

    /** Nearest-neighbour resize of [N, C, H, W] (PyTorch's 'nearest'). */
    public Tensor upsampleNearest(int outH, int outW) {
        requireCompute("upsampleNearest");
        requireRank("upsampleNearest", 4, "input");
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("upsampleNearest: output size must be positive, got " + outH + "x" + outW);
        return backend().upsample2d(this, outH, outW, false, false);
    }

    /** Bilinear resize of [N, C, H, W]. */
    public Tensor upsampleBilinear(int outH, int outW, boolean alignCorners) {
        requireCompute("upsampleBilinear");
        requireRank("upsampleBilinear", 4, "input");
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("upsampleBilinear: output size must be positive, got " + outH + "x" + outW);
        return backend().upsample2d(this, outH, outW, true, alignCorners);
    }

    // ------------------------------------------------------------------------------------------ normalisation

    public Tensor softmax(int dim) {
        requireCompute("softmax");
        if (shape.length == 0) return full(1, dtype(), device());
        return backend().softmax(this, Shapes.dim("softmax", dim, shape.length), false);
    }

    public Tensor logSoftmax(int dim) {
        requireCompute("logSoftmax");
        if (shape.length == 0) return zeros(dtype(), device());
        return backend().softmax(this, Shapes.dim("logSoftmax", dim, shape.length), true);
    }

    /** The backward pass of {@link #softmax} ({@code log=false}) or {@link #logSoftmax}, given that op's output. */
    public static Tensor softmaxBackward(Tensor output, Tensor gradOut, int dim, boolean log) {
        output.requireCompute("softmaxBackward");
        output.requireSame("softmaxBackward", gradOut);
        if (!Arrays.equals(output.shape, gradOut.shape))
            throw new IllegalArgumentException("softmaxBackward: gradient " + Shapes.str(gradOut.shape) + " and output " + Shapes.str(output.shape) + " differ");
        return output.backend().softmaxBackward(output, gradOut, Shapes.dim("softmaxBackward", dim, output.shape.length), log);
    }

    /** Layer norm over the trailing dims {@code normalizedShape}; weight/bias of that shape or null. */
    public NormResult layerNorm(int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        requireCompute("layerNorm");
        int k = normalizedShape.length;
        if (k == 0 || k > shape.length || !Arrays.equals(Arrays.copyOfRange(shape, shape.length - k, shape.length), normalizedShape))
            throw new IllegalArgumentException("layerNorm: normalized shape " + Shapes.str(normalizedShape) + " is not a suffix of input shape " + Shapes.str(shape));
        for (Tensor t : new Tensor[]{weight, bias})
            if (t != null) {
                requireSame("layerNorm", t);
                if (!Arrays.equals(t.shape, normalizedShape))
                    throw new IllegalArgumentException("layerNorm: weight/bias shape " + Shapes.str(t.shape) + " differs from normalized shape " + Shapes.str(normalizedShape));
            }
        return backend().layerNorm(this, weight, bias, Shapes.numel(normalizedShape), eps);
    }

    /** Group norm of [N, C, ...]; weight/bias [C] or null. */
    public NormResult groupNorm(int groups, Tensor weight, Tensor bias, double eps) {
        return groupNorm(groups, weight, bias, eps, false);
    }

    /** {@link #groupNorm(int, Tensor, Tensor, double)}, then silu when {@code silu}, in one pass. */
    public NormResult groupNorm(int groups, Tensor weight, Tensor bias, double eps, boolean silu) {
        requireCompute("groupNorm");
        if (shape.length < 2) throw new IllegalArgumentException("groupNorm: input must be [N, C, ...], got " + Shapes.str(shape));
        int c = shape[1];
        if (groups < 1 || c % groups != 0) throw new IllegalArgumentException("groupNorm: " + c + " channels not divisible into " + groups + " groups (input " + Shapes.str(shape) + ")");
        for (Tensor t : new Tensor[]{weight, bias})
            if (t != null) {
                requireSame("groupNorm", t);
                if (t.shape.length != 1 || t.shape[0] != c)
                    throw new IllegalArgumentException("groupNorm: weight/bias must have shape [" + c + "], got " + Shapes.str(t.shape));
            }
        return backend().groupNorm(this, groups, weight, bias, eps, silu);
    }

    /**
     * The backward pass of {@link #layerNorm}: gradients of its input and, when {@code affineGrads}, of weight and bias
     * (shape [normSize] flattened), from the input x, that call's {@code mean} and {@code rstd}, the weight it used (or
     * null) and the output gradient. See {@link dev.distillery.tensor.backend.Backend#layerNormBackward}.
     */
    public static NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int[] normalizedShape,
                                                  boolean affineGrads) {
        return layerNormBackward(gradOut, x, mean, rstd, weight, normalizedShape, affineGrads, null);
    }

    /**
     * {@link #layerNormBackward(Tensor, Tensor, Tensor, Tensor, Tensor, int[], boolean)} with {@code inputAddend} (x's
     * shape, any layout, or null) added to the input gradient in the same backend call.
     */
    public static NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int[] normalizedShape,
                                                  boolean affineGrads, Tensor inputAddend) {
        x.requireCompute("layerNormBackward");
        int normSize = Shapes.numel(normalizedShape);
        normBackwardChecks("layerNormBackward", gradOut, x, mean, rstd, weight, x.numel() / Math.max(1, normSize), normSize);
        inputAddendChecks("layerNormBackward", x, inputAddend);
        return inputAddend == null ? x.backend().layerNormBackward(gradOut, x, mean, rstd, weight, normSize, affineGrads)
                : x.backend().layerNormBackward(gradOut, x, mean, rstd, weight, normSize, affineGrads, inputAddend);
    }

    /**
     * The backward pass of {@link #groupNorm(int, Tensor, Tensor, double, boolean)} (see {@link #layerNormBackward});
     * weight and bias (the forward's, or null; bias is read only with {@code silu}), and the weight and bias
     * gradients, are [C]; {@code mean} and {@code rstd} hold N x groups values.
     */
    public static NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                                  boolean silu, boolean affineGrads) {
        return groupNormBackward(gradOut, x, mean, rstd, weight, bias, groups, silu, affineGrads, null);
    }

    /** {@link #groupNormBackward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, boolean, boolean)} plus {@code inputAddend}, as layer norm's. */
    public static NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                                  boolean silu, boolean affineGrads, Tensor inputAddend) {
        x.requireCompute("groupNormBackward");
        if (x.shape.length < 2 || groups < 1 || x.shape[1] % groups != 0)
            throw new IllegalArgumentException("groupNormBackward: input " + Shapes.str(x.shape) + " is not [N, C, ...] with C divisible into " + groups + " groups");
        normBackwardChecks("groupNormBackward", gradOut, x, mean, rstd, weight, x.shape[0] * groups, x.shape[1]);
        if (bias != null) {
            x.requireSame("groupNormBackward", bias);
            if (bias.numel() != x.shape[1]) throw new IllegalArgumentException("groupNormBackward: bias needs " + x.shape[1] + " values, got " + bias.numel());
        }
        inputAddendChecks("groupNormBackward", x, inputAddend);
        return inputAddend == null ? x.backend().groupNormBackward(gradOut, x, mean, rstd, weight, bias, groups, silu, affineGrads)
                : x.backend().groupNormBackward(gradOut, x, mean, rstd, weight, bias, groups, silu, affineGrads, inputAddend);
    }

    private static void inputAddendChecks(String op, Tensor x, Tensor addend) {
        if (addend == null) return;
        x.requireSame(op, addend);
        if (!Arrays.equals(addend.shape, x.shape))
            throw new IllegalArgumentException(op + ": the input gradient's addend must have the input's shape " + Shapes.str(x.shape)
                    + ", got " + Shapes.str(addend.shape));
    }

    private static void normBackwardChecks(String op, Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int rows, int params) {
        for (Tensor t : new Tensor[]{gradOut, mean, rstd, weight}) if (t != null) x.requireSame(op, t);
        if (!Arrays.equals(gradOut.shape, x.shape))
            throw new IllegalArgumentException(op + ": gradient " + Shapes.str(gradOut.shape) + " and input " + Shapes.str(x.shape) + " differ");
        if (mean.numel() != rows || rstd.numel() != rows)
            throw new IllegalArgumentException(op + ": mean and rstd need " + rows + " values, got " + mean.numel() + " and " + rstd.numel());
        if (weight != null && weight.numel() != params)
            throw new IllegalArgumentException(op + ": weight needs " + params + " values, got " + weight.numel());
    }

    // ------------------------------------------------------------------------------------------ joining, splitting, indexing

    /** Concatenates along {@code dim}; all other dims, dtypes and devices must match. */
    public static Tensor concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        Tensor first = parts.get(0);
        int d = Shapes.dim("concat", dim, first.shape.length);
        for (Tensor t : parts) {
            first.requireSame("concat", t);
            boolean ok = t.shape.length == first.shape.length;
            for (int i = 0; ok && i < t.shape.length; i++) ok = i == d || t.shape[i] == first.shape[i];
            if (!ok) throw new IllegalArgumentException("concat: shapes " + Shapes.str(first.shape) + " and " + Shapes.str(t.shape) + " differ outside dim " + d);
        }
        return first.backend().concat(parts, d);
    }

    /** Stacks equal-shaped tensors along a new dim. */
    public static Tensor stack(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("stack: no tensors");
        int d = Shapes.dim("stack", dim, parts.get(0).shape.length + 1);
        List<Tensor> u = new ArrayList<>(parts.size());
        for (Tensor t : parts) {
            if (!Arrays.equals(t.shape, parts.get(0).shape))
                throw new IllegalArgumentException("stack: shapes " + Shapes.str(parts.get(0).shape) + " and " + Shapes.str(t.shape) + " differ");
            u.add(t.unsqueeze(d));
        }
        return concat(u, d);
    }

    /** Views of {@code splitSize} entries along {@code dim} (the last may be smaller). */
    public List<Tensor> split(int splitSize, int dim) {
        int d = Shapes.dim("split", dim, shape.length);
        if (splitSize < 1) throw new IllegalArgumentException("split: size must be >= 1, got " + splitSize);
        List<Tensor> out = new ArrayList<>();
        for (int s = 0; s < shape[d]; s += splitSize) out.add(narrow(d, s, Math.min(splitSize, shape[d] - s)));
        return out;
    }

    /** {@code chunks} views along {@code dim}, as {@code torch.chunk}. */
    public List<Tensor> chunk(int chunks, int dim) {
        if (chunks < 1) throw new IllegalArgumentException("chunk: chunks must be >= 1, got " + chunks);
        int d = Shapes.dim("chunk", dim, shape.length);
        return split(Math.max(1, (shape[d] + chunks - 1) / chunks), d);
    }

    private static void checkIndices(String op, Tensor index, int bound) {
        if (index.dtype() != DType.I64) throw new IllegalArgumentException(op + ": index must be I64, got " + index.dtype());
        long[] v = index.toLongArray();
        for (int i = 0; i < v.length; i++)
            if (v[i] < 0 || v[i] >= bound)
                throw new IndexOutOfBoundsException(op + ": index " + v[i] + " at position " + i + " out of range [0, " + bound + ")");
    }

    /** Slices of dim {@code dim} picked by a 1-D I64 index. */
    public Tensor indexSelect(int dim, Tensor index) {
        int d = Shapes.dim("indexSelect", dim, shape.length);
        if (index.dim() != 1) throw new IllegalArgumentException("indexSelect: index must be 1-D, got shape " + Shapes.str(index.shape));
        checkIndices("indexSelect", index, shape[d]);
        return backend().indexSelect(this, d, index);
    }

    /** {@code torch.gather}: index has this tensor's rank, and sizes no larger outside {@code dim}. */
    public Tensor gather(int dim, Tensor index) {
        int d = Shapes.dim("gather", dim, shape.length);
        if (index.dim() != shape.length) throw new IllegalArgumentException("gather: index rank " + index.dim() + " differs from input rank " + shape.length);
        for (int i = 0; i < shape.length; i++)
            if (i != d && index.shape[i] > shape[i])
                throw new IllegalArgumentException("gather: index shape " + Shapes.str(index.shape) + " larger than input " + Shapes.str(shape) + " at dim " + i);
        checkIndices("gather", index, shape[d]);
        return backend().gather(this, d, index);
    }

    /**
     * {@code torch.zeros(outShape).scatter_add(dim, index, this)}: each element of this tensor is added into a new
     * tensor of {@code outShape} at its own coordinates except along {@code dim}, where {@code index} gives it. The
     * adjoint of {@link #gather}.
     */
    public Tensor scatterAdd(int dim, Tensor index, int[] outShape) {
        requireCompute("scatterAdd");
        int d = Shapes.dim("scatterAdd", dim, shape.length);
        if (!Arrays.equals(index.shape, shape))
            throw new IllegalArgumentException("scatterAdd: index shape " + Shapes.str(index.shape) + " differs from source shape " + Shapes.str(shape));
        if (outShape.length != shape.length)
            throw new IllegalArgumentException("scatterAdd: output rank " + outShape.length + " differs from source rank " + shape.length);
        for (int i = 0; i < shape.length; i++)
            if (i != d && outShape[i] != shape[i])
                throw new IllegalArgumentException("scatterAdd: output shape " + Shapes.str(outShape) + " differs from source " + Shapes.str(shape) + " outside dim " + d);
        checkIndices("scatterAdd", index, outShape[d]);
        return backend().scatterAdd(index, this, d, outShape.clone());
    }

    /** Embedding lookup: rows of {@code weight} [V, D] for I64 {@code ids} of any shape, giving ids.shape + [D]. */
    public static Tensor embedding(Tensor weight, Tensor ids) {
        if (weight.dim() != 2) throw new IllegalArgumentException("embedding: weight must be [vocab, dim], got " + Shapes.str(weight.shape));
        Tensor rows = weight.indexSelect(0, ids.reshape(ids.numel()));
        return rows.view(concat(ids.shape, weight.shape[1]));
    }

    /**
     * Pads with {@code torch.nn.functional.pad}'s convention: {@code pads} lists (before, after) pairs starting from
     * the last dim.
     */
    public Tensor pad(int[] pads, PadMode mode, double value) {
        if (pads.length % 2 != 0 || pads.length / 2 > shape.length)
            throw new IllegalArgumentException("pad: " + pads.length + " pad values for a tensor of rank " + shape.length + " (need pairs, at most 2 per dim)");
        int[] full = new int[2 * shape.length];
        for (int i = 0; i < pads.length / 2; i++) {
            int d = shape.length - 1 - i;
            full[2 * d] = pads[2 * i];
            full[2 * d + 1] = pads[2 * i + 1];
        }
        for (int d = 0; d < shape.length; d++) {
            if (full[2 * d] < 0 || full[2 * d + 1] < 0) throw new IllegalArgumentException("pad: negative padding " + Arrays.toString(pads) + " is not supported");
            if (mode == PadMode.REFLECT && (full[2 * d] >= shape[d] || full[2 * d + 1] >= shape[d]))
                throw new IllegalArgumentException("pad: reflect padding " + Arrays.toString(pads) + " must be smaller than the padded dims of " + Shapes.str(shape));
            if (mode != PadMode.CONSTANT && shape[d] == 0 && (full[2 * d] > 0 || full[2 * d + 1] > 0))
                throw new IllegalArgumentException("pad: cannot " + mode + "-pad an empty dim");
        }
        return backend().pad(this, full, mode, value);
    }

    // ------------------------------------------------------------------------------------------ equality helpers

    /** Same shape and dtype, and every element within {@code atol + rtol * |other|}; NaNs must match. */
    public boolean allClose(Tensor other, double rtol, double atol) {
        if (!Arrays.equals(shape, other.shape)) return false;
        double[] a = toDoubleArray(), b = other.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(a[i]) || Double.isNaN(b[i])) {
                if (!(Double.isNaN(a[i]) && Double.isNaN(b[i]))) return false;
            } else if (a[i] != b[i] && Math.abs(a[i] - b[i]) > atol + rtol * Math.abs(b[i])) return false;
        }
        return true;
    }
}
