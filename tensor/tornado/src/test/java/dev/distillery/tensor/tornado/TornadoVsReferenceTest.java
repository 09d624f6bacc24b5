package dev.distillery.tensor.tornado;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;
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
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.backend.ValuesIndices;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static dev.distillery.tensor.testing.TensorAsserts.assertIdentical;
import static dev.distillery.tensor.testing.TensorAsserts.randn;
import static dev.distillery.tensor.testing.TensorAsserts.randnStrided;
import static dev.distillery.tensor.testing.TensorAsserts.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TornadoVM backend against {@link ReferenceBackend} on whatever device {@code tornado:0} is (PoCL's CPU device
 * here, a GPU where one is present): each op on awkward shapes (empty, size 1, primes, non-multiples of the work-group
 * and tile sizes) and layouts (strided, permuted, offset, expanded), computed on the device from uploaded inputs and
 * compared after download. Float kernels differ from the reference's double arithmetic by rounding and summation
 * order, hence tolerances; copies and layout moves must be bit-identical.
 */
class TornadoVsReferenceTest {
    static final Device DEV = Device.parse("tornado:0");
    static final Backend REF = ReferenceBackend.INSTANCE;
    static TornadoBackend tornado;

    static final int[][] SHAPES = {{}, {0}, {1}, {7}, {129}, {2, 3}, {7, 13}, {3, 1, 5}, {2, 31, 17}, {3, 5, 7, 11}, {300, 257}, {2, 0, 3}};

    @BeforeAll
    static void device() {
        tornado = (TornadoBackend) Backends.forDevice(DEV);
    }

    static <T> T ref(Supplier<T> f) {
        return Backends.using(REF, f);
    }

    static Tensor up(Tensor t) {
        return t.to(DEV);
    }

    static Tensor down(Tensor t) {
        return t.to(Device.CPU);
    }

