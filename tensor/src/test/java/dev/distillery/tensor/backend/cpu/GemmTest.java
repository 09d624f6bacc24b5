package dev.distillery.tensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Checks {@link Gemm} against a scalar triple loop (double accumulation) on awkward shapes and layouts. */
class GemmTest {

    /** Where a batch of matrices lives in an array: element (r, c) of matrix b is at off + b*bs + r*rs + c*cs. */
    private record Layout(int off, int bs, int rs, int cs) {
        int at(int b, int r, int c) {
            return off + b * bs + r * rs + c * cs;
        }
    }

    /** Row-major (or, if transposed, column-major) rows x cols matrices; bs = 0 broadcasts one matrix. */
    private static Layout layout(int off, int rows, int cols, boolean transposed, boolean broadcast) {
        int size = rows * cols;
        return transposed ? new Layout(off, broadcast ? 0 : size, 1, rows) : new Layout(off, broadcast ? 0 : size, cols, 1);
    }

    private static int extent(Layout l, int batch, int rows, int cols) {
        return l.at(batch - 1, rows - 1, cols - 1) + 1;
    }

    private static float[] randomF(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    private static double[] randomD(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextDouble() * 2 - 1;
        return a;
    }

    /**
     * Runs sgemm and checks every element of C (and that nothing outside C changed). The float tolerance is
     * 1e-5 * sqrt(K) relative to the size of the products summed.
     */
    private static void checkS(long seed, int batch, int M, int N, int K, boolean ta, boolean tb, boolean bcastA,
                               boolean bcastB, int ldcPad, boolean accumulate) {
        SplittableRandom r = new SplittableRandom(seed);
        Layout la = layout(3, M, K, ta, bcastA), lb = layout(5, K, N, tb, bcastB);
        int ldc = N + ldcPad, cOff = 7, cBatch = M * ldc + 2;
        float[] a = randomF(r, extent(la, batch, M, K) + 2), b = randomF(r, extent(lb, batch, K, N) + 2);
        float[] c = randomF(r, cOff + batch * cBatch + 3), c0 = c.clone();
        Gemm.sgemm(batch, M, N, K, a, la.off, la.bs, la.rs, la.cs, b, lb.off, lb.bs, lb.rs, lb.cs,
                c, cOff, cBatch, ldc, accumulate);
        boolean[] inC = new boolean[c.length];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    int ci = cOff + bi * cBatch + i * ldc + j;
                    inC[ci] = true;
                    double s = accumulate ? c0[ci] : 0, sq = 0;
                    for (int k = 0; k < K; k++) {
                        double p = (double) a[la.at(bi, i, k)] * b[lb.at(bi, k, j)];
                        s += p;
                        sq += p * p;
                    }
                    double tol = 1e-5 * Math.sqrt(K) * (Math.sqrt(sq) + Math.abs(s)) + 1e-6;
                    if (Math.abs(c[ci] - s) > tol)
                        fail(String.format("sgemm batch=%d M=%d N=%d K=%d ta=%b tb=%b acc=%b: C[%d][%d][%d] = %g, expected %g",
                                batch, M, N, K, ta, tb, accumulate, bi, i, j, c[ci], s));
                }
        for (int i = 0; i < c.length; i++)
            if (!inC[i]) assertEquals(c0[i], c[i], "sgemm wrote outside C at " + i);
    }

