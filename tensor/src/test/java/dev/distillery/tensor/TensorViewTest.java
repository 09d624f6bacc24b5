package dev.distillery.tensor;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Views share storage and address the right elements; copies happen only when needed. */
class TensorViewTest {
    private static Tensor iota(int... shape) {
        return Tensor.arange(Shapes.numel(shape), DType.F32).view(shape);
    }

    @Test
    void reshapeOfContiguousIsAView() {
        Tensor t = iota(2, 3, 4);
        Tensor v = t.reshape(6, -1);
        assertSame(t.storage(), v.storage());
        assertArrayEquals(new int[]{6, 4}, v.shape());
        assertEquals(13, v.get(3, 1));
    }

    @Test
    void transposeSharesStorageAndSwapsIndices() {
        Tensor t = iota(3, 5);
        Tensor tt = t.transpose(0, 1);
        assertSame(t.storage(), tt.storage());
        assertFalse(tt.isContiguous());
        for (int i = 0; i < 3; i++) for (int j = 0; j < 5; j++) assertEquals(t.get(i, j), tt.get(j, i));
        Tensor c = tt.contiguous();
        assertNotSame(t.storage(), c.storage());
        assertTrue(c.isContiguous());
        assertArrayEquals(new float[]{0, 5, 10, 1, 6, 11, 2, 7, 12, 3, 8, 13, 4, 9, 14}, c.toFloatArray());
    }