    /** The same values as randn(seed, F32, shape) in several layouts, by name (host tensors). */
    static Map<String, Tensor> layouts(long seed, int... shape) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Tensor base = randn(seed, DType.F32, shape);
        m.put("contiguous", base);
        if (base.numel() == 0) return m;
        m.put("strided", randnStrided(seed, DType.F32, shape));
        int r = shape.length;
        if (r >= 2) {
            int[] rev = new int[r], order = new int[r];
            for (int i = 0; i < r; i++) {
                rev[i] = shape[r - 1 - i];
                order[i] = r - 1 - i;
            }
            m.put("permuted", randn(seed, DType.F32, rev).permute(order));
        }
        if (r >= 1) {
            int[] one = shape.clone();
            one[0] = 1;
            m.put("expanded", randn(seed, DType.F32, one).expand(shape));
        }
        return m;
    }

    /** A device view with the same layout as the host view {@code h} (uploads its whole storage, then re-views). */
    static Tensor deviceView(Tensor h) {
        Tensor all = Tensor.of(h.storage(), h.storage().length());
        Tensor d = up(all);
        return Tensor.of(d.storage(), h.shape(), h.strides(), h.offset());
    }

    @Test
    void uploadAndDownloadAreIdenticalInEveryLayout() {
        for (int[] shape : SHAPES)
            for (var e : layouts(11, shape).entrySet()) {
                Tensor h = e.getValue();
                assertIdentical(h.contiguous(), down(up(h)), "round trip " + e.getKey() + " " + str(shape));
                assertIdentical(h.contiguous(), down(deviceView(h)), "device view " + e.getKey() + " " + str(shape));
                assertIdentical(h.contiguous(), down(deviceView(h).contiguous()), "device contiguous " + e.getKey() + " " + str(shape));
            }
        Tensor small = randn(12, DType.F32, 3, 129);
        long before = tornado.launches();
        Tensor smallD = up(small);
        assertEquals(1, tornado.launches() - before, "an upload is one launch (no zero fill first)");
        assertIdentical(small, down(smallD), "small upload");
        Tensor big = randn(3, DType.F32, 5_000_003); // more than one staging buffer when the stage is small
        assertIdentical(big, down(up(big)), "5M elements");
        Tensor longs = Tensor.ofLongs(new long[]{0, -1, 7, Integer.MAX_VALUE, Integer.MIN_VALUE}, 5);
        assertIdentical(longs, down(up(longs)), "I64 round trip");
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> up(Tensor.ofLongs(new long[]{1L << 40}, 1)));
        assertTrue(tooBig.getMessage().contains("int32"), tooBig.getMessage());
        IllegalArgumentException f64 = assertThrows(IllegalArgumentException.class, () -> up(randn(1, DType.F64, 3)));
        assertTrue(f64.getMessage().contains("F64"), f64.getMessage());
    }

    @Test
    void zerosAndDtypeConversionsOnTheDevice() {
        assertIdentical(Tensor.zeros(DType.F32, 3, 129), down(tornado.zeros(DType.F32, 3, 129)), "zeros");
        Tensor x = Tensor.of(new float[]{-2.7f, -0.5f, 0f, 0.5f, 3.9f, 1e6f}, 6);
        Tensor dx = up(x);
        assertIdentical(ref(() -> x.to(DType.I64)), down(dx.to(DType.I64)), "F32 -> I64 truncates");
        assertIdentical(ref(() -> x.to(DType.BOOL)), down(dx.to(DType.BOOL)), "F32 -> BOOL");
        assertIdentical(ref(() -> x.to(DType.I64).to(DType.F32)), down(dx.to(DType.I64).to(DType.F32)), "I64 -> F32");
        assertIdentical(ref(() -> x.to(DType.BOOL).to(DType.I64)), down(dx.to(DType.BOOL).to(DType.I64)), "BOOL -> I64");
    }

    @Test
    void unaryOpsMatchTheReference() {
        double[][] params = {{0, 0}, {0.5, 0}, {2, 0}, {-0.3, 0.7}};
        for (UnaryOp op : UnaryOp.values())
            for (int[] shape : new int[][]{{}, {7}, {3, 1, 5}, {300, 257}})
                for (var e : layouts(5, shape).entrySet()) {
                    Tensor h = e.getValue();
                    if (op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || op == UnaryOp.POW_SCALAR)
                        h = ref(() -> e.getValue().abs().add(0.1));
                    Tensor in = h;
                    for (double[] p : params) {
                        Tensor want = ref(() -> REF.unary(op, in, p[0], p[1]));
                        Tensor got = down(tornado.unary(op, deviceView(in), p[0], p[1]));
                        assertClose(want, got, 2e-5, 2e-6, op + " " + e.getKey() + " " + str(shape) + " p=" + p[0]);
                        Tensor g = randn(9, DType.F32, shape);
                        Tensor wantGrad = ref(() -> REF.unaryBackward(op, in, g, p[0], p[1]));
                        Tensor gotGrad = down(tornado.unaryBackward(op, deviceView(in), up(g), p[0], p[1]));
                        assertClose(wantGrad, gotGrad, 2e-5, 2e-6, op + " backward " + e.getKey() + " " + str(shape));
                    }
                }
        Tensor specials = Tensor.of(new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 88.8f, -104f}, 7);
        for (UnaryOp op : List.of(UnaryOp.RELU, UnaryOp.SIGN, UnaryOp.CLAMP, UnaryOp.SIGMOID, UnaryOp.EXP, UnaryOp.NEG, UnaryOp.ABS))
            assertClose(ref(() -> REF.unary(op, specials, -1, 1)), down(tornado.unary(op, up(specials), -1, 1)), 1e-6, 1e-30, op + " specials");
    }

    @Test
    void binaryCompareAndWhereWithBroadcasting() {
        for (int[] shape : SHAPES)
            for (var ea : layouts(21, shape).entrySet())
                for (var eb : layouts(22, shape).entrySet()) {
                    Tensor a = ea.getValue(), b = eb.getValue();
                    String what = ea.getKey() + "/" + eb.getKey() + " " + str(shape);
                    for (BinaryOp op : BinaryOp.values()) {
                        Tensor aa = op == BinaryOp.POW ? ref(() -> a.abs().add(0.5)) : a;
                        assertClose(ref(() -> REF.binary(op, aa, b)), down(tornado.binary(op, deviceView(aa), deviceView(b))), 2e-5, 1e-6, op + " " + what);
                    }
                    for (CompareOp op : CompareOp.values())
                        assertIdentical(ref(() -> REF.compare(op, a, b)), down(tornado.compare(op, deviceView(a), deviceView(b))), op + " " + what);
                    Tensor cond = ref(() -> REF.compare(CompareOp.GT, a, b));
                    assertIdentical(ref(() -> REF.where(cond, a, b)), down(tornado.where(up(cond), deviceView(a), deviceView(b))), "where " + what);
                }
        // Through the Tensor API: broadcasting resolves into stride-0 views before the backend sees them.
        Tensor x = randn(1, DType.F32, 4, 1, 3), y = randn(2, DType.F32, 5, 1);
        assertClose(ref(() -> x.mul(y).add(1)), down(up(x).mul(up(y)).add(1)), 1e-6, 1e-7, "broadcast mul");
    }

    @Test
    void reductionsOverEveryDimSetInOneAndTwoPasses() {
        int[][] shapes = {{7}, {2, 31, 17}, {3, 5, 7, 11}, {3, 5000}, {1, 100_003}, {300, 257}};
        for (int[] shape : shapes)
            for (var e : layouts(31, shape).entrySet()) {
                Tensor h = e.getValue();
                Tensor d = deviceView(h);
                int r = shape.length;
                for (int mask = 1; mask < (1 << r); mask++) {
                    int m = mask;
                    int[] dims = java.util.stream.IntStream.range(0, r).filter(i -> ((m >> i) & 1) != 0).toArray();
                    for (ReduceOp op : new ReduceOp[]{ReduceOp.SUM, ReduceOp.MEAN, ReduceOp.MAX, ReduceOp.MIN, ReduceOp.VAR, ReduceOp.LOGSUMEXP}) {
                        String what = op + " dims " + str(dims) + " " + e.getKey() + " " + str(shape);
                        Tensor want = ref(() -> REF.reduce(op, h, dims, m % 2 == 0, 1));
                        Tensor got = down(tornado.reduce(op, d, dims, m % 2 == 0, 1));
                        assertClose(want, got, 1e-4, 1e-4, what);
                    }
                    if (dims.length == 1)
                        for (ReduceOp op : new ReduceOp[]{ReduceOp.ARGMAX, ReduceOp.ARGMIN})
                            assertIdentical(ref(() -> REF.reduce(op, h, dims, false, 0)), down(tornado.reduce(op, d, dims, false, 0)),
                                    op + " dim " + dims[0] + " " + e.getKey() + " " + str(shape));
                }
            }
        Tensor withNaN = Tensor.of(new float[]{1, Float.NaN, 3, 2}, 4);
        for (ReduceOp op : new ReduceOp[]{ReduceOp.MAX, ReduceOp.MIN, ReduceOp.ARGMAX})
            assertIdentical(ref(() -> REF.reduce(op, withNaN, new int[]{0}, false, 0)), down(tornado.reduce(op, up(withNaN), new int[]{0}, false, 0)), op + " NaN");
    }

    /** Runs {@code cases} once with each kernel choice of a tile/blocked setting forced. */
    private static void underEachKernel(String property, Runnable cases) {
        for (String kernel : new String[]{"tile", "blocked", "auto"}) {
            System.setProperty(property, kernel);
            try {
                cases.run();
            } finally {
                System.clearProperty(property);
            }
        }
    }

    @Test
    void batchedMatmulOnAwkwardShapesAndLayouts() {
        underEachKernel(TornadoBackend.MATMUL_KERNEL_PROPERTY, this::matmulCases);
    }

    private void matmulCases() {
        int[][] mkn = {{1, 1, 1}, {5, 7, 3}, {16, 16, 16}, {17, 33, 15}, {64, 1, 130}, {100, 70, 45}, {130, 33, 200}, {64, 64, 64}};
        for (int[] s : mkn)
            for (int batches : new int[]{1, 3}) {
                int m = s[0], k = s[1], n = s[2];
                Tensor a = randn(41, DType.F32, batches, m, k), b = randn(42, DType.F32, batches, k, n);
                String what = System.getProperty(TornadoBackend.MATMUL_KERNEL_PROPERTY) + " " + batches + "x" + m + "x" + k + "x" + n;
                assertClose(ref(() -> REF.matmul(a, b)), down(tornado.matmul(up(a), up(b))), 1e-4, 1e-4, what);
                Tensor at = randn(43, DType.F32, batches, k, m).transpose(1, 2), bt = randn(44, DType.F32, batches, n, k).transpose(1, 2);
                assertClose(ref(() -> REF.matmul(at, bt)), down(tornado.matmul(deviceView(at), deviceView(bt))), 1e-4, 1e-4, what + " transposed");
                Tensor shared = randn(45, DType.F32, 1, k, n).expand(batches, k, n);
                assertClose(ref(() -> REF.matmul(a, shared)), down(tornado.matmul(up(a), deviceView(shared))), 1e-4, 1e-4, what + " stride-0 batch");
                // the bias added by the kernel as it stores (Linear), contiguous and strided
                Tensor bias = randn(46, DType.F32, n), strided = randn(47, DType.F32, 2 * n).slice(0, 1, 2 * n, 2);
                assertClose(ref(() -> REF.matmul(at, bt, bias)), down(tornado.matmul(deviceView(at), deviceView(bt), up(bias))), 1e-4, 1e-4, what + " with bias");
                assertClose(ref(() -> REF.matmul(a, b, strided)), down(tornado.matmul(up(a), up(b), deviceView(strided))), 1e-4, 1e-4, what + " with strided bias");
                // two batch levels one stride cannot walk: attention's heads, [B, T, h, d] permuted to [B, h, T, d]
                int heads = 2;
                Tensor q = randn(48, DType.F32, batches, m, heads, k).permute(0, 2, 1, 3);
                Tensor kt = randn(49, DType.F32, batches, n, heads, k).permute(0, 2, 3, 1);
                assertClose(ref(() -> REF.matmulTwoBatchDims(q, kt, null)), down(tornado.matmulTwoBatchDims(deviceView(q), deviceView(kt), null)),
                        1e-4, 1e-4, what + " two batch levels");
                // a pending gradient added as the product is stored (Linear's input gradient of a variable with other uses)
                Tensor addend = randn(53, DType.F32, batches, m, n);
                assertClose(ref(() -> REF.binary(BinaryOp.ADD, REF.matmul(at, bt), addend)), down(tornado.matmulAdd(deviceView(at), deviceView(bt), up(addend))),
                        1e-4, 1e-4, what + " plus addend");
                // written in a permuted layout ([B, h, M, N] viewing a fresh [B, M, h, N]): a gradient in its input's layout
                Tensor into = tornado.uninitialized(DType.F32, batches, m, heads, n).permute(0, 2, 1, 3);
                Tensor kn = randn(54, DType.F32, batches, heads, k, n);
                Tensor knd = up(kn), qd = deviceView(q);
                long before = tornado.launches();
                tornado.matmulInto(qd, knd, into);
                assertEquals(1, tornado.launches() - before, what + " into a permuted layout: one launch");
                assertClose(ref(() -> REF.matmulTwoBatchDims(q, kn, null)).view(batches, heads, m, n), down(into), 1e-4, 1e-4, what + " into a permuted layout");
                Tensor perHead = randn(50, DType.F32, 1, heads, k, n).expand(batches, heads, k, n); // stride-0 outer batch
                assertClose(ref(() -> REF.matmulTwoBatchDims(q, perHead, bias)), down(tornado.matmulTwoBatchDims(deviceView(q), deviceView(perHead), up(bias))),
                        1e-4, 1e-4, what + " two batch levels, shared outer batch, bias");
            }
    }

    @Test
    void linearParameterGradientsInOneLaunch() {
        underEachKernel(TornadoBackend.MATMUL_KERNEL_PROPERTY, this::linearGradientCases);
    }

    private void linearGradientCases() {
        // {P, M, N, C}: edges of the 16 and 64 blocks on both sides, M = 1 and P = 1 (one K level), the bias column
        // alone in its block (C = 64), a reduction of 2 x 130
        int[][] cases = {{1, 1, 1, 1}, {3, 5, 7, 3}, {2, 17, 33, 15}, {2, 1, 9, 4}, {1, 40, 70, 65}, {3, 64, 64, 64}, {2, 130, 100, 3}};
        for (int[] s : cases) {
            int p = s[0], m = s[1], n = s[2], c = s[3];
            // contiguous (one K level), and attention's [B, HW, C] views of [B, C, HW]: K = (p, m) on two levels
            Tensor[] gs = {randn(131, DType.F32, p, m, n), randn(132, DType.F32, p, n, m).transpose(1, 2)};
            Tensor[] xs = {randn(133, DType.F32, p, m, c), randn(134, DType.F32, p, c, m).transpose(1, 2), randn(135, DType.F32, 1, m, c).expand(p, m, c)};
            for (int gi = 0; gi < gs.length; gi++)
                for (int xi = 0; xi < xs.length; xi++)
                    for (boolean withBias : new boolean[]{true, false}) {
                        Tensor g = gs[gi], x = xs[xi];
                        String what = System.getProperty(TornadoBackend.MATMUL_KERNEL_PROPERTY) + " " + str(s) + " layouts " + gi + "/" + xi + " bias " + withBias;
                        ParamGradients want = ref(() -> REF.linearParamGradients(g, x, withBias));
                        Tensor gd = deviceView(g), xd = deviceView(x);
                        long before = tornado.launches();
                        ParamGradients got = tornado.linearParamGradients(gd, xd, withBias);
                        assertEquals(1, tornado.launches() - before, "one launch for weight and bias, no copies: " + what);
                        assertClose(want.weight(), down(got.weight()), 1e-4, 1e-4, "weight gradient " + what);
                        if (withBias) assertClose(want.bias(), down(got.bias()), 1e-4, 1e-4, "bias gradient " + what);
                        else assertNull(got.bias(), what);
                    }
        }
    }

    @Test
    void pendingGradientsAreAddedInTheSameLaunch() {
        Tensor x = randn(141, DType.F32, 2, 6, 5, 7), g = randn(142, DType.F32, 2, 6, 5, 7), addend = randn(143, DType.F32, 2, 6, 5, 7);
        Tensor w = randn(144, DType.F32, 6), b = randn(145, DType.F32, 6);
        Tensor xd = up(x), gd = up(g), addendD = up(addend), wd = up(w), bd = up(b);
        long before = tornado.launches();
        Tensor unary = tornado.unaryBackward(UnaryOp.SILU, xd, gd, 0, 0, addendD);
        assertEquals(1, tornado.launches() - before, "unary backward plus addend: one launch");
        assertClose(ref(() -> REF.binary(BinaryOp.ADD, REF.unaryBackward(UnaryOp.SILU, x, g, 0, 0), addend)), down(unary), 1e-5, 1e-6, "silu backward plus addend");
        NormResult stats = tornado.groupNorm(xd, 3, wd, bd, 1e-5, true);
        before = tornado.launches();
        NormGradients norm = tornado.groupNormBackward(gd, xd, stats.mean(), stats.rstd(), wd, bd, 3, true, true, addendD);
        assertEquals(2, tornado.launches() - before, "group norm backward plus addend: the same two launches as without");
        NormResult hostStats = ref(() -> REF.groupNorm(x, 3, w, b, 1e-5, true));
        NormGradients want = ref(() -> REF.groupNormBackward(g, x, hostStats.mean(), hostStats.rstd(), w, b, 3, true, true));
        assertClose(ref(() -> REF.binary(BinaryOp.ADD, want.input(), addend)), down(norm.input()), 1e-4, 1e-5, "group norm dx plus addend");
        assertClose(want.weight(), down(norm.weight()), 1e-4, 1e-4, "group norm dweight beside an addend");
        // g through attention's transpose ([N, HW, C] seen as [N, C, H, W]) and g of a mean (expanded): read in place
        Tensor transposed = randn(149, DType.F32, 2, 35, 6).transpose(1, 2).reshape(2, 6, 5, 7);
        Tensor expanded = randn(150, DType.F32, 1, 1, 1, 1).expand(2, 6, 5, 7);
        for (Tensor gs : new Tensor[]{transposed, expanded}) {
            Tensor gsd = deviceView(gs);
            before = tornado.launches();
            NormGradients strided = tornado.groupNormBackward(gsd, xd, stats.mean(), stats.rstd(), wd, bd, 3, true, true);
            assertEquals(2, tornado.launches() - before, "group norm backward of a strided gradient: no copy");
            NormGradients wantStrided = ref(() -> REF.groupNormBackward(gs, x, hostStats.mean(), hostStats.rstd(), w, b, 3, true, true));
            assertClose(wantStrided.input(), down(strided.input()), 1e-4, 1e-5, "group norm dx of a strided gradient " + str(gs.strides()));
            assertClose(wantStrided.weight(), down(strided.weight()), 1e-4, 1e-4, "group norm dweight of a strided gradient " + str(gs.strides()));
            assertClose(wantStrided.bias(), down(strided.bias()), 1e-4, 1e-4, "group norm dbias of a strided gradient " + str(gs.strides()));
        }
        Tensor a = randn(146, DType.F32, 2, 35, 6), wt = randn(147, DType.F32, 6, 7), sum = randn(148, DType.F32, 2, 35, 7);
        Tensor ad = up(a), wtd = up(wt).unsqueeze(0).expand(2, 6, 7), sumD = up(sum);
        before = tornado.launches();
        Tensor product = tornado.matmulAdd(ad, wtd, sumD);
        assertEquals(1, tornado.launches() - before, "matmul plus addend: one launch");
        assertClose(ref(() -> REF.binary(BinaryOp.ADD, REF.matmul(a, wt.unsqueeze(0).expand(2, 6, 7)), sum)), down(product), 1e-4, 1e-5, "matmul plus addend");
    }

    @Test
    void softmaxAndNormsMatchTheReference() {
        for (int[] shape : new int[][]{{7}, {3, 129}, {2, 31, 17}, {4, 8, 50}})
            for (int dim = 0; dim < shape.length; dim++)
                for (boolean log : new boolean[]{false, true}) {
                    int dd = dim;
                    Tensor x = randnStrided(51, DType.F32, shape), g = randn(52, DType.F32, shape);
                    String what = (log ? "log-softmax " : "softmax ") + str(shape) + " dim " + dim;
                    Tensor y = ref(() -> REF.softmax(x, dd, log));
                    assertClose(y, down(tornado.softmax(deviceView(x), dd, log)), 1e-5, 1e-6, what);
                    assertClose(ref(() -> REF.softmaxBackward(y, g, dd, log)), down(tornado.softmaxBackward(up(y), up(g), dd, log)), 1e-4, 1e-5, what + " backward");
                }
        Tensor x = randn(61, DType.F32, 6, 5, 33), w = randn(62, DType.F32, 33), b = randn(63, DType.F32, 33);
        for (boolean affine : new boolean[]{false, true}) {
            NormResult want = ref(() -> REF.layerNorm(x, affine ? w : null, affine ? b : null, 33, 1e-5));
            NormResult got = tornado.layerNorm(up(x), affine ? up(w) : null, affine ? up(b) : null, 33, 1e-5);
            assertClose(want.output(), down(got.output()), 1e-4, 1e-5, "layerNorm affine=" + affine);
            assertClose(want.mean(), down(got.mean()), 1e-5, 1e-6, "layerNorm mean");
            assertClose(want.rstd(), down(got.rstd()), 1e-4, 1e-5, "layerNorm rstd");
        }
        Tensor img = randn(64, DType.F32, 3, 12, 5, 7), gw = randn(65, DType.F32, 12), gb = randn(66, DType.F32, 12);
        for (int groups : new int[]{1, 3, 12}) {
            NormResult want = ref(() -> REF.groupNorm(img, groups, gw, gb, 1e-5));
            NormResult got = tornado.groupNorm(up(img), groups, up(gw), up(gb), 1e-5);
            assertClose(want.output(), down(got.output()), 1e-4, 1e-5, "groupNorm groups=" + groups);
            assertClose(want.mean(), down(got.mean()), 1e-5, 1e-6, "groupNorm mean");
            assertClose(want.rstd(), down(got.rstd()), 1e-4, 1e-5, "groupNorm rstd");
        }
    }

    @Test
    void concatPadAndAdamMatchTheReference() {
        Tensor a = randn(71, DType.F32, 2, 3, 4), b = randnStrided(72, DType.F32, 2, 5, 4);
        assertIdentical(ref(() -> REF.concat(List.of(a, b), 1)), down(tornado.concat(List.of(up(a), deviceView(b)), 1)), "concat");
        // contiguous parts (a UNet's skip concat) along every dim, an empty part among them: one launch
        for (int dim = 0; dim < 3; dim++) {
            int[] sa = {2, 3, 4}, sb = {2, 3, 4};
            sb[dim] = 5;
            int[] empty = sa.clone();
            empty[dim] = 0;
            Tensor pa = randn(73, DType.F32, sa), pb = randn(74, DType.F32, sb), pe = randn(75, DType.F32, empty);
            Tensor da = up(pa), db = up(pb), de = up(pe);
            int d = dim;
            long before = tornado.launches();
            Tensor got = tornado.concat(List.of(da, de, db, da), d);
            assertEquals(1, tornado.launches() - before, "concat of contiguous parts along dim " + dim + ": one launch");
            assertIdentical(ref(() -> REF.concat(List.of(pa, pe, pb, pa), d)), down(got), "concat of contiguous parts along dim " + dim);
        }
        int[] pads = {1, 0, 0, 2, 3, 1};
        assertIdentical(ref(() -> REF.pad(a, pads, PadMode.CONSTANT, 0.5)), down(tornado.pad(up(a), pads, PadMode.CONSTANT, 0.5)), "pad constant");
        assertIdentical(ref(() -> REF.pad(a, pads, PadMode.REFLECT, 0)), down(tornado.pad(up(a), pads, PadMode.REFLECT, 0)), "pad reflect (host)");

        for (boolean decoupled : new boolean[]{false, true}) {
            Tensor p = randn(81, DType.F32, 1000), g = randn(82, DType.F32, 1000), m = randn(83, DType.F32, 1000).mul(0.1), v = randn(84, DType.F32, 1000).square();
            Tensor pr = p.copy(), mr = m.copy(), vr = v.copy();
            Tensor pd = up(p), gd = up(g), md = up(m), vd = up(v);
            for (long step = 1; step <= 3; step++) {
                long t = step;
                ref(() -> { REF.adamStep(pr, g, mr, vr, 1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, t); return null; });
                tornado.adamStep(pd, gd, md, vd, 1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, t);
            }
            assertClose(pr, down(pd), 1e-5, 1e-6, "adam param decoupled=" + decoupled);
            assertClose(mr, down(md), 1e-5, 1e-6, "adam m");
            assertClose(vr, down(vd), 1e-5, 1e-6, "adam v");
        }
    }

    @Test
    void tensorsStayOnTheDeviceAcrossOps() {
        Tensor x = up(randn(91, DType.F32, 64, 64));
        long before = tornado.launches();
        Tensor y = x;
        for (int i = 0; i < 5; i++) y = y.matmul(x).tanh().mul(0.5);
        long launches = tornado.launches() - before;
        assertEquals(DEV, y.device());
        assertEquals(15, launches, "three kernels per iteration and no transfers");
        Function<Tensor, Tensor> f = t -> { Tensor r = t; for (int i = 0; i < 5; i++) r = r.matmul(t).tanh().mul(0.5); return r; };
        Tensor hx = down(x);
        assertClose(ref(() -> f.apply(hx)), down(y), 1e-4, 1e-5, "chain");
    }

    @Test
    void convolutionAndItsGradientsOnAwkwardShapes() {
        underEachKernel(TornadoBackend.CONV_KERNEL_PROPERTY, this::convCases);
    }

    private void convCases() {
        // {batch, C, H, W, O, kH, kW, stride, pad, dilation, groups}
        int[][] cases = {{1, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1}, {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1}, {2, 4, 8, 8, 6, 3, 3, 2, 1, 1, 2},
                {1, 6, 9, 7, 6, 3, 2, 1, 2, 2, 3}, {3, 8, 6, 6, 16, 1, 1, 1, 0, 1, 1}, {2, 5, 11, 10, 17, 4, 4, 3, 1, 1, 1},
                // M and N of all three GEMMs at least 64 and not multiples of it (forward 70 x 105 x 396, input gradient
                // 66 x 429 x 420, weight gradient 70 x 396 x 105 per group), so auto picks the blocked kernel and its
                // partial edge blocks are hit in every mode
                {3, 132, 11, 13, 140, 3, 2, 2, 1, 2, 2},
                // whole 64 x 64 blocks (forward 128 x 128 x 576)
                {2, 64, 8, 8, 128, 3, 3, 1, 1, 1, 1}};
        for (int[] c : cases) {
            Conv2dParams p = new Conv2dParams(c[7], c[7], c[8], c[8], c[9], c[9], c[10], 0, 0);
            Tensor x = randnStrided(101, DType.F32, c[0], c[1], c[2], c[3]);
            Tensor w = randn(102, DType.F32, c[4], c[1] / c[10], c[5], c[6]), b = randn(103, DType.F32, c[4]);
            String what = System.getProperty(TornadoBackend.CONV_KERNEL_PROPERTY) + " " + java.util.Arrays.toString(c);
            Tensor y = ref(() -> REF.conv2d(x, w, b, p));
            assertClose(y, down(tornado.conv2d(deviceView(x), up(w), up(b), p)), 1e-4, 1e-4, "conv2d " + what);
            assertClose(ref(() -> REF.conv2d(x, w, null, p)), down(tornado.conv2d(deviceView(x), up(w), null, p)), 1e-4, 1e-4, "conv2d no bias " + what);
            Tensor g = randn(104, DType.F32, y.shape());
            assertClose(ref(() -> REF.conv2dBackwardInput(g, w, x.shape(), p)), down(tornado.conv2dBackwardInput(up(g), up(w), x.shape(), p)),
                    1e-4, 1e-4, "conv2d input gradient " + what);
            assertClose(ref(() -> REF.conv2dBackwardWeight(g, x, w.shape(), p)), down(tornado.conv2dBackwardWeight(up(g), deviceView(x), w.shape(), p)),
                    1e-4, 2e-4, "conv2d weight gradient " + what);
            // a residual (the output's shape, strided) and a time embedding ([N, O, 1, 1] expanded) added as it stores
            Tensor residual = randnStrided(109, DType.F32, y.shape()), temb = randn(110, DType.F32, y.size(0), y.size(1), 1, 1).expand(y.shape());
            for (Tensor addend : new Tensor[]{residual, temb}) {
                Tensor xd0 = up(x), addendD = deviceView(addend), wd0 = up(w), bd0 = up(b);
                long start = tornado.launches();
                Tensor sum = tornado.conv2dAdd(xd0, wd0, bd0, p, addendD);
                assertEquals(1, tornado.launches() - start, "conv2d plus addend: one launch " + what);
                assertClose(ref(() -> REF.binary(BinaryOp.ADD, REF.conv2d(x, w, b, p), addend)), down(sum), 1e-4, 1e-4,
                        "conv2d plus addend " + str(addend.strides()) + " " + what);
            }
            // a pending gradient (strided) added as the input gradient is stored
            Tensor pendingX = randnStrided(111, DType.F32, x.shape());
            Tensor gd0 = up(g), wd1 = up(w), pendingD = deviceView(pendingX);
            long startGrad = tornado.launches();
            Tensor gxPlus = tornado.conv2dBackwardInput(gd0, wd1, x.shape(), p, pendingD);
            assertEquals(1, tornado.launches() - startGrad, "conv2d input gradient plus addend: one launch " + what);
            assertClose(ref(() -> REF.binary(BinaryOp.ADD, REF.conv2dBackwardInput(g, w, x.shape(), p), pendingX)), down(gxPlus), 1e-4, 1e-4,
                    "conv2d input gradient plus addend " + what);
            // the bias gradient as the weight gradient's extra column: both in one launch
            Tensor gd = up(g), xd = up(x);
            long before = tornado.launches();
            ParamGradients both = tornado.conv2dParamGradients(gd, xd, w.shape(), p, true);
            assertEquals(1, tornado.launches() - before, "one launch for the weight and bias gradients " + what);
            assertClose(ref(() -> REF.conv2dBackwardWeight(g, x, w.shape(), p)), down(both.weight()), 1e-4, 2e-4, "conv2d weight gradient with bias " + what);
            assertClose(ref(() -> REF.reduce(ReduceOp.SUM, g, new int[]{0, 2, 3}, false, 0)), down(both.bias()), 1e-4, 2e-4, "conv2d bias gradient " + what);
            // channel slices (a skip concat's parts and their gradients): samples contiguous, read in place, one launch each
            Tensor xSlice = randn(107, DType.F32, c[0], c[1] + 3, c[2], c[3]).narrow(1, 2, c[1]);
            Tensor gSlice = randn(108, DType.F32, y.size(0), y.size(1) + 2, y.size(2), y.size(3)).narrow(1, 1, y.size(1));
            Tensor xSliceD = deviceView(xSlice), gSliceD = deviceView(gSlice), wd = up(w), bd = up(b);
            before = tornado.launches();
            Tensor ySlice = tornado.conv2d(xSliceD, wd, bd, p);
            Tensor gxSlice = tornado.conv2dBackwardInput(gSliceD, wd, x.shape(), p);
            ParamGradients pgSlice = tornado.conv2dParamGradients(gSliceD, xSliceD, w.shape(), p, true);
            assertEquals(3, tornado.launches() - before, "no copies of channel slices " + what);
            assertClose(ref(() -> REF.conv2d(xSlice, w, b, p)), down(ySlice), 1e-4, 1e-4, "conv2d of a channel slice " + what);
            assertClose(ref(() -> REF.conv2dBackwardInput(gSlice, w, x.shape(), p)), down(gxSlice), 1e-4, 1e-4, "input gradient from a channel slice " + what);
            assertClose(ref(() -> REF.conv2dBackwardWeight(gSlice, xSlice, w.shape(), p)), down(pgSlice.weight()), 1e-4, 2e-4, "weight gradient of channel slices " + what);
            assertClose(ref(() -> REF.reduce(ReduceOp.SUM, gSlice, new int[]{0, 2, 3}, false, 0)), down(pgSlice.bias()), 1e-4, 2e-4, "bias gradient of a channel slice " + what);
        }
        // conv_transpose2d's forward is the input gradient with an output padding
        Conv2dParams t = new Conv2dParams(2, 2, 1, 1, 1, 1, 1, 1, 1);
        Tensor xt = randn(105, DType.F32, 2, 4, 5, 5), wt = randn(106, DType.F32, 4, 3, 3, 3);
        int[] outShape = {2, 3, 10, 10};
        assertClose(ref(() -> REF.conv2dBackwardInput(xt, wt, outShape, t)), down(tornado.conv2dBackwardInput(up(xt), up(wt), outShape, t)),
                1e-4, 1e-4, "conv_transpose2d");
    }

    @Test
    void poolingResizingAndIndexing() {
        Tensor x = randnStrided(111, DType.F32, 2, 3, 9, 8);
        for (Pool2dParams p : new Pool2dParams[]{Pool2dParams.of(2, 2, 0), Pool2dParams.of(3, 2, 1), new Pool2dParams(3, 2, 1, 2, 1, 1)}) {
            assertClose(ref(() -> REF.avgPool2d(x, p)), down(tornado.avgPool2d(deviceView(x), p)), 1e-5, 1e-6, "avgPool2d " + p);
            ValuesIndices want = ref(() -> REF.maxPool2d(x, p)), got = tornado.maxPool2d(deviceView(x), p);
            assertIdentical(want.values(), down(got.values()), "maxPool2d " + p);
            assertIdentical(want.indices(), down(got.indices()), "maxPool2d indices " + p);
        }
        for (int[] size : new int[][]{{18, 16}, {5, 13}, {9, 8}, {1, 1}, {27, 3}})
            for (int mode = 0; mode < 3; mode++) {
                boolean bilinear = mode > 0, align = mode == 2;
                Tensor want = ref(() -> REF.upsample2d(x, size[0], size[1], bilinear, align));
                Tensor got = down(tornado.upsample2d(deviceView(x), size[0], size[1], bilinear, align));
                // nearest picks the same elements; bilinear weights come from float (not double) source coordinates
                if (bilinear) assertClose(want, got, 1e-5, 1e-5, "upsample2d " + str(size) + " mode " + mode);
                else assertIdentical(want, got, "upsample2d nearest " + str(size));
            }
        Tensor table = randnStrided(112, DType.F32, 7, 5);
        Tensor ids = Tensor.ofLongs(new long[]{3, 0, 4, 3, 3, 1}, 6);
        for (int dim = 0; dim < 2; dim++) {
            int d = dim;
            assertIdentical(ref(() -> REF.indexSelect(table, d, ids)), down(tornado.indexSelect(deviceView(table), d, up(ids))), "indexSelect dim " + dim);
        }
        Tensor gidx = Tensor.ofLongs(new long[]{0, 4, 4, 2, 1, 0, 3, 3, 2, 2, 0, 1}, 3, 4);
        assertIdentical(ref(() -> REF.gather(table, 1, gidx)), down(tornado.gather(deviceView(table), 1, up(gidx))), "gather dim 1");
        Tensor src = randn(113, DType.F32, 3, 4);
        assertClose(ref(() -> REF.scatterAdd(gidx, src, 1, new int[]{3, 5})), down(tornado.scatterAdd(up(gidx), up(src), 1, new int[]{3, 5})),
                1e-6, 1e-6, "scatterAdd dim 1 with repeated indices");
        Tensor rows = Tensor.ofLongs(new long[]{2, 0, 2, 2, 5}, 5, 1).expand(5, 6).contiguous();
        Tensor grads = randn(114, DType.F32, 5, 6);
        assertClose(ref(() -> REF.scatterAdd(rows, grads, 0, new int[]{7, 6})), down(tornado.scatterAdd(up(rows), up(grads), 0, new int[]{7, 6})),
                1e-5, 1e-6, "scatterAdd as an embedding gradient");
    }

    @Test
    void randomDrawsEqualTheCpuDraws() {
        for (RandomKind kind : RandomKind.values())
            for (long seed : new long[]{0, 42, -7L << 40}) {
                Tensor want = Tensor.zeros(DType.F32, 1000, 3), got = tornado.zeros(DType.F32, 1000, 3);
                ref(() -> { REF.fillRandom(want, kind, 0.5, 2, seed, 1L << 33); return null; });
                tornado.fillRandom(got, kind, 0.5, 2, seed, 1L << 33);
                // uniform: the same bits; normal: the device's double log/cos may differ in the last float bits
                double tol = kind == RandomKind.UNIFORM ? 1e-6 : 1e-5;
                assertClose(want, down(got), tol, tol, kind + " seed " + seed);
            }
    }

    @Test
    void aTensorScopeReturnsDeviceOutputsToTheArena() {
        Tensor x = up(randn(121, DType.F32, 256, 256));
        long before = tornado.floatArenaUse()[0];
        Tensor kept;
        Tensor dropped;
        try (dev.distillery.tensor.TensorScope scope = dev.distillery.tensor.TensorScope.open()) {
            dropped = x.matmul(x).tanh();
            kept = scope.keep(x.mul(2).add(1));
            assertTrue(tornado.floatArenaUse()[0] >= before + 3 * 256 * 256, "outputs live inside the scope");
        }
        assertEquals(before + 256 * 256, tornado.floatArenaUse()[0], "everything but the kept output went back to the arena");
        IllegalStateException used = assertThrows(IllegalStateException.class, () -> dropped.to(Device.CPU));
        assertTrue(used.getMessage().contains("TensorScope"), used.getMessage());
        assertClose(ref(() -> down(x).mul(2).add(1)), down(kept), 1e-6, 1e-6, "the kept tensor is intact");
        assertIdentical(down(x), down(x), "an input made outside the scope is untouched");
    }
}
