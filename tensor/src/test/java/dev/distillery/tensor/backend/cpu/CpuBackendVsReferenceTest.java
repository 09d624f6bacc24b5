package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.testing.BackendUnderTest;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.CompareOp;
import dev.distillery.tensor.backend.RandomKind;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static dev.distillery.tensor.testing.TensorAsserts.assertIdentical;
import static dev.distillery.tensor.testing.TensorAsserts.randn;
import static dev.distillery.tensor.testing.TensorAsserts.randnStrided;
import static dev.distillery.tensor.testing.TensorAsserts.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * CpuBackend against ReferenceBackend for copies and conversions, unary, binary, compare, where and fillRandom,
 * on awkward shapes (0-d, empty, size-1 dims, primes, lengths that are not multiples of the vector width, tensors
 * large enough to be split across threads) and layouts (strided, permuted, sliced with a step, expanded, offset).
 * The static helpers are shared by the other Cpu*VsReferenceTest classes.
 */
class CpuBackendVsReferenceTest {
    static final Backend CPU = BackendUnderTest.get();
    static final Backend REF = ReferenceBackend.INSTANCE;

    static final int[][] SHAPES = {
            {}, {0}, {1}, {7}, {16}, {17}, {31}, {33}, {2, 3}, {7, 13}, {3, 1, 5}, {2, 31, 17}, {4, 16, 16}, {3, 5, 7, 11}, {1000}, {300, 257}, {2, 0, 3}
    };

    static <T> T cpu(Supplier<T> f) {
        return Backends.using(CPU, f);
    }

    static <T> T ref(Supplier<T> f) {
        return Backends.using(REF, f);
    }

