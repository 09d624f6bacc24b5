package dev.distillery.tensor;

import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.PadMode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Broadcasting follows NumPy; bad inputs fail with messages naming the op and the shapes. */
class BroadcastAndErrorsTest {
    @Test
    void broadcastShapes() {
        assertArrayEquals(new int[]{2, 3, 4}, Shapes.broadcast("add", new int[]{3, 1}, new int[]{2, 1, 4}));
        assertArrayEquals(new int[]{5}, Shapes.broadcast("add", new int[]{}, new int[]{5}));
        assertArrayEquals(new int[]{0, 3}, Shapes.broadcast("add", new int[]{0, 1}, new int[]{3}));
    }

    @Test
    void broadcastAddMatchesHandComputation() {
        Tensor a = Tensor.of(new float[]{1, 2, 3}, 3, 1);
        Tensor b = Tensor.of(new float[]{10, 20}, 2);
        assertArrayEquals(new float[]{11, 21, 12, 22, 13, 23}, a.add(b).toFloatArray());
        assertArrayEquals(new float[]{9, 19, 8, 18, 7, 17}, b.sub(a).toFloatArray());
    }

    @Test
    void incompatibleShapesNameOpAndShapes() {
        Tensor a = Tensor.zeros(DType.F32, 2, 3), b = Tensor.zeros(DType.F32, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.mul(b));
        assertTrue(e.getMessage().startsWith("mul:") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
    }

    @Test
    void mixedDtypesAreRejected() {
        Tensor a = Tensor.zeros(DType.F32, 2), b = Tensor.zeros(DType.F64, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().contains("F32") && e.getMessage().contains("F64"), e.getMessage());
    }

    @Test
    void matmulChecksInnerDims() {
        Tensor a = Tensor.zeros(DType.F32, 2, 3), b = Tensor.zeros(DType.F32, 4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.matmul(b));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
    }

    @Test
    void matmulHandlesVectorsBatchesAndTransposedViews() {
        Tensor a = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor v = Tensor.of(new float[]{1, 0, -1}, 3);
        assertArrayEquals(new float[]{-2, -2}, a.matmul(v).toFloatArray());
        assertArrayEquals(new int[]{2}, a.matmul(v).shape());
        // a @ a^T through a transposed view: [[14, 32], [32, 77]].
        assertArrayEquals(new float[]{14, 32, 32, 77}, a.matmul(a.mT()).toFloatArray());
        // Batch broadcast: [2, 1, 2, 3] @ [3, 3, 2] -> [2, 3, 2, 2].
        Tensor x = Tensor.arange(12, DType.F32).view(2, 1, 2, 3);
        Tensor y = Tensor.arange(18, DType.F32).view(3, 3, 2);
        Tensor z = x.matmul(y);
        assertArrayEquals(new int[]{2, 3, 2, 2}, z.shape());
        double s = 0;
        for (int k = 0; k < 3; k++) s += x.get(1, 0, 1, k) * y.get(2, k, 1);
        assertEquals(s, z.get(1, 2, 1, 1));
    }

    @Test
    void matmulBroadcastAcrossASizeOneBatchDim() {
        // Batch [2, 1, 3] from an operand broadcast over the first dim: the batch dims cannot collapse into one
        // stride, so every product must still pair the right matrices.
        Tensor a = Tensor.arange(1 * 1 * 3 * 2 * 2, DType.F32).view(1, 1, 3, 2, 2);
        Tensor b = Tensor.arange(2 * 1 * 1 * 2 * 2, DType.F32).view(2, 1, 1, 2, 2);
        Tensor z = a.matmul(b);
        assertArrayEquals(new int[]{2, 1, 3, 2, 2}, z.shape());
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 3; k++)
                for (int r = 0; r < 2; r++)
                    for (int c = 0; c < 2; c++) {
                        double s = 0;
                        for (int j = 0; j < 2; j++) s += a.get(0, 0, k, r, j) * b.get(i, 0, 0, j, c);
                        assertEquals(s, z.get(i, 0, k, r, c), "batch (" + i + ", " + k + ") element (" + r + ", " + c + ")");
                    }
    }

    @Test
    void convChecksChannelsAndGroups() {
        Tensor x = Tensor.zeros(DType.F32, 1, 4, 5, 5), w = Tensor.zeros(DType.F32, 6, 3, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.conv2d(w, null, Conv2dParams.of(1, 1)));
        assertTrue(e.getMessage().contains("conv2d") && e.getMessage().contains("[1, 4, 5, 5]") && e.getMessage().contains("[6, 3, 3, 3]"), e.getMessage());
        Tensor w2 = Tensor.zeros(DType.F32, 6, 4, 7, 7);
        assertThrows(IllegalArgumentException.class, () -> x.conv2d(w2, null, Conv2dParams.of(1, 0)));
        assertThrows(IllegalArgumentException.class, () -> x.conv2d(Tensor.zeros(DType.F32, 6, 4, 3, 3), Tensor.zeros(DType.F32, 5), Conv2dParams.of(1, 1)));
    }

    @Test
    void indexOutOfRangeIsReportedNotRead() {
        Tensor w = Tensor.zeros(DType.F32, 10, 4);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> Tensor.embedding(w, Tensor.ofLongs(new long[]{3, 10}, 2)));
        assertTrue(e.getMessage().contains("10") && e.getMessage().contains("position 1"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> w.gather(1, Tensor.ofLongs(new long[]{-1}, 1, 1)));
    }

    @Test
    void reshapeErrorsNameShapes() {
        Tensor t = Tensor.zeros(DType.F32, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        assertTrue(e.getMessage().contains("[4, 2]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(4, -1));
    }

    @Test
    void concatAndStackCheckShapes() {
        Tensor a = Tensor.zeros(DType.F32, 2, 3), b = Tensor.zeros(DType.F32, 2, 4);
        assertArrayEquals(new int[]{2, 7}, Tensor.concat(List.of(a, b), 1).shape());
        assertThrows(IllegalArgumentException.class, () -> Tensor.concat(List.of(a, b), 0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.stack(List.of(a, b), 0));
        assertArrayEquals(new int[]{2, 2, 3}, Tensor.stack(List.of(a, a), 1).shape());
    }

    @Test
    void reflectPadMustBeSmallerThanDim() {
        Tensor t = Tensor.zeros(DType.F32, 1, 1, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> t.pad(new int[]{2, 0}, PadMode.REFLECT, 0));
        assertArrayEquals(new int[]{1, 1, 2, 4}, t.pad(new int[]{1, 1}, PadMode.REFLECT, 0).shape());
    }
}
