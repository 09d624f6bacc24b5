package dev.distillery.tensor.tornado;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Dim coalescing of the elementwise layout: the merged walk visits the same addresses as the original one. */
class KernelArgsTest {
    @Test
    void contiguousOperandsBecomeOneDim() {
        int[][] st = {{12, 4, 1}, {12, 4, 1}};
        assertArrayEquals(new int[]{24}, KernelArgs.coalesce(new int[]{2, 3, 4}, st));
        assertArrayEquals(new int[]{1}, st[0]);
        assertArrayEquals(new int[]{1}, st[1]);
    }

    @Test
    void broadcastAndTransposedOperandsKeepTheDimsTheyNeed() {
        // a contiguous [2, 3, 4] with a bias broadcast over the last dim (strides 1, 0, 0 ... as [3, 1] expanded)
        int[][] st = {{12, 4, 1}, {0, 1, 0}};
        assertArrayEquals(new int[]{2, 3, 4}, KernelArgs.coalesce(new int[]{2, 3, 4}, st));
        assertArrayEquals(new int[]{12, 4, 1}, st[0]);
        assertArrayEquals(new int[]{0, 1, 0}, st[1]);
        // a transposed [3, 5] against a contiguous one: no dim can merge
        int[][] tr = {{1, 3}, {5, 1}};
        assertArrayEquals(new int[]{3, 5}, KernelArgs.coalesce(new int[]{3, 5}, tr));
        // a scalar broadcast to everything merges with a contiguous operand
        int[][] sc = {{20, 5, 1}, {0, 0, 0}};
        assertArrayEquals(new int[]{40}, KernelArgs.coalesce(new int[]{2, 4, 5}, sc));
        assertArrayEquals(new int[]{0}, sc[1]);
    }

    @Test
    void sizeOneDimsDropAndEmptyShapesStay() {
        int[][] st = {{7, 7, 1}};
        assertArrayEquals(new int[]{7}, KernelArgs.coalesce(new int[]{1, 1, 7}, st));
        assertArrayEquals(new int[]{1}, st[0]);
        int[][] one = {{1, 1}};
        assertArrayEquals(new int[]{}, KernelArgs.coalesce(new int[]{1, 1}, one));
        int[][] empty = {{3, 1}};
        assertArrayEquals(new int[]{0, 3}, KernelArgs.coalesce(new int[]{0, 3}, empty));
        assertArrayEquals(new int[]{3, 1}, empty[0]);
        // every other column of a [4, 6] row-major tensor is evenly spaced (6 i + 2 j = 2 (3 i + j)): one dim of stride 2
        int[][] sl = {{6, 2}, {3, 1}};
        assertArrayEquals(new int[]{12}, KernelArgs.coalesce(new int[]{4, 3}, sl));
        assertArrayEquals(new int[]{2}, sl[0]);
        // the first 3 of 6 columns are not: row i starts at 6 i, not 3 i
        int[][] narrow = {{6, 1}, {3, 1}};
        assertArrayEquals(new int[]{4, 3}, KernelArgs.coalesce(new int[]{4, 3}, narrow));
    }
}