    @Test
    void viewOfTransposeFailsButReshapeCopies() {
        Tensor tt = iota(3, 4).transpose(0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tt.view(12));
        assertTrue(e.getMessage().contains("view"), e.getMessage());
        Tensor r = tt.reshape(12);
        assertArrayEquals(new float[]{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, r.toFloatArray());
    }

    @Test
    void viewSplittingAStridedDimWorksWithoutCopy() {
        // A [4, 6] tensor sliced to every other column: [4, 3] with strides [6, 2]; viewing as [2, 2, 3] is legal.
        Tensor s = iota(4, 6).slice(1, 0, 6, 2);
        Tensor v = s.view(2, 2, 3);
        assertSame(s.storage(), v.storage());
        assertEquals(s.get(3, 2), v.get(1, 1, 2));
    }

    @Test
    void permuteNarrowSelectAndSlice() {
        Tensor t = iota(2, 3, 4);
        Tensor p = t.permute(2, 0, 1);
        assertArrayEquals(new int[]{4, 2, 3}, p.shape());
        assertEquals(t.get(1, 2, 3), p.get(3, 1, 2));
        Tensor n = t.narrow(2, 1, 2);
        assertEquals(t.get(1, 1, 2), n.get(1, 1, 1));
        Tensor s = t.select(1, 2);
        assertArrayEquals(new int[]{2, 4}, s.shape());
        assertEquals(t.get(1, 2, 3), s.get(1, 3));
        Tensor sl = t.slice(2, -3, 4, 2);
        assertArrayEquals(new int[]{2, 3, 2}, sl.shape());
        assertEquals(t.get(0, 1, 3), sl.get(0, 1, 1));
    }

    @Test
    void expandUsesZeroStrides() {
        Tensor b = iota(3, 1);
        Tensor e = b.expand(2, 3, 4);
        assertArrayEquals(new int[]{0, 1, 0}, e.strides());
        assertEquals(2, e.get(1, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> iota(3, 2).expand(3, 4));
    }

    @Test
    void squeezeUnsqueezeFlatten() {
        Tensor t = iota(1, 3, 1, 2);
        assertArrayEquals(new int[]{3, 2}, t.squeeze().shape());
        assertArrayEquals(new int[]{3, 1, 2}, t.squeeze(0).shape());
        assertArrayEquals(new int[]{1, 3, 1, 2}, t.squeeze(1).shape());
        Tensor u = t.squeeze().unsqueeze(1);
        assertArrayEquals(new int[]{3, 1, 2}, u.shape());
        assertEquals(t.get(0, 2, 0, 1), u.get(2, 0, 1));
        assertArrayEquals(new int[]{1, 6}, t.flatten(1, 3).shape());
        assertArrayEquals(new int[]{3, 2, 1}, t.squeeze().unsqueeze(-1).shape());
    }

    @Test
    void splitAndChunkAreViews() {
        Tensor t = iota(7, 2);
        List<Tensor> parts = t.split(3, 0);
        assertEquals(3, parts.size());
        assertArrayEquals(new int[]{1, 2}, parts.get(2).shape());
        assertSame(t.storage(), parts.get(1).storage());
        assertEquals(t.get(6, 1), parts.get(2).get(0, 1));
        assertEquals(4, t.chunk(4, 0).size()); // torch.chunk(7 rows, 4) gives sizes 2,2,2,1
    }

    @Test
    void copyFromWritesThroughAView() {
        Tensor t = Tensor.zeros(DType.F32, 3, 4);
        t.narrow(1, 1, 2).copyFrom(Tensor.of(new float[]{1, 2}, 2));
        assertArrayEquals(new float[]{0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2, 0}, t.toFloatArray());
    }

    @Test
    void layoutOutsideStorageIsRejected() {
        Storage s = Storage.allocate(DType.F32, 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(s, new int[]{3, 4}, new int[]{4, 1}, 0));
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(s, 3, 4));
    }

    @Test
    void dtypeConversionsRoundTrip() {
        Tensor t = Tensor.of(new float[]{1.5f, -2.25f, 65504f, 1e-3f}, 4);
        assertArrayEquals(t.toFloatArray(), t.to(DType.F64).to(DType.F32).toFloatArray());
        Tensor h = t.to(DType.F16);
        assertEquals(DType.F16, h.dtype());
        assertArrayEquals(new float[]{1.5f, -2.25f, 65504f, Float.float16ToFloat(Float.floatToFloat16(1e-3f))}, h.to(DType.F32).toFloatArray());
        Tensor b = t.to(DType.BF16).to(DType.F32);
        assertEquals(1.5f, b.toFloatArray()[0]);
        assertEquals(65536f, b.toFloatArray()[2]); // 65504 rounds to the nearest bf16 (8 significant bits)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.exp());
        assertTrue(e.getMessage().contains("F16") && e.getMessage().contains("to(DType.F32)"), e.getMessage());
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 is halfway between two bf16 values (1 and 1 + 2^-7): ties go to the even mantissa, 1.
        assertEquals(1f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f + 0x1p-8f)));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to even, 1 + 2^-6.
        assertEquals(1f + 0x1p-6f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f + 3 * 0x1p-8f)));
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
    }
    @Test
    void uninitializedLikeKeepsAPermutedLayoutAndRefusesOthers() {
        Tensor base = Tensor.zeros(DType.F32, 2, 5, 3, 4);
        for (int[] order : new int[][]{{0, 2, 1, 3}, {0, 2, 3, 1}, {3, 2, 1, 0}, {0, 1, 2, 3}}) {
            Tensor view = base.permute(order);
            Tensor like = Tensor.uninitializedLike(view);
            assertArrayEquals(view.shape(), like.shape(), "shape " + java.util.Arrays.toString(order));
            assertArrayEquals(view.strides(), like.strides(), "strides " + java.util.Arrays.toString(order));
            assertNotSame(view.storage(), like.storage(), "a new storage");
        }
        // size-1 dims take any stride
        Tensor ones = Tensor.zeros(DType.F32, 3, 1, 4).permute(2, 1, 0);
        assertArrayEquals(ones.shape(), Tensor.uninitializedLike(ones).shape());
        assertNull(Tensor.uninitializedLike(Tensor.zeros(DType.F32, 1, 4).expand(3, 4)), "expanded: overlapping");
        assertNull(Tensor.uninitializedLike(Tensor.zeros(DType.F32, 4, 6).narrow(1, 0, 3)), "a slice: gaps");
    }
}