    /** The same values as randn(seed, dt, shape) in several layouts, by name. */
    static Map<String, Tensor> layouts(long seed, DType dt, int... shape) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Tensor base = randn(seed, dt, shape);
        m.put("contiguous", base);
        // Empty views with an offset past their (empty) storage trip Tensor.toDoubleArray in the reference.
        if (base.numel() == 0) return m;
        m.put("strided", randnStrided(seed, dt, shape));
        int r = shape.length;
        int n = base.numel();
        Tensor flat = randn(seed + 1, dt, n + 3).narrow(0, 3, n);
        m.put("offset", flat.view(shape));
        if (r >= 2) {
            int[] rev = new int[r], order = new int[r];
            for (int i = 0; i < r; i++) {
                rev[i] = shape[r - 1 - i];
                order[i] = r - 1 - i;
            }
            m.put("permuted", randn(seed, dt, rev).permute(order));
        }
        if (r >= 1) {
            int[] wide = shape.clone();
            wide[r - 1] = shape[r - 1] * 2;
            m.put("sliced", randn(seed, dt, wide).slice(r - 1, 0, wide[r - 1], 2));
            int[] one = shape.clone();
            one[0] = 1;
            m.put("expanded", randn(seed, dt, one).expand(shape));
        }
        return m;
    }

    /** A float or double tensor of the given values. */
    static Tensor values(DType dt, double... v) {
        Storage s = Storage.allocate(dt, v.length);
        for (int i = 0; i < v.length; i++) s.setDouble(i, v[i]);
        return Tensor.of(s, v.length);
    }

    static final double[] SPECIALS = {0.0, -0.0, 1, -1, 0.5, -0.5, 1e-3, -1e-3, 1e-30, -1e-30, 3, -3, 5.5, -5.5, 9, -9, 20, -20,
            50, -50, 87.5, -87.5, 88.8, -88.8, 100, -100, 104, -104, 1e6, -1e6, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 0.1, 2.5, -2.5, 7.25, -7.25, 1.4142, -1.4142};

    static double[] reversed(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = v[v.length - 1 - i];
        return r;
    }

    static String what(String op, DType dt, String layout, int[] shape) {
        return op + " " + dt + " " + layout + " " + str(shape);
    }

    /** Runs {@code body} with the pool at 1 and then 2 and 3 threads, restoring the original size. */
    static void forThreadCounts(java.util.function.IntConsumer body) {
        if (!BackendUnderTest.isCpu()) { // a device backend has no host thread pool to vary
            body.accept(1);
            return;
        }
        int saved = Parallel.threads();
        try {
            for (int t : new int[]{1, 2, 3}) {
                Parallel.setThreads(t);
                body.accept(t);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    // ------------------------------------------------------------------------------------------------ copies

    @Test
    void contiguousCopiesAreIdentical() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[] shape : SHAPES)
                for (var e : layouts(11, dt, shape).entrySet()) {
                    Tensor x = e.getValue();
                    assertIdentical(ref(x::copy), cpu(x::copy), what("copy", dt, e.getKey(), shape));
                }
    }

    @Test
    void permutesAndTransposesCopyIdentically() {
        Tensor x = randn(3, DType.F32, 3, 37, 41, 5);
        int[][] orders = {{0, 2, 1, 3}, {3, 2, 1, 0}, {0, 3, 1, 2}, {0, 2, 3, 1}, {1, 0, 3, 2}, {2, 0, 1, 3}};
        for (int[] o : orders) {
            Tensor p = x.permute(o);
            assertIdentical(ref(p::copy), cpu(p::copy), "permute " + str(o));
        }
        for (DType dt : BackendUnderTest.supported(DType.F64, DType.F32)) {
            Tensor m = randn(4, dt, 130, 67).mT();
            assertIdentical(ref(m::copy), cpu(m::copy), "transpose " + dt);
        }
        // Copy into a transposed destination (copyFrom), and broadcast fills.
        Tensor src = randn(5, DType.F32, 67, 130);
        Tensor dRef = Tensor.zeros(DType.F32, 130, 67), dCpu = Tensor.zeros(DType.F32, 130, 67);
        ref(() -> dRef.mT().copyFrom(src));
        cpu(() -> dCpu.mT().copyFrom(src));
        assertIdentical(dRef, dCpu, "copy into transposed view");
        Tensor b = randn(6, DType.F32, 1, 13, 1);
        Tensor be = b.expand(4, 13, 9);
        assertIdentical(ref(be::copy), cpu(be::copy), "broadcast copy");
        // Into a slice with a step.
        Tensor big = Tensor.zeros(DType.F32, 5, 40), big2 = Tensor.zeros(DType.F32, 5, 40);
        Tensor part = randn(7, DType.F32, 5, 20);
        ref(() -> big.slice(1, 1, 40, 2).copyFrom(part));
        cpu(() -> big2.slice(1, 1, 40, 2).copyFrom(part));
        assertIdentical(big, big2, "copy into step slice");
    }

    @Test
    void dtypeConversionsMatchTheReference() {
        DType[] all = BackendUnderTest.supported(DType.values());
        double[] vals = {0, -0.0, 1, -1, 0.1, 65504, 65520, 1e-8, -3.75, 1e20, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, 123456789.123, 2.5, -2.5, 1.00048828125, 3.0000001, 9007199254740993.0};
        for (DType from : all) {
            if (from == DType.I64 || from == DType.BOOL) continue;
            Tensor src = values(DType.F64, vals).to(from);
            for (DType to : all) {
                if (to == DType.I64 && from != DType.F64) continue; // NaN/inf to long is defined but uninteresting
                if (!BackendUnderTest.supports(from, to)) continue;
                Tensor a = ref(() -> src.to(to)), b = cpu(() -> src.to(to));
                assertIdentical(a, b, from + " -> " + to);
            }
        }
        Tensor longs = Tensor.ofLongs(new long[]{0, 1, -7, 1L << 40, (1L << 53) + 1, Long.MAX_VALUE}, 6);
        if (BackendUnderTest.isCpu()) // a device holds I64 as int32 and refuses these values on upload (TornadoVsReferenceTest)
            for (DType to : all) assertIdentical(ref(() -> longs.to(to)), cpu(() -> longs.to(to)), "I64 -> " + to);
        Tensor bools = values(DType.F32, 0, 1, 2, -0.0, Double.NaN).to(DType.BOOL);
        for (DType to : all) assertIdentical(ref(() -> bools.to(to)), cpu(() -> bools.to(to)), "BOOL -> " + to);
        // Strided conversions, large enough to run in parallel.
        for (var e : layouts(12, DType.F32, 300, 257).entrySet())
            for (DType to : all) {
                Tensor x = e.getValue();
                assertIdentical(ref(() -> x.to(to)).to(DType.F64), cpu(() -> x.to(to)).to(DType.F64), "F32 " + e.getKey() + " -> " + to);
            }
    }

    // ------------------------------------------------------------------------------------------------ unary

    /**
     * Relative tolerance of each F32 unary op (F64 is 1e-12 for all). Exact ops are bit-identical; ops with a scalar
     * use it rounded to float (as PyTorch does), so they differ from the reference's double arithmetic by an ulp;
     * transcendentals are a few ulps from the correctly rounded value.
     */
    static double unaryRtol(UnaryOp op) {
        if (op == UnaryOp.POW_SCALAR && !BackendUnderTest.isCpu()) return BackendUnderTest.DEVICE_POW_RTOL;
        return switch (op) {
            case EXP, SIGMOID, SILU, TANH, LOG, SIN, COS, RSQRT -> 1e-6;
            // GELU's float argument carries a relative error of ~1 ulp that exp amplifies by |2u| for negative x,
            // where the result is tiny (as in PyTorch's float kernels).
            case GELU_TANH, GELU_ERF -> 5e-6;
            case ADD_SCALAR, MUL_SCALAR, RSUB_SCALAR, LEAKY_RELU -> 2.5e-7;
            default -> 0;
        };
    }

    /** Absolute tolerance: subnormal-range results, and x + p0 near -p0 (p0 rounded to float first). */
    static double unaryAtol(UnaryOp op) {
        return switch (op) {
            case ADD_SCALAR, RSUB_SCALAR -> 1e-7;
            // The reference's 1 + tanh(u) (1 + erf) cancels in double for x < -5 (steps of 1.1e-16); ours is the accurate one.
            case GELU_TANH, GELU_ERF -> 1e-15;
            default -> 1e-30;
        };
    }

    static double[] params(UnaryOp op) {
        return switch (op) {
            case ADD_SCALAR -> new double[]{0.1, 0};
            case MUL_SCALAR -> new double[]{-1.7, 0};
            case RSUB_SCALAR -> new double[]{2.25, 0};
            case POW_SCALAR -> new double[]{1.5, 0};
            case CLAMP -> new double[]{-0.7, 0.3};
            case LEAKY_RELU -> new double[]{0.01, 0};
            default -> new double[]{0, 0};
        };
    }

    @Test
    void unaryOpsMatchTheReference() {
        for (UnaryOp op : UnaryOp.values())
            for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64)) {
                double rtol = dt == DType.F64 ? 1e-12 : unaryRtol(op), atol = dt == DType.F64 ? 0 : unaryAtol(op);
                double[] p = params(op);
                for (int[] shape : SHAPES)
                    for (var e : layouts(21, dt, shape).entrySet()) {
                        Tensor x = e.getValue();
                        Tensor a = REF.unary(op, x, p[0], p[1]), b = CPU.unary(op, x, p[0], p[1]);
                        assertClose(a, b, rtol, atol, what(op.name(), dt, e.getKey(), shape));
                    }
                // OpenCL's sin/cos need not reduce large arguments exactly (PoCL: sin(FLT_MAX) = -0, sin(1e6) off by 0.03):
                // on a device the trigonometric specials stop at |x| <= 1000.
                boolean trig = op == UnaryOp.SIN || op == UnaryOp.COS;
                double[] specials = trig && !BackendUnderTest.isCpu()
                        ? java.util.Arrays.stream(SPECIALS).filter(v -> !(Math.abs(v) > 1e3)).toArray() : SPECIALS;
                Tensor s = values(dt, specials);
                assertClose(REF.unary(op, s, p[0], p[1]), CPU.unary(op, s, p[0], p[1]), rtol, atol, what(op.name(), dt, "specials", new int[]{specials.length}));
            }
        // Exponent special cases of pow, and scale coverage for the transcendentals.
        Tensor big = randn(22, DType.F32, 4099).mul(12);
        for (UnaryOp op : new UnaryOp[]{UnaryOp.EXP, UnaryOp.SIGMOID, UnaryOp.SILU, UnaryOp.GELU_TANH, UnaryOp.GELU_ERF, UnaryOp.TANH})
            assertClose(REF.unary(op, big, 0, 0), CPU.unary(op, big, 0, 0), unaryRtol(op), unaryAtol(op), op + " wide range");
        for (double e : new double[]{2, 0.5, 3, -1, 0})
            assertClose(REF.unary(UnaryOp.POW_SCALAR, big, e, 0), CPU.unary(UnaryOp.POW_SCALAR, big, e, 0), unaryRtol(UnaryOp.POW_SCALAR), 0, "pow " + e);
    }

    @Test
    void sweptTranscendentalsStayWithinTolerance() {
        // A dense sweep over the interesting range, one contiguous tensor.
        int n = 1 << 16;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) xs[i] = -30f + 60f * i / n;
        Tensor x = Tensor.of(xs, n);
        for (UnaryOp op : new UnaryOp[]{UnaryOp.EXP, UnaryOp.SIGMOID, UnaryOp.SILU, UnaryOp.GELU_TANH, UnaryOp.GELU_ERF, UnaryOp.TANH})
            assertClose(REF.unary(op, x, 0, 0), CPU.unary(op, x, 0, 0), unaryRtol(op), unaryAtol(op), op + " sweep");
    }

    // ------------------------------------------------------------------------------------------------ binary

    /** Pairs of shapes that broadcast, including the UNet patterns. */
    static final int[][][] BROADCASTS = {
            {{7}, {7}}, {{2, 31, 17}, {2, 31, 17}}, {{300, 257}, {300, 257}},
            {{2, 5, 7, 9}, {1, 5, 1, 1}}, {{1, 5, 1, 1}, {2, 5, 7, 9}}, {{4, 32, 16, 16}, {1, 32, 1, 1}},
            {{6, 7, 33}, {33}}, {{33}, {6, 7, 33}}, {{3, 13}, {}}, {{}, {3, 13}}, {{300, 257}, {}},
            {{5, 1}, {1, 13}}, {{1, 1, 31}, {4, 3, 1}}, {{0, 3}, {3}}, {{}, {}}, {{2, 3, 1}, {2, 3, 17}}
    };

    @Test
    void binaryOpsAreIdenticalToTheReference() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[][] pair : BROADCASTS)
                for (BinaryOp op : BinaryOp.values()) {
                    Map<String, Tensor> la = layouts(31, dt, pair[0]), lb = layouts(32, dt, pair[1]);
                    List<String> names = new ArrayList<>(la.keySet());
                    names.retainAll(lb.keySet());
                    for (String name : names)
                        for (String nameB : new String[]{"contiguous", name}) {
                            Tensor a0 = la.get(name), b = lb.get(nameB);
                            Tensor a = op == BinaryOp.POW ? ref(() -> a0.abs().add(0.5)) : a0;
                            String w = what(op.name(), dt, name + "/" + nameB, pair[0]) + " with " + str(pair[1]);
                            Tensor r = ref(() -> binary(op, a, b)), c = cpu(() -> binary(op, a, b));
                            assertBinaryMatches(op, r, c, w);
                        }
                }
        // Transposed operands (the copy-then-combine path) and NaN / signed-zero handling of maximum/minimum.
        Tensor t = randn(33, DType.F32, 67, 45).mT(), u = randn(34, DType.F32, 45, 67);
        for (BinaryOp op : BinaryOp.values()) {
            if (op == BinaryOp.POW) continue;
            assertIdentical(ref(() -> binary(op, t, u)), cpu(() -> binary(op, t, u)), op + " transposed a");
            assertIdentical(ref(() -> binary(op, u, t)), cpu(() -> binary(op, u, t)), op + " transposed b");
            assertBinaryMatches(op, ref(() -> binary(op, t, t)), cpu(() -> binary(op, t, t)), op + " both transposed");
        }
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64)) {
            Tensor s = values(dt, SPECIALS), r = values(dt, reversed(SPECIALS));
            for (BinaryOp op : BinaryOp.values()) {
                Tensor a = ref(() -> binary(op, s, r)), c = cpu(() -> binary(op, s, r));
                assertBinaryMatches(op, a, c, op + " specials " + dt);
                // All pairs of specials, through an outer broadcast.
                Tensor col = s.view(SPECIALS.length, 1), row = s.view(1, SPECIALS.length);
                assertBinaryMatches(op, ref(() -> binary(op, col, row)), cpu(() -> binary(op, col, row)), op + " specials outer " + dt);
            }
        }
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case POW -> a.pow(b);
            case MAXIMUM -> a.maximum(b);
            case MINIMUM -> a.minimum(b);
        };
    }

    @Test
    void comparisonsAndWhereAreIdentical() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[][] pair : BROADCASTS) {
                Map<String, Tensor> la = layouts(41, dt, pair[0]), lb = layouts(42, dt, pair[1]);
                for (String name : la.keySet()) {
                    Tensor a = la.get(name), b = lb.getOrDefault(name, lb.get("contiguous"));
                    for (CompareOp op : CompareOp.values()) {
                        Tensor r = REF.compare(op, a.expand(out(pair)), b.expand(out(pair)));
                        Tensor c = CPU.compare(op, a.expand(out(pair)), b.expand(out(pair)));
                        assertIdentical(r, c, what(op.name(), dt, name, pair[0]));
                    }
                    Tensor cond = ref(() -> a.gt(b));
                    Tensor w1 = ref(() -> Tensor.where(cond, a, b)), w2 = cpu(() -> Tensor.where(cond, a, b));
                    assertIdentical(w1, w2, what("where", dt, name, pair[0]));
                    Tensor cond2 = ref(() -> a.lt(0.3)).expand(out(pair));
                    assertIdentical(ref(() -> Tensor.where(cond2, b, a)), cpu(() -> Tensor.where(cond2, b, a)), what("where2", dt, name, pair[0]));
                }
                Tensor s = values(dt, SPECIALS), r = values(dt, reversed(SPECIALS));
                for (CompareOp op : CompareOp.values()) assertIdentical(REF.compare(op, s, r), CPU.compare(op, s, r), op + " specials");
            }
    }

    /** Bit-identical, except pow on a device: OpenCL's pow is within 16 ulp ({@link BackendUnderTest#DEVICE_POW_RTOL}). */
    private static void assertBinaryMatches(BinaryOp op, Tensor expected, Tensor actual, String what) {
        if (op == BinaryOp.POW && !BackendUnderTest.isCpu()) assertClose(expected, actual, BackendUnderTest.DEVICE_POW_RTOL, 0, what);
        else assertIdentical(expected, actual, what);
    }

    private static int[] out(int[][] pair) {
        return dev.distillery.tensor.Shapes.broadcast("test", pair[0], pair[1]);
    }

    // ------------------------------------------------------------------------------------------------ random

    @Test
    void fillRandomIsBitIdenticalForAnyThreadCount() {
        for (RandomKind kind : RandomKind.values())
            for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64, DType.F16, DType.BF16))
                for (int n : new int[]{0, 1, 17, 100_003}) {
                    Tensor r = REF.zeros(dt, n);
                    REF.fillRandom(r, kind, 0.5, 2.0, 1234, 77);
                    forThreadCounts(t -> {
                        Tensor c = CPU.zeros(dt, n);
                        CPU.fillRandom(c, kind, 0.5, 2.0, 1234, 77);
                        if (kind == RandomKind.NORMAL && !BackendUnderTest.isCpu())
                            assertClose(r, c, BackendUnderTest.DEVICE_NORMAL_RTOL, BackendUnderTest.DEVICE_NORMAL_ATOL, kind + " " + dt + " n=" + n);
                        else assertIdentical(r, c, kind + " " + dt + " n=" + n + " threads=" + t);
                    });
                }
        // Through the front end: randn uses the default (CPU) backend and an advancing generator.
        Tensor a = ref(() -> Tensor.randn(new Rng(9), DType.F32, 3, 1000)), b = cpu(() -> Tensor.randn(new Rng(9), DType.F32, 3, 1000));
        if (BackendUnderTest.isCpu()) assertIdentical(a, b, "randn");
        else assertClose(a, b, BackendUnderTest.DEVICE_NORMAL_RTOL, BackendUnderTest.DEVICE_NORMAL_ATOL, "randn");
    }

    @Test
    void elementwiseResultsDoNotDependOnThreadCount() {
        assumeTrue(BackendUnderTest.isCpu(), "CPU thread pool only");
        Tensor x = randn(51, DType.F32, 64, 4099), bias = randn(52, DType.F32, 4099);
        Tensor t = randn(53, DType.F32, 300, 401).mT();
        List<Tensor> results = new ArrayList<>();
        forThreadCounts(th -> {
            List<Tensor> now = List.of(CPU.unary(UnaryOp.SILU, x, 0, 0), CPU.unary(UnaryOp.GELU_ERF, x, 0, 0),
                    cpu(() -> x.add(bias)), cpu(t::copy), cpu(() -> x.to(DType.BF16).to(DType.F32)));
            if (results.isEmpty()) results.addAll(now);
            else for (int i = 0; i < now.size(); i++) assertIdentical(results.get(i), now.get(i), "result " + i + " threads=" + th);
        });
        assertEquals(5, results.size());
        assertTrue(Parallel.threads() >= 1);
    }
}
