package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.testing.BackendUnderTest;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.ValuesIndices;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.CPU;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.REF;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.cpu;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.layouts;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.ref;
import static dev.distillery.tensor.backend.cpu.CpuBackendVsReferenceTest.what;
import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static dev.distillery.tensor.testing.TensorAsserts.assertIdentical;
import static dev.distillery.tensor.testing.TensorAsserts.randn;
import static dev.distillery.tensor.testing.TensorAsserts.str;

/**
 * Pooling, resizing, concat, indexSelect, gather and pad against the reference. All of these are bit-identical
 * (same summation order in double, same resize weights, pure copies) except F32 bilinear resizing, which
 * interpolates in float (rtol 1e-6, atol 2e-6 on N(0, 1) inputs).
 */
class CpuPoolingIndexingVsReferenceTest {
    private static final int[][] IMAGES = {{2, 3, 7, 9}, {1, 1, 1, 1}, {2, 5, 13, 4}, {1, 2, 16, 16}, {3, 4, 31, 17}, {1, 2, 4, 34}};

    private static final Pool2dParams[] POOLS = {
            Pool2dParams.of(2, 2, 0), Pool2dParams.of(3, 2, 1), Pool2dParams.of(3, 1, 1), Pool2dParams.of(1, 1, 0),
            new Pool2dParams(2, 3, 1, 2, 1, 1), new Pool2dParams(1, 4, 1, 3, 0, 2)
    };

