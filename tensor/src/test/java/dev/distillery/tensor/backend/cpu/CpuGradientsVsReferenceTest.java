package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.testing.BackendUnderTest;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.AdamTensors;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.ParamGradients;
import dev.distillery.tensor.backend.ReduceOp;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.testing.TensorAsserts;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * The backward and optimiser kernels (unaryBackward, scatterAdd, Linear's and conv2d's parameter gradients, adamStep,
 * adamSteps, sumOfSquares, scaled, emaUpdate) against the scalar reference on awkward shapes.
 */
class CpuGradientsVsReferenceTest {
    private static final Backend CPU = BackendUnderTest.get(), REF = ReferenceBackend.INSTANCE;

    private static Tensor input(UnaryOp op, DType dt, long seed, int... shape) {
        Tensor x = TensorAsserts.randnStrided(seed, dt, shape).mul(2);
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL, POW_SCALAR -> x.abs().add(0.1);
            default -> x;
        };
    }

    @Test
    void unaryBackwardMatchesTheReference() {
        int[][] shapes = {{1}, {17}, {3, 31}, {5, 64, 7}};
        long seed = 1;
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (UnaryOp op : UnaryOp.values())
                for (int[] shape : shapes) {
                    Tensor x = input(op, dt, seed++, shape), g = TensorAsserts.randnStrided(seed++, dt, shape);
                    double p0 = op == UnaryOp.CLAMP ? -0.5 : op == UnaryOp.POW_SCALAR ? 1.5 : 0.3, p1 = 0.7;
                    Tensor expected = REF.unaryBackward(op, x, g, p0, p1), actual = CPU.unaryBackward(op, x, g, p0, p1);
                    double rtol = dt == DType.F64 ? 1e-12 : 2e-5;
                    TensorAsserts.assertClose(expected, actual, rtol, dt == DType.F64 ? 1e-14 : 1e-6, op + " " + dt + " " + TensorAsserts.str(shape));
                }
    }

    @Test
    void scatterAddMatchesTheReferenceForEveryDim() {
        Rng rng = new Rng(5);
        int[] srcShape = {3, 7, 5};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int dim = 0; dim < 3; dim++) {
                int[] outShape = srcShape.clone();
                outShape[dim] = srcShape[dim] + 2;
                Tensor src = TensorAsserts.randnStrided(rng.advance(1) + 9, dt, srcShape);
                // Repeated indices: collisions must accumulate.
                Tensor idx = Tensor.randint(rng, 0, outShape[dim], srcShape);
                TensorAsserts.assertClose(REF.scatterAdd(idx, src, dim, outShape), CPU.scatterAdd(idx, src, dim, outShape),
                        dt == DType.F64 ? 1e-12 : 1e-5, 1e-6, "scatterAdd dim " + dim + " " + dt);
            }
        // One outer slice (index_select backward on dim 0): parallel over the inner columns instead.
        Tensor src = Tensor.randn(rng, DType.F32, 40, 3000);
        Tensor idx = Tensor.randint(rng, 0, 10, 40).view(40, 1).expand(40, 3000).contiguous();
        TensorAsserts.assertClose(REF.scatterAdd(idx, src, 0, new int[]{10, 3000}), CPU.scatterAdd(idx, src, 0, new int[]{10, 3000}), 1e-5, 1e-6, "embedding-style");
    }

    @Test
    void scatterAddIsThreadCountIndependent() {
        Tensor src = Tensor.randn(new Rng(1), DType.F32, 2, 500, 64);
        Tensor idx = Tensor.randint(new Rng(2), 0, 7, 2, 500, 64);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            Tensor one = CPU.scatterAdd(idx, src, 1, new int[]{2, 7, 64});
            Parallel.setThreads(3);
            Tensor three = CPU.scatterAdd(idx, src, 1, new int[]{2, 7, 64});
            TensorAsserts.assertIdentical(one, three, "1 vs 3 threads");
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void adamStepMatchesTheReference() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (boolean decoupled : new boolean[]{true, false})
                for (int n : new int[]{1, 37, 1000}) {
                    Tensor[] ref = new Tensor[4], cpu = new Tensor[4];
                    for (int k = 0; k < 4; k++) {
                        Tensor t = TensorAsserts.randn(100 + k + n, dt, n);
                        if (k == 3) t = t.abs(); // exp_avg_sq is non-negative
                        ref[k] = t.copy();
                        cpu[k] = t.copy();
                    }
                    for (long step = 1; step <= 3; step++) {
                        REF.adamStep(ref[0], ref[1], ref[2], ref[3], 1e-2, 0.9, 0.99, 1e-8, 0.05, decoupled, step);
                        CPU.adamStep(cpu[0], cpu[1], cpu[2], cpu[3], 1e-2, 0.9, 0.99, 1e-8, 0.05, decoupled, step);
                    }
                    String what = "adamStep " + dt + (decoupled ? " AdamW" : " Adam") + " n=" + n;
                    double rtol = dt == DType.F64 ? 1e-12 : 2e-5;
                    for (int k : new int[]{0, 2, 3}) TensorAsserts.assertClose(ref[k], cpu[k], rtol, 1e-6, what + " tensor " + k);
                }
    }

    @Test
    void adamStepsMatchOneReferenceStepPerParameter() {
        // 1,700 tensors: more than a TornadoVM launch's parameter table holds (1,638), so the device splits them.
        int[][] sizeLists = {{1, 37, 0, 1000, 129}, java.util.stream.IntStream.range(0, 1700).map(i -> 1 + i % 3).toArray()};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (boolean decoupled : new boolean[]{true, false})
                for (int[] sizes : sizeLists) {
                    if (dt == DType.F64 && sizes.length > 5) continue;
                    java.util.List<Tensor[]> ref = new java.util.ArrayList<>();
                    java.util.List<AdamTensors> cpu = new java.util.ArrayList<>();
                    for (int i = 0; i < sizes.length; i++) {
                        Tensor[] r = new Tensor[4], c = new Tensor[4];
                        for (int k = 0; k < 4; k++) {
                            Tensor t = TensorAsserts.randn(500 + 4L * i + k, dt, sizes[i]);
                            if (k == 3) t = t.abs(); // exp_avg_sq is non-negative
                            r[k] = t.copy();
                            c[k] = t.copy();
                        }
                        ref.add(r);
                        cpu.add(new AdamTensors(c[0], c[1], c[2], c[3]));
                    }
                    for (long step = 1; step <= 2; step++) {
                        for (Tensor[] r : ref) REF.adamStep(r[0], r[1], r[2], r[3], 1e-2, 0.9, 0.99, 1e-8, 0.05, decoupled, step);
                        CPU.adamSteps(cpu, 1e-2, 0.9, 0.99, 1e-8, 0.05, decoupled, step);
                    }
                    double rtol = dt == DType.F64 ? 1e-12 : 2e-5;
                    for (int i = 0; i < sizes.length; i++) {
                        String what = "adamSteps " + dt + (decoupled ? " AdamW" : " Adam") + " tensor " + i + " of " + sizes.length;
                        TensorAsserts.assertClose(ref.get(i)[0], cpu.get(i).param(), rtol, 1e-6, what + " param");
                        TensorAsserts.assertClose(ref.get(i)[2], cpu.get(i).expAvg(), rtol, 1e-6, what + " exp_avg");
                        TensorAsserts.assertClose(ref.get(i)[3], cpu.get(i).expAvgSq(), rtol, 1e-6, what + " exp_avg_sq");
                    }
                }
    }

    /** Tensor sets for the multi-tensor ops: empty, awkward sizes and layouts, and more tensors than a device launch takes. */
    private static java.util.List<java.util.List<Tensor>> tensorSets(DType dt, long seed) {
        java.util.List<Tensor> mixed = new java.util.ArrayList<>(java.util.List.of(
                TensorAsserts.randn(seed, dt, 3, 5), TensorAsserts.randn(seed + 1, dt, 0, 4), TensorAsserts.randnStrided(seed + 2, dt, 7, 9),
                TensorAsserts.randn(seed + 3, dt, 5000), TensorAsserts.randn(seed + 4, dt, 1)));
        java.util.List<Tensor> many = java.util.stream.IntStream.range(0, 1700).mapToObj(i -> TensorAsserts.randn(seed + 10 + i, dt, 1 + i % 3)).toList();
        return dt == DType.F64 ? java.util.List.of(java.util.List.of(), mixed) : java.util.List.of(java.util.List.of(), mixed, many);
    }

    @Test
    void multiTensorSumOfSquaresScaleAndEmaMatchTheReference() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (java.util.List<Tensor> set : tensorSets(dt, 700)) {
                String what = dt + " " + set.size() + " tensors";
                double expected = REF.sumOfSquares(set), actual = CPU.sumOfSquares(set);
                if (Math.abs(expected - actual) > (dt == DType.F64 ? 1e-12 : 1e-5) * Math.max(1, expected))
                    throw new AssertionError("sumOfSquares " + what + ": expected " + expected + " got " + actual);
                java.util.List<Tensor> refScaled = REF.scaled(set, 0.37), scaled = CPU.scaled(set, 0.37);
                for (int i = 0; i < set.size(); i++)
                    TensorAsserts.assertClose(refScaled.get(i), scaled.get(i), dt == DType.F64 ? 1e-12 : 1e-6, 0, "scaled " + what + " tensor " + i);
                java.util.List<Tensor> params = tensorSets(dt, 900).get(set.isEmpty() ? 0 : set.size() > 5 ? 2 : 1);
                java.util.List<Tensor> refShadows = set.stream().map(Tensor::copy).toList(), shadows = set.stream().map(Tensor::copy).toList();
                for (int step = 0; step < 2; step++) {
                    REF.emaUpdate(refShadows, params, 0.9);
                    CPU.emaUpdate(shadows, params, 0.9);
                }
                for (int i = 0; i < set.size(); i++)
                    TensorAsserts.assertClose(refShadows.get(i), shadows.get(i), dt == DType.F64 ? 1e-12 : 1e-6, 1e-7, "emaUpdate " + what + " tensor " + i);
            }
    }

    @Test
    void softmaxBackwardMatchesTheReference() {
        long seed = 300;
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (boolean log : new boolean[]{false, true})
                for (int[] shape : new int[][]{{1, 1}, {3, 17}, {4, 5, 256}, {2, 33, 3}})
                    for (int dim : new int[]{-1, 1}) {
                        Tensor x = TensorAsserts.randnStrided(seed++, dt, shape), g = TensorAsserts.randnStrided(seed++, dt, shape);
                        Tensor y = log ? REF.softmax(x, Math.floorMod(dim, shape.length), true) : REF.softmax(x, Math.floorMod(dim, shape.length), false);
                        int d = Math.floorMod(dim, shape.length);
                        TensorAsserts.assertClose(REF.softmaxBackward(y, g, d, log), CPU.softmaxBackward(y, g, d, log), dt == DType.F64 ? 1e-12 : 2e-5, 1e-6,
                                "softmaxBackward " + dt + (log ? " log" : "") + " dim " + d + " " + TensorAsserts.str(shape));
                    }
    }
    @Test
    void linearParameterGradientsMatchSumsOverEveryLeadingIndex() {
        long seed = 400;
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            // {P, M, N, C}: single rows, one leading index, edges of the device kernels' 16 and 64 blocks, no rows at all
            for (int[] s : new int[][]{{1, 1, 1, 1}, {1, 7, 3, 5}, {3, 17, 33, 9}, {2, 1, 4, 6}, {2, 70, 65, 66}, {2, 0, 3, 4}}) {
                int p = s[0], m = s[1], n = s[2], c = s[3];
                // contiguous; attention's [B, HW, C] views of [B, C, HW] (leading dims no stride walks); strided; shared
                Tensor[] gs = {TensorAsserts.randn(seed, dt, p, m, n), TensorAsserts.randn(seed + 1, dt, p, n, m).transpose(1, 2)};
                Tensor[] xs = {TensorAsserts.randnStrided(seed + 2, dt, p, m, c), TensorAsserts.randn(seed + 3, dt, p, c, m).transpose(1, 2),
                        TensorAsserts.randn(seed + 4, dt, 1, m, c).expand(p, m, c)};
                seed += 5;
                for (int gi = 0; gi < gs.length; gi++)
                    for (int xi = 0; xi < xs.length; xi++) {
                        double[] g = gs[gi].contiguous().toDoubleArray(), x = xs[xi].contiguous().toDoubleArray();
                        double[] w = new double[n * c], b = new double[n];
                        for (int r = 0; r < p * m; r++)
                            for (int o = 0; o < n; o++) {
                                b[o] += g[r * n + o];
                                for (int i = 0; i < c; i++) w[o * c + i] += g[r * n + o] * x[r * c + i];
                            }
                        String what = dt + " " + TensorAsserts.str(s) + " g layout " + gi + " x layout " + xi;
                        double tol = dt == DType.F64 ? 1e-11 : 1e-4;
                        ParamGradients got = CPU.linearParamGradients(gs[gi], xs[xi], true);
                        TensorAsserts.assertClose(Tensor.of(w, n, c).to(dt), got.weight(), tol, tol, "weight gradient " + what);
                        TensorAsserts.assertClose(Tensor.of(b, n).to(dt), got.bias(), tol, tol, "bias gradient " + what);
                        ParamGradients noBias = CPU.linearParamGradients(gs[gi], xs[xi], false);
                        TensorAsserts.assertClose(Tensor.of(w, n, c).to(dt), noBias.weight(), tol, tol, "weight gradient without bias " + what);
                        Assertions.assertNull(noBias.bias(), "no bias gradient asked for");
                    }
            }
    }

    @Test
    void convParameterGradientsMatchTheReference() {
        long seed = 500;
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            // {batch, C, H, W, O, kH, kW, stride, pad, dilation, groups}; the last one fills the device's 64 x 64 blocks
            for (int[] k : new int[][]{{1, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1}, {2, 4, 8, 8, 6, 3, 3, 2, 1, 1, 2}, {2, 5, 11, 10, 17, 4, 4, 3, 1, 1, 1},
                    {3, 132, 11, 13, 140, 3, 2, 2, 1, 2, 2}}) {
                Conv2dParams cp = new Conv2dParams(k[7], k[7], k[8], k[8], k[9], k[9], k[10], 0, 0);
                Tensor x = TensorAsserts.randnStrided(seed++, dt, k[0], k[1], k[2], k[3]);
                int[] ws = {k[4], k[1] / k[10], k[5], k[6]};
                int[] ys = REF.conv2d(x, TensorAsserts.randn(seed++, dt, ws), null, cp).shape();
                Tensor g = TensorAsserts.randn(seed++, dt, ys);
                String what = dt + " " + java.util.Arrays.toString(k);
                double tol = dt == DType.F64 ? 1e-10 : 2e-4;
                ParamGradients got = CPU.conv2dParamGradients(g, x, ws, cp, true);
                TensorAsserts.assertClose(REF.conv2dBackwardWeight(g, x, ws, cp), got.weight(), tol, tol, "conv weight gradient " + what);
                TensorAsserts.assertClose(REF.reduce(ReduceOp.SUM, g, new int[]{0, 2, 3}, false, 0), got.bias(), tol, tol, "conv bias gradient " + what);
            }
    }
    @Test
    void addendsFoldIntoUnaryMatmulAndNormGradients() {
        long seed = 600;
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64)) {
            double tol = dt == DType.F64 ? 1e-11 : 1e-5;
            for (int[] shape : new int[][]{{7}, {3, 17}, {2, 5, 33}}) {
                Tensor x = TensorAsserts.randnStrided(seed++, dt, shape), g = TensorAsserts.randn(seed++, dt, shape);
                Tensor addend = TensorAsserts.randnStrided(seed++, dt, shape); // any layout for the elementwise kernel
                for (UnaryOp op : new UnaryOp[]{UnaryOp.SILU, UnaryOp.TANH, UnaryOp.MUL_SCALAR})
                    TensorAsserts.assertClose(REF.binary(BinaryOp.ADD, REF.unaryBackward(op, x, g, 0.5, 0), addend),
                            CPU.unaryBackward(op, x, g, 0.5, 0, addend), tol, tol, op + " backward plus addend " + dt + " " + TensorAsserts.str(shape));
            }
            // {batches, M, K, N}: the device's 16 and 64 blocks and their edges
            for (int[] s : new int[][]{{1, 1, 1, 1}, {2, 17, 9, 33}, {1, 70, 20, 65}, {3, 64, 16, 64}}) {
                Tensor a = TensorAsserts.randn(seed++, dt, s[0], s[1], s[2]), b = TensorAsserts.randn(seed++, dt, s[2], s[3]).unsqueeze(0).expand(s[0], s[2], s[3]);
                Tensor addend = TensorAsserts.randn(seed++, dt, s[0], s[1], s[3]);
                TensorAsserts.assertClose(REF.binary(BinaryOp.ADD, REF.matmul(a, b), addend), CPU.matmulAdd(a, b, addend),
                        dt == DType.F64 ? 1e-11 : 1e-4, dt == DType.F64 ? 1e-11 : 1e-4, "matmulAdd " + dt + " " + TensorAsserts.str(s));
            }
            // a strided addend: a piece of a concat's gradient
            Tensor x = TensorAsserts.randn(seed++, dt, 3, 6, 5, 7), g = TensorAsserts.randn(seed++, dt, 3, 6, 5, 7), addend = TensorAsserts.randnStrided(seed++, dt, 3, 6, 5, 7);
            Tensor w = TensorAsserts.randn(seed++, dt, 6), bias = TensorAsserts.randn(seed++, dt, 6);
            var stats = REF.groupNorm(x, 3, w, bias, 1e-5, true);
            var want = REF.groupNormBackward(g, x, stats.mean(), stats.rstd(), w, bias, 3, true, true);
            var got = CPU.groupNormBackward(g, x, stats.mean(), stats.rstd(), w, bias, 3, true, true, addend);
            TensorAsserts.assertClose(REF.binary(BinaryOp.ADD, want.input(), addend), got.input(), tol, tol, "groupNorm dx plus addend " + dt);
            TensorAsserts.assertClose(want.weight(), got.weight(), tol, tol, "groupNorm dweight beside an addend " + dt);
            // a product written into a permuted layout (a gradient in its input's layout)
            Tensor q = TensorAsserts.randn(seed++, dt, 2, 9, 3, 5).permute(0, 2, 1, 3), kn = TensorAsserts.randn(seed++, dt, 2, 3, 5, 17);
            Tensor into = Tensor.zeros(dt, 2, 9, 3, 17).permute(0, 2, 1, 3);
            CPU.matmulInto(q, kn, into);
            TensorAsserts.assertClose(REF.matmulTwoBatchDims(q, kn, null).view(2, 3, 9, 17), into, tol, tol, "matmulInto a permuted layout " + dt);
            Tensor w7 = TensorAsserts.randn(seed++, dt, 7);
            var lstats = REF.layerNorm(x, w7, null, 7, 1e-5);
            var lwant = REF.layerNormBackward(g, x, lstats.mean(), lstats.rstd(), w7, 7, true);
            var lgot = CPU.layerNormBackward(g, x, lstats.mean(), lstats.rstd(), w7, 7, true, addend);
            TensorAsserts.assertClose(REF.binary(BinaryOp.ADD, lwant.input(), addend), lgot.input(), tol, tol, "layerNorm dx plus addend " + dt);
            TensorAsserts.assertClose(lwant.weight(), lgot.weight(), tol, tol, "layerNorm dweight beside an addend " + dt);
        }
    }
}