    private static void checkD(long seed, int batch, int M, int N, int K, boolean ta, boolean tb, boolean bcastA,
                               boolean bcastB, int ldcPad, boolean accumulate) {
        SplittableRandom r = new SplittableRandom(seed);
        Layout la = layout(1, M, K, ta, bcastA), lb = layout(4, K, N, tb, bcastB);
        int ldc = N + ldcPad, cOff = 2, cBatch = M * ldc + 1;
        double[] a = randomD(r, extent(la, batch, M, K) + 1), b = randomD(r, extent(lb, batch, K, N) + 1);
        double[] c = randomD(r, cOff + batch * cBatch + 2), c0 = c.clone();
        Gemm.dgemm(batch, M, N, K, a, la.off, la.bs, la.rs, la.cs, b, lb.off, lb.bs, lb.rs, lb.cs,
                c, cOff, cBatch, ldc, accumulate);
        boolean[] inC = new boolean[c.length];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    int ci = cOff + bi * cBatch + i * ldc + j;
                    inC[ci] = true;
                    double s = accumulate ? c0[ci] : 0, abs = Math.abs(s);
                    for (int k = 0; k < K; k++) {
                        double p = a[la.at(bi, i, k)] * b[lb.at(bi, k, j)];
                        s += p;
                        abs += Math.abs(p);
                    }
                    if (Math.abs(c[ci] - s) > 1e-10 * (1 + abs))
                        fail(String.format("dgemm batch=%d M=%d N=%d K=%d ta=%b tb=%b acc=%b: C[%d][%d][%d] = %s, expected %s",
                                batch, M, N, K, ta, tb, accumulate, bi, i, j, c[ci], s));
                }
        for (int i = 0; i < c.length; i++)
            if (!inC[i]) assertEquals(c0[i], c[i], "dgemm wrote outside C at " + i);
    }

    private static final int[] SIZES = {1, 7, 13, 31, 97};

    @Test
    void floatAllSmallShapesAndTransposes() {
        long seed = 1;
        for (int M : SIZES)
            for (int N : SIZES)
                for (int K : SIZES)
                    for (int t = 0; t < 4; t++)
                        checkS(seed++, 1, M, N, K, (t & 1) != 0, (t & 2) != 0, false, false, 0, false);
    }

    @Test
    void floatPackedPathEdgesAndKBlocks() {
        // Past the small-problem cutoff, with partial micro-tiles in M and N and several K blocks.
        int[][] shapes = {{130, 67, 300}, {257, 259, 513}, {15, 33, 1100}, {200, 17, 40}, {3, 500, 70}, {64, 1024, 27}};
        long seed = 100;
        for (int[] s : shapes)
            for (int t = 0; t < 4; t++) checkS(seed++, 1, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, false, false, 0, false);
    }

    @Test
    void floatBatchedBroadcastAccumulateOffsetsAndLdc() {
        checkS(200, 3, 45, 50, 61, false, false, true, false, 3, true);
        checkS(201, 4, 29, 70, 33, true, false, false, true, 0, true);
        checkS(202, 2, 97, 31, 130, false, true, false, false, 5, false);
        checkS(203, 5, 7, 13, 1, true, true, true, true, 1, true);
        checkS(204, 3, 128, 96, 256, false, false, false, false, 16, true);
        checkS(205, 6, 2, 3, 5, false, false, false, false, 0, false);
    }

    @Test
    void doubleShapesTransposesAndBatches() {
        long seed = 300;
        for (int M : new int[]{1, 13, 97})
            for (int N : new int[]{1, 7, 31})
                for (int K : new int[]{1, 13, 97})
                    for (int t = 0; t < 4; t++) checkD(seed++, 1, M, N, K, (t & 1) != 0, (t & 2) != 0, false, false, 0, false);
        checkD(400, 1, 130, 67, 300, true, false, false, false, 0, false);
        checkD(401, 1, 61, 129, 400, false, true, false, false, 2, true);
        checkD(402, 3, 45, 50, 61, false, false, true, false, 3, true);
        checkD(403, 2, 33, 40, 70, true, true, false, true, 0, false);
    }

    @Test
    void zeroKOverwritesOrKeepsC() {
        float[] c = {1, 2, 3, 4, 5, 6};
        Gemm.sgemm(1, 2, 3, 0, new float[0], 0, 0, 0, 1, new float[0], 0, 0, 3, 1, c, 0, 0, 3, true);
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, c);
        Gemm.sgemm(1, 2, 3, 0, new float[0], 0, 0, 0, 1, new float[0], 0, 0, 3, 1, c, 0, 0, 3, false);
        assertArrayEquals(new float[6], c);
        double[] d = {1, 2};
        Gemm.dgemm(1, 1, 2, 0, new double[0], 0, 0, 0, 1, new double[0], 0, 0, 2, 1, d, 0, 0, 2, false);
        assertArrayEquals(new double[2], d);
    }

    @Test
    void emptyBatchOrOutputIsANoOp() {
        float[] c = {9};
        Gemm.sgemm(0, 1, 1, 1, new float[1], 0, 0, 1, 1, new float[1], 0, 0, 1, 1, c, 0, 0, 1, false);
        Gemm.sgemm(1, 0, 1, 1, new float[1], 0, 0, 1, 1, new float[1], 0, 0, 1, 1, c, 0, 0, 1, false);
        assertEquals(9f, c[0]);
    }

    @Test
    void rejectsNegativeSizes() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(1, -1, 2, 2, new float[4], 0, 0, 2, 1, new float[4], 0, 0, 2, 1, new float[4], 0, 0, 2, false));
        assertTrue(e.getMessage().contains("M=-1"), e.getMessage());
    }

    @Test
    void identicalResultsForAnyThreadCount() {
        // One batch item, so 2 threads cut it into blocks (1 thread does not).
        int M = 301, N = 263, K = 517, batch = 1;
        SplittableRandom r = new SplittableRandom(7);
        float[] a = randomF(r, batch * M * K), b = randomF(r, K * N);
        double[] ad = randomD(r, M * K), bd = randomD(r, K * N);
        int before = Parallel.threads();
        try {
            float[][] outs = new float[2][];
            double[][] outsD = new double[2][];
            for (int t = 1; t <= 2; t++) {
                Parallel.setThreads(t);
                float[] c = new float[batch * M * N];
                // Transposed A: exercises both packers.
                Gemm.sgemm(batch, M, N, K, a, 0, M * K, 1, M, b, 0, 0, N, 1, c, 0, M * N, N, false);
                outs[t - 1] = c;
                double[] cd = new double[M * N];
                Gemm.dgemm(1, M, N, K, ad, 0, 0, K, 1, bd, 0, 0, 1, K, cd, 0, 0, N, false);
                outsD[t - 1] = cd;
            }
            assertTrue(Arrays.equals(outs[0], outs[1]), "sgemm differs between 1 and 2 threads");
            assertTrue(Arrays.equals(outsD[0], outsD[1]), "dgemm differs between 1 and 2 threads");
        } finally {
            Parallel.setThreads(before);
        }
    }
}