    @Test
    void poolingIsIdentical() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[] shape : IMAGES)
                for (var e : layouts(111, dt, shape).entrySet())
                    for (Pool2dParams p : POOLS) {
                        Tensor x = e.getValue();
                        if (p.outH(shape[2]) < 1 || p.outW(shape[3]) < 1) continue;
                        String w = what("pool " + p, dt, e.getKey(), shape);
                        assertIdentical(REF.avgPool2d(x, p), CPU.avgPool2d(x, p), "avg " + w);
                        ValuesIndices r = REF.maxPool2d(x, p), c = CPU.maxPool2d(x, p);
                        assertIdentical(r.values(), c.values(), "max " + w);
                        assertIdentical(r.indices(), c.indices(), "argmax " + w);
                    }
        // NaN and ties inside windows.
        double[] v = new double[2 * 6 * 6];
        for (int i = 0; i < v.length; i++) v[i] = i % 3;
        v[7] = Double.NaN;
        v[40] = Double.NEGATIVE_INFINITY;
        Tensor x = CpuBackendVsReferenceTest.values(DType.F32, v).view(1, 2, 6, 6);
        // Wide rows take the vectorised 2x2 / stride-2 path: ties, NaNs and infinities in every window position.
        double[] wv = new double[2 * 3 * 10 * 70];
        for (int i = 0; i < wv.length; i++) wv[i] = (i * 7919 % 13) % 4;
        for (int i = 5; i < wv.length; i += 37) wv[i] = Double.NaN;
        for (int i = 11; i < wv.length; i += 53) wv[i] = Double.NEGATIVE_INFINITY;
        for (int i = 3; i < wv.length; i += 97) wv[i] = Double.POSITIVE_INFINITY;
        Tensor wide = CpuBackendVsReferenceTest.values(DType.F32, wv).view(2, 3, 10, 70);
        for (Tensor t : new Tensor[]{wide, wide.narrow(3, 1, 67), wide.slice(3, 0, 70, 2)}) {
            ValuesIndices r = REF.maxPool2d(t, Pool2dParams.of(2, 2, 0)), c = CPU.maxPool2d(t, Pool2dParams.of(2, 2, 0));
            assertIdentical(r.values(), c.values(), "max 2x2 wide " + str(t.shape()));
            assertIdentical(r.indices(), c.indices(), "argmax 2x2 wide " + str(t.shape()));
        }
        for (Pool2dParams p : POOLS) {
            ValuesIndices r = REF.maxPool2d(x, p), c = CPU.maxPool2d(x, p);
            assertIdentical(r.values(), c.values(), "max specials " + p);
            assertIdentical(r.indices(), c.indices(), "argmax specials " + p);
        }
    }

    @Test
    void upsamplingIsIdentical() {
        int[][] sizes = {{14, 18}, {7, 9}, {3, 2}, {1, 1}, {13, 27}, {5, 40}, {62, 68}, {31, 136}};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (int[] shape : IMAGES)
                for (var e : layouts(121, dt, shape).entrySet())
                    for (int[] s : sizes) {
                        Tensor x = e.getValue();
                        String w = what("upsample to " + str(s), dt, e.getKey(), shape);
                        assertIdentical(REF.upsample2d(x, s[0], s[1], false, false), CPU.upsample2d(x, s[0], s[1], false, false), "nearest " + w);
                        for (boolean ac : new boolean[]{false, true}) {
                            Tensor r = REF.upsample2d(x, s[0], s[1], true, ac), c = CPU.upsample2d(x, s[0], s[1], true, ac);
                            // F32 interpolates in float (weights sum to 1, so errors are ulps of the inputs' scale).
                            if (dt == DType.F64) assertIdentical(r, c, "bilinear ac=" + ac + " " + w);
                            else assertClose(r, c, 1e-6, BackendUnderTest.isCpu() ? 2e-6 : BackendUnderTest.DEVICE_BILINEAR_ATOL, "bilinear ac=" + ac + " " + w);
                        }
                    }
    }

    @Test
    void concatIsIdentical() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64, DType.I64))
            for (int dd = 0; dd < 3; dd++) {
                int d = dd;
                int[] s1 = {2, 3, 5}, s2 = {2, 3, 5}, s3 = {2, 3, 5};
                s1[d] = 4;
                s2[d] = 0;
                s3[d] = 7;
                Tensor a = randn(131, DType.F32, s1).to(dt);
                Tensor b = Tensor.zeros(dt, s2);
                Tensor c = randnStridedAs(dt, s3);
                List<Tensor> parts = List.of(a, b, c, a);
                assertIdentical(REF.concat(parts, d), CPU.concat(parts, d), "concat dim " + d + " " + dt);
                assertIdentical(ref(() -> Tensor.stack(List.of(a, a), d)), cpu(() -> Tensor.stack(List.of(a, a), d)), "stack " + d);
            }
    }

    private static Tensor randnStridedAs(DType dt, int[] shape) {
        return dev.distillery.tensor.testing.TensorAsserts.randnStrided(132, DType.F32, shape).to(dt).mT().contiguous().mT();
    }

    @Test
    void indexSelectAndGatherAreIdentical() {
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64, DType.I64, DType.BOOL))
            for (var e : layouts(141, DType.F32, 4, 6, 5).entrySet()) {
                Tensor x = dt == DType.BOOL ? ref(() -> e.getValue().gt(0.2)) : dt == DType.F32 ? e.getValue() : e.getValue().to(dt);
                for (int d = 0; d < 3; d++) {
                    int n = x.size(d);
                    Tensor idx = Tensor.ofLongs(new long[]{n - 1, 0, 2 % n, 0, n - 1}, 5);
                    assertIdentical(REF.indexSelect(x, d, idx), CPU.indexSelect(x, d, idx), "indexSelect dim " + d + " " + dt + " " + e.getKey());
                    Tensor empty = Tensor.ofLongs(new long[0], 0);
                    assertIdentical(REF.indexSelect(x, d, empty), CPU.indexSelect(x, d, empty), "indexSelect empty " + d);
                    // gather: index of shape (sizes no larger than x outside d), values in range.
                    int[] gs = {3, 5, 4};
                    gs[d] = 7;
                    long[] gv = new long[gs[0] * gs[1] * gs[2]];
                    for (int i = 0; i < gv.length; i++) gv[i] = (i * 7L + 3) % n;
                    Tensor gi = Tensor.ofLongs(gv, gs);
                    assertIdentical(REF.gather(x, d, gi), CPU.gather(x, d, gi), "gather dim " + d + " " + dt + " " + e.getKey());
                    Tensor git = Tensor.ofLongs(gv, gs[2], gs[1], gs[0]).permute(2, 1, 0); // a non-contiguous index
                    assertIdentical(REF.gather(x, d, git), CPU.gather(x, d, git), "gather strided index dim " + d);
                }
            }
        Tensor emb = randn(142, DType.F32, 50, 33);
        Tensor ids = Tensor.ofLongs(new long[]{3, 49, 0, 3, 17, 22}, 2, 3);
        assertIdentical(ref(() -> Tensor.embedding(emb, ids)), cpu(() -> Tensor.embedding(emb, ids)), "embedding");
    }

    @Test
    void paddingIsIdentical() {
        int[][] padSets = {{1, 2}, {0, 0, 3, 1}, {2, 2, 2, 2}, {1, 0, 0, 1, 1, 1}, {0, 3}};
        for (DType dt : BackendUnderTest.supported(DType.F32, DType.F64))
            for (var e : layouts(151, dt, 2, 4, 5, 7).entrySet())
                for (int[] pads : padSets)
                    for (PadMode mode : PadMode.values())
                        for (double value : new double[]{0, 1.5}) {
                            if (mode != PadMode.CONSTANT && value != 0) continue;
                            Tensor x = e.getValue();
                            assertIdentical(ref(() -> x.pad(pads, mode, value)), cpu(() -> x.pad(pads, mode, value)),
                                    what("pad " + str(pads) + " " + mode + " " + value, dt, e.getKey(), x.shape()));
                        }
        Tensor v = randn(152, DType.F32, 9);
        for (PadMode mode : PadMode.values())
            assertIdentical(ref(() -> v.pad(new int[]{3, 5}, mode, -2)), cpu(() -> v.pad(new int[]{3, 5}, mode, -2)), "pad 1-D " + mode);
        Tensor empty = Tensor.zeros(DType.F32, 0, 3);
        assertIdentical(ref(() -> empty.pad(new int[]{1, 1}, PadMode.CONSTANT, 2)), cpu(() -> empty.pad(new int[]{1, 1}, PadMode.CONSTANT, 2)), "pad empty");
    }
}
