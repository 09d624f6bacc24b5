package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.testing.BackendUnderTest;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.NormGradients;
import dev.distillery.tensor.backend.NormResult;
import dev.distillery.tensor.backend.ReduceOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.CPU;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.REF;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.forThreadCounts;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.layouts;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.values;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.what;
import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static dev.distillery.tensor.testing.TensorAsserts.assertIdentical;
import static dev.distillery.tensor.testing.TensorAsserts.randn;
import static dev.distillery.tensor.testing.TensorAsserts.str;

/**
 * Reductions, softmax, layer norm and group norm (forward and backward) against the reference.
 *
 * <p>Tolerances (F32): MAX/MIN/ARGMAX/ARGMIN are bit-identical; SUM/MEAN accumulate in float within a segment,
 * so they get rtol 1e-5 plus atol 2e-7 * (elements reduced); VAR, LOGSUMEXP, softmax and the norms rtol 1e-5
 * (atol 1e-6). F64 reductions are bit-identical (same order, in double); softmax and norms rtol 1e-12.
 */
class CpuReductionsVsReferenceTest {

    private static void checkReduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, String w) {
        Tensor r = REF.reduce(op, x, dims, keepDim, 1), c = CPU.reduce(op, x, dims, keepDim, 1);
        int redN = 1;
        for (int d : dims) redN *= x.size(d);
        if (x.dtype() == DType.F64 || op == ReduceOp.MAX || op == ReduceOp.MIN || op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN) {
            assertIdentical(r, c, w);
        } else if (op == ReduceOp.SUM || op == ReduceOp.MEAN) {
            double scale = op == ReduceOp.MEAN ? 1.0 / Math.max(1, redN) : 1;
            assertClose(r, c, 1e-5, (2e-7 * redN + 1e-6) * scale, w);
        } else {
            assertClose(r, c, 1e-5, 1e-6, w);
        }
        if (op == ReduceOp.VAR) {
            Tensor r0 = REF.reduce(op, x, dims, keepDim, 0), c0 = CPU.reduce(op, x, dims, keepDim, 0);
            assertClose(r0, c0, x.dtype() == DType.F64 ? 0 : 1e-5, x.dtype() == DType.F64 ? 0 : 1e-6, w + " correction 0");
        }
    }

    private static List<int[]> subsets(int rank) {
        List<int[]> out = new ArrayList<>();
        for (int mask = 1; mask < (1 << rank); mask++) {
            int[] d = new int[Integer.bitCount(mask)];
            for (int i = 0, k = 0; i < rank; i++) if ((mask & (1 << i)) != 0) d[k++] = i;
            out.add(d);
        }
        return out;
    }

    private static final ReduceOp[] VALUE_OPS = {ReduceOp.SUM, ReduceOp.MEAN, ReduceOp.MAX, ReduceOp.MIN, ReduceOp.VAR, ReduceOp.LOGSUMEXP};

    @Test
    void everyDimSubsetOfSmallShapes() {
        int[][] shapes = {{2, 3, 5, 7}, {7, 13}, {31}, {1}, {3, 1, 17}, {1, 33, 1}, {4, 5, 1, 40}};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[] shape : shapes)
                for (var e : layouts(61, dt, shape).entrySet())
                    for (int[] dims : subsets(shape.length)) {
                        for (ReduceOp op : VALUE_OPS)
                            for (boolean keep : new boolean[]{false, true})
                                checkReduce(op, e.getValue(), dims, keep, what(op + " dims " + str(dims) + " keep " + keep, dt, e.getKey(), shape));
                        if (dims.length == 1)
                            for (ReduceOp op : new ReduceOp[]{ReduceOp.ARGMAX, ReduceOp.ARGMIN})
                                checkReduce(op, e.getValue(), dims, false, what(op + " dim " + dims[0], dt, e.getKey(), shape));
                    }
    }

    @Test
    void largeRowColumnAndSegmentedReductions() {
        // [rows, cols] patterns: long rows (ROW, several segments), tall columns (COL, several segments, masked
        // tail), bias-gradient [N, C, HW] -> [C], a full reduction, and channel sums of [N, C, H, W].
        Object[][] cases = {
                {new int[]{3, 40_000}, new int[]{1}}, {new int[]{70_001}, new int[]{0}}, {new int[]{1100, 40}, new int[]{0}},
                {new int[]{1300, 333}, new int[]{0}}, {new int[]{8, 24, 49}, new int[]{0, 2}}, {new int[]{4, 6, 5, 7}, new int[]{0, 2, 3}},
                {new int[]{3, 17, 9, 11}, new int[]{1}}, {new int[]{600, 3, 37}, new int[]{0, 1}}, {new int[]{2, 2000, 5}, new int[]{1}},
                {new int[]{5, 9000}, new int[]{0, 1}}
        };
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (Object[] c : cases) {
                int[] shape = (int[]) c[0], dims = (int[]) c[1];
                Map<String, Tensor> ls = layouts(62, dt, shape);
                for (String name : new String[]{"contiguous", "strided", "permuted"}) {
                    Tensor x = ls.get(name);
                    if (x == null) continue;
                    for (ReduceOp op : VALUE_OPS) checkReduce(op, x, dims, false, what(op + " dims " + str(dims), dt, name, shape));
                    if (dims.length == 1)
                        for (ReduceOp op : new ReduceOp[]{ReduceOp.ARGMAX, ReduceOp.ARGMIN})
                            checkReduce(op, x, dims, true, what(op + " dims " + str(dims), dt, name, shape));
                }
            }
    }

    @Test
    void nanInfinityAndTies() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64)) {
            // Rows of 37 with NaN, infinities and repeated maxima in various places; reduced along both dims.
            double[] v = new double[5 * 37];
            for (int i = 0; i < v.length; i++) v[i] = (i * 7 % 5) - 2; // ties everywhere
            v[3] = Double.NaN;
            v[37 + 20] = Double.POSITIVE_INFINITY;
            v[2 * 37 + 5] = Double.NEGATIVE_INFINITY;
            v[3 * 37 + 36] = Double.NaN;
            v[3 * 37 + 1] = Double.NaN;
            for (int i = 4 * 37; i < 5 * 37; i++) v[i] = Double.NEGATIVE_INFINITY;
            Tensor x = values(dt, v).view(5, 37);
            for (Tensor t : new Tensor[]{x, x.mT().copy().mT(), x.mT()})
                for (int d = 0; d < 2; d++) {
                    for (ReduceOp op : ReduceOp.values()) checkReduce(op, t, new int[]{d}, false, op + " specials dim " + d + " " + dt);
                }
            for (ReduceOp op : VALUE_OPS) checkReduce(op, x, new int[]{0, 1}, false, op + " specials all " + dt);
            // A NaN deep inside a long row (second segment), and ties across segments.
            double[] w = new double[3 * 40_000];
            for (int i = 0; i < w.length; i++) w[i] = i % 1000 == 999 ? 5 : (i % 13) * 0.25;
            w[40_000 + 25_000] = Double.NaN;
            Tensor y = values(dt, w).view(3, 40_000);
            for (ReduceOp op : ReduceOp.values()) checkReduce(op, y, new int[]{1}, false, op + " long rows " + dt);
        }
    }

    @Test
    void emptyReductions() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64)) {
            Tensor x = Tensor.zeros(dt, 3, 0, 4);
            for (ReduceOp op : new ReduceOp[]{ReduceOp.SUM, ReduceOp.MEAN}) {
                checkReduce(op, x, new int[]{1}, false, op + " empty dim");
                checkReduce(op, x, new int[]{0, 1, 2}, true, op + " empty all");
            }
            for (ReduceOp op : VALUE_OPS) checkReduce(op, x, new int[]{0}, false, op + " empty output");
        }
    }

    // ------------------------------------------------------------------------------------------------ softmax

    @Test
    void softmaxAndLogSoftmax() {
        int[][] shapes = {{7}, {7, 13}, {2, 3, 257}, {4, 31}, {3, 1, 5}, {16, 16}, {2, 40, 3}, {1}, {300, 130}};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[] shape : shapes)
                for (var e : layouts(71, dt, shape).entrySet())
                    for (int d = 0; d < shape.length; d++)
                        for (boolean log : new boolean[]{false, true}) {
                            Tensor x = e.getValue();
                            double rtol = dt == DType.F64 ? 1e-12 : 1e-5, atol = dt == DType.F64 ? 1e-15 : log ? 1e-5 : 1e-7;
                            assertClose(REF.softmax(x, d, log), CPU.softmax(x, d, log), rtol, atol,
                                    what((log ? "logSoftmax" : "softmax") + " dim " + d, dt, e.getKey(), shape));
                        }
        // Masked rows: -inf entries, an all -inf row (NaN), NaN and +inf.
        double ni = Double.NEGATIVE_INFINITY;
        double[] v = {1, ni, 2, ni, 0.5, ni, ni, ni, ni, ni, 3, Double.NaN, 1, 2, 0, 1, 2, Double.POSITIVE_INFINITY, 0, 0};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64)) {
            Tensor x = values(dt, v).view(4, 5);
            for (int d = 0; d < 2; d++)
                for (boolean log : new boolean[]{false, true})
                    assertClose(REF.softmax(x, d, log), CPU.softmax(x, d, log), 1e-5, 1e-7, "masked softmax dim " + d + " log " + log + " " + dt);
        }
    }

    // ------------------------------------------------------------------------------------------------ norms

    private static void checkNorm(NormResult r, NormResult c, DType dt, String w) {
        double rtol = dt == DType.F64 ? 1e-12 : 1e-5, atol = dt == DType.F64 ? 1e-13 : 1e-5;
        assertClose(r.output(), c.output(), rtol, atol, w + " output");
        assertClose(r.mean(), c.mean(), rtol, atol, w + " mean");
        assertClose(r.rstd(), c.rstd(), rtol, atol, w + " rstd");
    }

    @Test
    void layerNormMatches() {
        Object[][] cases = {{new int[]{7, 13}, 13}, {new int[]{2, 3, 40}, 120}, {new int[]{5, 1}, 1}, {new int[]{3, 4, 33}, 33},
                {new int[]{64, 320}, 320}, {new int[]{17}, 17}, {new int[]{0, 8}, 8}};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (Object[] c : cases) {
                int[] shape = (int[]) c[0];
                int ns = (int) c[1];
                Tensor w = randn(81, dt, ns), b = randn(82, dt, ns);
                Tensor ws = randn(83, dt, 2 * ns).slice(0, 0, 2 * ns, 2);
                for (var e : layouts(84, dt, shape).entrySet()) {
                    Tensor x = e.getValue();
                    Tensor shifted = dt == DType.F32 ? x.add(1000) : x; // a large mean (|mean| / std = 1000)
                    for (Tensor[] wb : new Tensor[][]{{w, b}, {null, null}, {w, null}, {null, b}, {ws, b}})
                        checkNorm(REF.layerNorm(x, wb[0], wb[1], ns, 1e-5), CPU.layerNorm(x, wb[0], wb[1], ns, 1e-5), dt,
                                what("layerNorm", dt, e.getKey(), shape));
                    checkNorm(REF.layerNorm(shifted, w, b, ns, 1e-5), CPU.layerNorm(shifted, w, b, ns, 1e-5), dt,
                            what("layerNorm shifted", dt, e.getKey(), shape));
                }
            }
    }

    /** {shape, groups}: one and many groups, a channel per group, rank 2 to 4, an empty spatial dim. */
    private static final Object[][] GROUP_NORM_CASES = {{new int[]{2, 6, 5, 7}, 3}, {new int[]{4, 64, 8, 8}, 32}, {new int[]{3, 4}, 2},
            {new int[]{2, 8, 33}, 8}, {new int[]{1, 6, 3, 3}, 1}, {new int[]{2, 6, 17}, 6}, {new int[]{2, 4, 0}, 2}};

    @Test
    void groupNormMatches() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (Object[] c : GROUP_NORM_CASES) {
                int[] shape = (int[]) c[0];
                int g = (int) c[1], ch = shape[1];
                Tensor w = randn(91, dt, ch), b = randn(92, dt, ch);
                for (var e : layouts(93, dt, shape).entrySet()) {
                    Tensor x = e.getValue();
                    for (Tensor[] wb : new Tensor[][]{{w, b}, {null, null}, {w, null}, {null, b}})
                        for (boolean silu : new boolean[]{false, true})
                            checkNorm(REF.groupNorm(x, g, wb[0], wb[1], 1e-5, silu), CPU.groupNorm(x, g, wb[0], wb[1], 1e-5, silu), dt,
                                    what("groupNorm " + g + (silu ? " silu" : ""), dt, e.getKey(), shape));
                    Tensor shifted = dt == DType.F32 ? x.add(-300) : x;
                    checkNorm(REF.groupNorm(shifted, g, w, b, 1e-5), CPU.groupNorm(shifted, g, w, b, 1e-5), dt,
                            what("groupNorm shifted " + g, dt, e.getKey(), shape));
                }
            }
    }

    private static void checkNormGradients(NormGradients r, NormGradients c, DType dt, String w) {
        // F32: the input gradient is a difference of terms of its own size (gw - mean(gw) - xhat mean(gw xhat)).
        double rtol = dt == DType.F64 ? 1e-12 : 1e-4, atol = dt == DType.F64 ? 1e-12 : 2e-5;
        assertClose(r.input(), c.input(), rtol, atol, w + " input gradient");
        if (r.weight() == null) {
            if (c.weight() != null || c.bias() != null) throw new AssertionError(w + ": affine gradients that were not asked for");
            return;
        }
        assertClose(r.weight(), c.weight(), rtol, atol * 10, w + " weight gradient");
        assertClose(r.bias(), c.bias(), rtol, atol * 10, w + " bias gradient");
    }

    @Test
    void layerNormBackwardMatches() {
        Object[][] cases = {{new int[]{7, 13}, new int[]{13}}, {new int[]{2, 3, 40}, new int[]{3, 40}}, {new int[]{5, 1}, new int[]{1}},
                {new int[]{64, 320}, new int[]{320}}, {new int[]{17}, new int[]{17}}, {new int[]{0, 8}, new int[]{8}}};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (Object[] c : cases) {
                int[] shape = (int[]) c[0], norm = (int[]) c[1];
                int ns = 1;
                for (int d : norm) ns *= d;
                Tensor w = randn(181, dt, ns).reshape(norm), ws = randn(183, dt, 2 * ns).slice(0, 0, 2 * ns, 2).reshape(norm);
                for (var e : layouts(184, dt, shape).entrySet()) {
                    Tensor x = e.getValue(), g = randn(185, dt, shape).mul(3);
                    Tensor shifted = dt == DType.F32 ? x.add(1000) : x; // a large mean (|mean| / std = 1000)
                    for (Tensor input : new Tensor[]{x, shifted})
                        for (Tensor weight : new Tensor[]{w, null, ws})
                            for (boolean affine : new boolean[]{true, false}) {
                                NormResult f = REF.layerNorm(input, weight, null, ns, 1e-5);
                                checkNormGradients(REF.layerNormBackward(g, input, f.mean(), f.rstd(), weight, ns, affine),
                                        CPU.layerNormBackward(g, input, f.mean(), f.rstd(), weight, ns, affine), dt,
                                        what("layerNormBackward" + (input == x ? "" : " shifted") + (weight == null ? "" : " weighted")
                                                + (affine ? " affine" : ""), dt, e.getKey(), shape));
                            }
                    // the gradient in a transposed layout
                    if (shape.length == 2 && shape[0] > 0) {
                        Tensor gt = randn(186, dt, shape[1], shape[0]).transpose(0, 1);
                        NormResult f = REF.layerNorm(x, w, null, ns, 1e-5);
                        checkNormGradients(REF.layerNormBackward(gt, x, f.mean(), f.rstd(), w, ns, true),
                                CPU.layerNormBackward(gt, x, f.mean(), f.rstd(), w, ns, true), dt, what("layerNormBackward transposed gradient", dt, e.getKey(), shape));
                    }
                }
            }
    }

    @Test
    void groupNormBackwardMatches() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (Object[] c : GROUP_NORM_CASES) {
                int[] shape = (int[]) c[0];
                int groups = (int) c[1], ch = shape[1];
                Tensor w = randn(191, dt, ch), ws = randn(193, dt, 2 * ch).slice(0, 1, 2 * ch, 2), b = randn(196, dt, ch);
                for (var e : layouts(194, dt, shape).entrySet()) {
                    Tensor x = e.getValue(), g = randn(195, dt, shape).mul(3);
                    Tensor shifted = dt == DType.F32 ? x.add(-300) : x;
                    for (Tensor input : new Tensor[]{x, shifted})
                        for (Tensor weight : new Tensor[]{w, null, ws})
                            for (Tensor bias : new Tensor[]{null, b})
                                for (boolean silu : new boolean[]{false, true})
                                    for (boolean affine : new boolean[]{true, false}) {
                                        if (bias != null && !silu) continue; // without silu the bias is not read
                                        NormResult f = REF.groupNorm(input, groups, weight, bias, 1e-5, silu);
                                        checkNormGradients(REF.groupNormBackward(g, input, f.mean(), f.rstd(), weight, bias, groups, silu, affine),
                                                CPU.groupNormBackward(g, input, f.mean(), f.rstd(), weight, bias, groups, silu, affine), dt,
                                                what("groupNormBackward " + groups + (input == x ? "" : " shifted") + (weight == null ? "" : " weighted")
                                                        + (bias == null ? "" : " bias") + (silu ? " silu" : "") + (affine ? " affine" : ""),
                                                        dt, e.getKey(), shape));
                                    }
                }
            }
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Tensor rows = randn(101, DType.F32, 3, 70_000), cols = randn(102, DType.F32, 1300, 333), img = randn(103, DType.F32, 8, 64, 12, 12);
        Tensor ln = randn(104, DType.F32, 512, 320);
        List<Tensor> first = new ArrayList<>();
        forThreadCounts(t -> {
            List<Tensor> now = new ArrayList<>();
            for (ReduceOp op : ReduceOp.values()) {
                boolean arg = op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN;
                now.add(CPU.reduce(op, rows, new int[]{1}, false, 1));
                now.add(CPU.reduce(op, cols, new int[]{0}, false, 1));
                if (!arg) {
                    now.add(CPU.reduce(op, rows, new int[]{0, 1}, false, 1));
                    now.add(CPU.reduce(op, img, new int[]{0, 2, 3}, false, 1));
                }
            }
            now.add(CPU.softmax(ln, 1, false));
            now.add(CPU.softmax(ln, 0, true));
            NormResult g = CPU.groupNorm(img, 32, null, null, 1e-5);
            now.add(g.output());
            now.add(g.rstd());
            now.add(CPU.layerNorm(ln, null, null, 320, 1e-5).output());
            if (first.isEmpty()) first.addAll(now);
            else for (int i = 0; i < now.size(); i++) assertIdentical(first.get(i), now.get(i), "result " + i + " threads=" + t);
        });
    }
}
