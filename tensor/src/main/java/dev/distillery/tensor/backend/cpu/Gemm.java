package dev.distillery.tensor.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched, strided matrix multiply for the CPU backend: {@code C[b] (+)= A[b] @ B[b]}.
 *
 * <p>Large problems run a packed, cache-blocked GEMM in the style of GotoBLAS/BLIS: {@code B} is packed
 * into {@code KC x NR} column strips and {@code A} into {@code MR x KC} row strips, then a register-tiled
 * micro-kernel accumulates an {@code MR x NR} tile of {@code C} with vector FMAs (one broadcast of {@code A}
 * times two vectors of {@code B} per row and {@code k}). Packing reads the operands through their strides, so
 * transposed or broadcast (stride 0) operands cost the same as contiguous ones. Problems with fewer than
 * {@value #SMALL_WORK} multiply-adds take a direct loop without packing.
 *
 * <p>Work is split over (batch, row or column blocks of {@code C}); every element of {@code C} is computed by
 * exactly one task, summing over {@code k} in the same order whatever the split, so results are bit-identical
 * for any thread count.
 *
 * <p>The vector width is {@code -Ddistillery.vector.bits} (64/128/256/512; 0 selects the scalar path), read
 * once; by default the platform's preferred species.
 */
public final class Gemm {
    private Gemm() {}

    /** Problems (per matrix) with fewer multiply-adds than this skip packing. */
    static final int SMALL_WORK = 32 * 1024;

    /** Configured vector width in bits; 0 means scalar code only. */
    static final int VECTOR_BITS = vectorBits();
    static final VectorSpecies<Float> FS =
            VECTOR_BITS == 0 ? null : VectorSpecies.of(float.class, VectorShape.forBitSize(VECTOR_BITS));
    static final VectorSpecies<Double> DS =
            VECTOR_BITS == 0 ? null : VectorSpecies.of(double.class, VectorShape.forBitSize(VECTOR_BITS));
    static final int FVL = FS == null ? 1 : FS.length();
    static final int DVL = DS == null ? 1 : DS.length();

    /**
     * 512-bit hardware (AVX-512) has 32 vector registers, enough for a 14 x 2-vector tile (28 accumulators,
     * 2 B vectors, 1 broadcast); otherwise assume 16 and use 6 x 2 (12 accumulators).
     */
    private static final boolean WIDE_REGS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    /** Micro-tile rows (MR) and columns (NR = two vectors) of the float and double kernels. */
    static final int SMR = FS == null ? 4 : WIDE_REGS ? 14 : 6;
    static final int SNR = FS == null ? 4 : 2 * FVL;
    static final int DMR = DS == null ? 4 : WIDE_REGS ? 14 : 6;
    static final int DNR = DS == null ? 4 : 2 * DVL;

    /**
     * Cache blocking, tuned on a 48 KiB L1 / 2 MiB L2 core (Sapphire Rapids class): the micro-kernel keeps one
     * MR x KC strip of packed A in L1 (28 KiB) and streams NR-wide strips of B from the KC x NC packed panel
     * (1 MiB, in L2). MC only bounds the per-thread A buffer. Doubles use half the K block.
     */
    static final int KC = 512;
    static final int SMC = roundUp(2016, SMR);
    static final int SNC = roundUp(512, SNR);
    static final int DKC = KC / 2;
    static final int DMC = roundUp(SMC, DMR);
    static final int DNC = roundUp(SNC, DNR);
    /**
     * Tasks per pool thread when a batch item is split. One is best here: every task packs all of B (or A),
     * so more, smaller tasks only add packing (sharing one packed copy between threads measured slower still:
     * each core then reads half of it from the other core's cache).
     */
    static final int TASKS_PER_THREAD = 1;
    /** Minimum multiply-adds per task before splitting a matrix further. */
    static final long MIN_TASK_WORK = 1L << 20;

    private static int vectorBits() {
        String p = System.getProperty("distillery.vector.bits");
        if (p == null || p.isBlank()) return FloatVector.SPECIES_PREFERRED.vectorBitSize();
        try {
            int bits = Integer.parseInt(p.trim());
            if (bits != 0) VectorShape.forBitSize(bits);
            return bits;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "-Ddistillery.vector.bits must be 0 (scalar), 64, 128, 256 or 512, got '" + p + "'", e);
        }
    }

    /** K block length for a K-long product: equal blocks of at most {@code kc} (1152 -> 3 x 384, not 2 x 512 + 128). */
    static int kBlock(int K, int kc) {
        int blocks = (K + kc - 1) / kc;
        return (K + blocks - 1) / blocks;
    }

    /**
     * Distance between consecutive NR-wide strips of a packed B panel: NR*kc plus one cache line, so that the
     * strips (written row by row while packing) do not all map to the same L1 sets when NR*kc*4 is a multiple
     * of 4 KiB.
     */
    static int bStride(int kc, int nr) {
        return nr * kc + 16;
    }

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    /**
     * Packs part of an operand into the micro-kernel layout; lets callers (e.g. convolution) gather operands
     * that are not strided matrices without materialising them.
     *
     * <p>As the A side: packs rows {@code [start, start+count)} x k {@code [k0, k0+kc)} into row strips of
     * {@code MR}: element (r, p) of strip s goes to {@code dst[dstOff + s*MR*kc + p*MR + r]}. As the B side: packs
     * k {@code [k0, k0+kc)} x columns {@code [start, start+count)} into column strips of {@code NR}: element
     * (p, j) of strip s goes to {@code dst[dstOff + s*bStride(kc, NR) + p*NR + j]}. Rows/columns
     * past {@code count} in the last strip must be written as zero. {@link #sgemmBlock} asks for one A strip per call ({@code count <= MR}) and
     * for B panels of up to NC columns.
     */
    @FunctionalInterface
    interface SPack {
        void pack(int batch, int start, int count, int k0, int kc, float[] dst, int dstOff);
    }

    /** {@link SPack} for doubles. */
    @FunctionalInterface
    interface DPack {
        void pack(int batch, int start, int count, int k0, int kc, double[] dst, int dstOff);
    }

    private static void checkDims(int batch, int M, int N, int K, int ldc) {
        if (batch < 0 || M < 0 || N < 0 || K < 0)
            throw new IllegalArgumentException("gemm: negative size batch=" + batch + " M=" + M + " N=" + N + " K=" + K);
        if (ldc < N && M > 1) throw new IllegalArgumentException("gemm: ldc " + ldc + " < N " + N);
    }

    /**
     * Scratch arrays shared by the tasks of one call (shared packed operands, padded inputs). Taken and given back
     * explicitly rather than thread-local, so calls nested inside pool tasks never share one.
     */
    static final class Scratch<A> {
        private static final int MAX_KEPT = 1 << 24;
        private final java.util.ArrayDeque<A> free = new java.util.ArrayDeque<>();
        private final java.util.function.IntFunction<A> alloc;
        private final java.util.function.ToIntFunction<A> length;

        Scratch(java.util.function.IntFunction<A> alloc, java.util.function.ToIntFunction<A> length) {
            this.alloc = alloc;
            this.length = length;
        }

        synchronized A take(int size) {
            for (var it = free.iterator(); it.hasNext(); ) {
                A a = it.next();
                if (length.applyAsInt(a) >= size) {
                    it.remove();
                    return a;
                }
            }
            return alloc.apply(Math.max(size, 1));
        }

        synchronized void give(A a) {
            // Keep a few, and nothing huge: a one-off giant call should not pin its memory forever.
            if (length.applyAsInt(a) > MAX_KEPT) return;
            if (free.size() >= 4) free.removeLast();
            free.addFirst(a);
        }
    }

    static final Scratch<float[]> SCRATCH_S = new Scratch<>(float[]::new, a -> a.length);
    static final Scratch<double[]> SCRATCH_D = new Scratch<>(double[]::new, a -> a.length);

    /** A unit of parallel work: rows {@code [m0, m1)} x columns {@code [n0, n1)} of batch item {@code bi}. */
    @FunctionalInterface
    interface BlockTask {
        void run(int bi, int m0, int m1, int n0, int n1);
    }

    /**
     * Runs {@code task} over every batch item, cutting items into row blocks (multiples of {@code mUnit}) when
     * {@code M >= N}, else column blocks (multiples of {@code nUnit}), so that there are enough tasks for the
     * pool. The cut depends on the thread count, so tasks must compute each output element the same way
     * whatever block it lands in.
     */
    static void parallelBlocks(int batch, int M, int N, long workPerItem, int mUnit, int nUnit, BlockTask task) {
        if (batch <= 0 || M <= 0 || N <= 0) return;
        boolean splitM = M >= N;
        int unit = splitM ? mUnit : nUnit;
        int units = ((splitM ? M : N) + unit - 1) / unit;
        int parts = partsPerItem(batch, units, workPerItem);
        Parallel.forRange(batch * parts, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int bi = t / parts, q = t - bi * parts;
                int u0 = (int) ((long) units * q / parts), u1 = (int) ((long) units * (q + 1) / parts);
                if (splitM) task.run(bi, u0 * unit, Math.min(M, u1 * unit), 0, N);
                else task.run(bi, 0, M, u0 * unit, Math.min(N, u1 * unit));
            }
        });
    }

    /** How many pieces to cut each batch item into along its split dimension ({@code units} tiles long). */
    private static int partsPerItem(int batch, int units, long work) {
        int threads = Parallel.threads();
        if (threads == 1) return 1;
        long want = (long) threads * TASKS_PER_THREAD;
        if (batch >= want) return 1;
        long parts = (want + batch - 1) / batch;
        parts = Math.min(parts, Math.max(1, work / MIN_TASK_WORK));
        return (int) Math.max(1, Math.min(parts, units));
    }


    // ===================================================================================================
    // float
    // ===================================================================================================

    /**
     * float GEMM: {@code C[b] (+)= A[b] @ B[b]} for {@code b} in {@code [0, batch)}.
     *
     * <p>Element (i, k) of {@code A[b]} is {@code a[aOff + b*aBatch + i*aRs + k*aCs]}, element (k, j) of
     * {@code B[b]} is {@code b[bOff + b*bBatch + k*bRs + j*bCs]}; any strides are allowed (transposed views,
     * stride 0 to broadcast over the batch). {@code C[b]} is row-major with leading dimension {@code ldc} at
     * {@code cOff + b*cBatch}. With {@code accumulate} false, {@code C} is overwritten, otherwise added to.
     * {@code C} must not overlap {@code A} or {@code B}. Indices are not range-checked up front: an operand too
     * small for its strides fails with {@link ArrayIndexOutOfBoundsException}.
     */
    public static void sgemm(int batch, int M, int N, int K,
                             float[] a, int aOff, int aBatch, int aRs, int aCs,
                             float[] b, int bOff, int bBatch, int bRs, int bCs,
                             float[] c, int cOff, int cBatch, int ldc, boolean accumulate) {
        checkDims(batch, M, N, K, ldc);
        if (batch == 0 || M == 0 || N == 0) return;
        if (K == 0) {
            if (!accumulate) szeroC(batch, M, N, c, cOff, cBatch, ldc);
            return;
        }
        if (FS == null || (long) M * N * K < SMALL_WORK) {
            sgemmDirect(batch, M, N, K, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs, c, cOff, cBatch, ldc, accumulate);
            return;
        }
        SPack pa = (bi, i0, rows, k0, kc, dst, d0) -> spackA(a, aOff + bi * aBatch, aRs, aCs, i0, rows, k0, kc, dst, d0);
        SPack pb = (bi, j0, cols, k0, kc, dst, d0) -> spackB(b, bOff + bi * bBatch, bRs, bCs, j0, cols, k0, kc, dst, d0);
        sgemmPacked(batch, M, N, K, pa, pb, c, cOff, cBatch, ldc, accumulate);
    }

    private static void szeroC(int batch, int M, int N, float[] c, int cOff, int cBatch, int ldc) {
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < M; i++) {
                int o = cOff + bi * cBatch + i * ldc;
                Arrays.fill(c, o, o + N, 0);
            }
    }

    /** Unpacked GEMM for small problems (and the scalar configuration): one task per batch item x row. */
    private static void sgemmDirect(int batch, int M, int N, int K,
                                    float[] a, int aOff, int aBatch, int aRs, int aCs,
                                    float[] b, int bOff, int bBatch, int bRs, int bCs,
                                    float[] c, int cOff, int cBatch, int ldc, boolean acc) {
        long rowWork = (long) N * K;
        int grain = (int) Math.max(1, Math.min((long) batch * M, (1L << 16) / Math.max(1, rowWork)));
        Parallel.forRange(batch * M, grain, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int bi = t / M, i = t - bi * M;
                int ao = aOff + bi * aBatch + i * aRs, bo = bOff + bi * bBatch, co = cOff + bi * cBatch + i * ldc;
                int j = 0;
                if (FS != null && bCs == 1) {
                    for (int jb = FS.loopBound(N); j < jb; j += FVL) {
                        FloatVector s = FloatVector.zero(FS);
                        for (int k = 0; k < K; k++)
                            s = FloatVector.broadcast(FS, a[ao + k * aCs]).fma(FloatVector.fromArray(FS, b, bo + k * bRs + j), s);
                        if (acc) s = s.add(FloatVector.fromArray(FS, c, co + j));
                        s.intoArray(c, co + j);
                    }
                }
                for (; j < N; j++) {
                    float s = 0;
                    for (int k = 0; k < K; k++) s = Math.fma(a[ao + k * aCs], b[bo + k * bRs + j * bCs], s);
                    c[co + j] = acc ? c[co + j] + s : s;
                }
            }
        });
    }

    /** Packs a strided A block into SMR-row strips at {@code dst[d0..]} (see {@link SPack}). */
    static void spackA(float[] src, int off, int rs, int cs, int i0, int rows, int k0, int kc, float[] dst, int d0) {
        final int mr = SMR;
        for (int s = 0, done = 0; done < rows; s++, done += mr) {
            int rr = Math.min(mr, rows - done), base = d0 + s * mr * kc;
            int sb = off + (i0 + done) * rs + k0 * cs;
            if (cs == 1 && rr == mr && FS != null && FVL >= mr) {
                // Row-major A: a masked gather collects one k of all mr rows per instruction.
                int[] idx = new int[FVL];
                for (int r = 0; r < mr; r++) idx[r] = r * rs;
                VectorMask<Float> m = FS.indexInRange(0, mr);
                for (int p = 0; p < kc; p++) FloatVector.fromArray(FS, src, sb + p, idx, 0, m).intoArray(dst, base + p * mr, m);
            } else if (cs == 1) {
                // Read each row sequentially, write interleaved.
                for (int r = 0; r < rr; r++) {
                    int so = sb + r * rs, d = base + r;
                    for (int p = 0; p < kc; p++) dst[d + p * mr] = src[so + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int so = sb + p * cs, d = base + p * mr;
                    for (int r = 0; r < rr; r++) dst[d + r] = src[so + r * rs];
                }
            }
            if (rr < mr) for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * mr + rr, base + p * mr + mr, 0);
        }
    }

    /** Packs a strided B block into SNR-column strips at {@code dst[d0..]} (see {@link SPack}). */
    static void spackB(float[] src, int off, int rs, int cs, int j0, int cols, int k0, int kc, float[] dst, int d0) {
        final int nr = SNR;
        if (cs == 1) {
            // Row-major B: walk source rows sequentially (prefetcher-friendly), scattering NR-wide pieces to strips.
            int full = cols / nr, rem = cols - full * nr, stripSize = bStride(kc, nr);
            for (int p = 0; p < kc; p++) {
                int so = off + (k0 + p) * rs + j0, d = d0 + p * nr;
                if (FS != null) {
                    for (int s = 0; s < full; s++, so += nr, d += stripSize) {
                        FloatVector.fromArray(FS, src, so).intoArray(dst, d);
                        FloatVector.fromArray(FS, src, so + FVL).intoArray(dst, d + FVL);
                    }
                } else {
                    for (int s = 0; s < full; s++, so += nr, d += stripSize) System.arraycopy(src, so, dst, d, nr);
                }
                if (rem > 0) {
                    System.arraycopy(src, so, dst, d, rem);
                    Arrays.fill(dst, d + rem, d + nr, 0);
                }
            }
            return;
        }
        // Other layouts (e.g. transposed B): read each column along k, write interleaved.
        for (int s = 0, done = 0; done < cols; s++, done += nr) {
            int cc = Math.min(nr, cols - done), base = d0 + s * bStride(kc, nr);
            int sb = off + k0 * rs + (j0 + done) * cs;
            for (int j = 0; j < cc; j++) {
                int so = sb + j * cs, d = base + j;
                for (int p = 0; p < kc; p++) dst[d + p * nr] = src[so + p * rs];
            }
            if (cc < nr) for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * nr + cc, base + p * nr + nr, 0);
        }
    }

    /** Per-thread packing buffers, grown on demand to at most one block each and then reused. */
    private static final class SBuf {
        float[] a = new float[0], b = new float[0];
        final float[] tile = new float[SMR * SNR];
    }

    private static final ThreadLocal<SBuf> SBUF = ThreadLocal.withInitial(SBuf::new);

    /** Parallel packed GEMM over (batch item, block of rows or columns); see {@link #parallelBlocks}. */
    static void sgemmPacked(int batch, int M, int N, int K, SPack pa, SPack pb,
                            float[] c, int cOff, int cBatch, int ldc, boolean acc) {
        if (batch <= 0 || M <= 0 || N <= 0) return;
        if (K == 0) {
            if (!acc) szeroC(batch, M, N, c, cOff, cBatch, ldc);
            return;
        }
        parallelBlocks(batch, M, N, (long) M * N * K, SMR, SNR,
                (bi, m0, m1, n0, n1) -> sgemmBlock(bi, m0, m1, n0, n1, K, pa, pb, c, cOff + bi * cBatch, ldc, acc));
    }

    /**
     * Sequential blocked GEMM of rows {@code [m0, m1)} x columns {@code [n0, n1)} of {@code C[bi]}, whose element
     * (i, j) is {@code c[co + i*ldc + j]} ({@code co} may be negative when {@code c} holds only this block).
     * A comes either from {@code pa} (called for one strip at a time) or, when {@code aPre} is non-null, from
     * A pre-packed by {@link #sprepackA} at {@code aPreOff} (then {@code m0} must be a multiple of SMR).
     * B is packed by {@code pb} one {@code KC x NC} panel at a time. Safe inside a parallel task: it never forks,
     * and uses this thread's packing buffers only until it returns. With K == 0 it leaves C untouched.
     */
    static void sgemmBlock(int bi, int m0, int m1, int n0, int n1, int K, SPack pa, float[] aPre, int aPreOff, SPack pb,
                           float[] c, int co, int ldc, boolean acc) {
        if (m1 <= m0 || n1 <= n0 || K <= 0) return;
        SBuf buf = SBUF.get();
        int kcMax = kBlock(K, KC);
        int mcMax = roundUp(Math.min(SMC, m1 - m0), SMR), ncMax = roundUp(Math.min(SNC, n1 - n0), SNR);
        if (aPre == null && buf.a.length < mcMax * kcMax) buf.a = new float[mcMax * kcMax];
        if (buf.b.length < ncMax / SNR * bStride(kcMax, SNR)) buf.b = new float[ncMax / SNR * bStride(kcMax, SNR)];
        float[] ab = aPre == null ? buf.a : aPre, bb = buf.b, tile = buf.tile;
        // Loop order pc -> ic -> jc -> ir -> jr: the micro-kernel keeps one A strip in L1 while B strips stream
        // from the L2-resident KC x NC panel, and walks C along rows so the hardware prefetcher sees sequential
        // streams. B panels are packed in one go (row by row: sequential reads); A strips are packed lazily
        // during the first jc sweep, right before first use, once per K block.
        for (int pc = 0; pc < K; pc += kcMax) {
            int kc = Math.min(kcMax, K - pc);
            boolean add = acc || pc > 0;
            for (int ic = m0; ic < m1; ic += SMC) {
                int mc = Math.min(SMC, m1 - ic);
                for (int jc = n0; jc < n1; jc += SNC) {
                    int nc = Math.min(SNC, n1 - jc), bs = bStride(kc, SNR);
                    pb.pack(bi, jc, nc, pc, kc, bb, 0);
                    for (int ir = 0; ir < mc; ir += SMR) {
                        int mr = Math.min(SMR, mc - ir), cr = co + (ic + ir) * ldc + jc, ao;
                        if (aPre != null) {
                            ao = aPreOff + (ic + ir) * K + pc * SMR; // strip (ic+ir)/MR starts at that * MR*K
                        } else {
                            ao = ir * kc;
                            if (jc == n0) pa.pack(bi, ic + ir, mr, pc, kc, ab, ao);
                        }
                        for (int jr = 0; jr < nc; jr += SNR)
                            stile(mr, Math.min(SNR, nc - jr), kc, ab, ao, bb, jr / SNR * bs, c, cr + jr, ldc, add, tile);
                    }
                }
            }
        }
    }

    /** {@link #sgemmBlock} packing A with {@code pa}. */
    static void sgemmBlock(int bi, int m0, int m1, int n0, int n1, int K, SPack pa, SPack pb,
                           float[] c, int co, int ldc, boolean acc) {
        sgemmBlock(bi, m0, m1, n0, n1, K, pa, null, 0, pb, c, co, ldc, acc);
    }

    /** Floats needed to pre-pack an M x K matrix A (see {@link #sprepackA}). */
    static int sprepackSize(int M, int K) {
        return roundUp(M, SMR) * K;
    }

    /**
     * Packs all of A (M x K, item {@code bi}) at {@code dst[off..]} as {@code ceil(M/MR)} strips of MR rows x K,
     * strip s at {@code off + s*MR*K}: the layout {@link #sgemmBlock} reads when A is shared by many blocks.
     */
    static void sprepackA(SPack pa, int bi, int M, int K, float[] dst, int off) {
        for (int r = 0; r < M; r += SMR) pa.pack(bi, r, Math.min(SMR, M - r), 0, K, dst, off + r * K);
    }

    /**
     * {@link #sgemmBlock} for an indirect B whose element (k, j) is {@code xb[koff[k] + colOff[j / VL] + j % VL]}:
     * each group of VL consecutive columns is contiguous for every k (e.g. a convolution's im2col matrix read
     * from a zero-padded input). B is read in place, without packing. A is pre-packed ({@code m0} a multiple of
     * SMR). Requires vectors and {@code n0, n1} multiples of VL (or {@code n1} the last column).
     */
    static void sgemmBlockIndirect(int m0, int m1, int n0, int n1, int K, float[] aPre, int aPreOff,
                                   float[] xb, int[] koff, int[] colOff, int colBase,
                                   float[] c, int co, int ldc, boolean acc) {
        if (m1 <= m0 || n1 <= n0 || K <= 0) return;
        float[] tile = SBUF.get().tile;
        int kcMax = kBlock(K, KC);
        for (int pc = 0; pc < K; pc += kcMax) {
            int kc = Math.min(kcMax, K - pc);
            boolean add = acc || pc > 0;
            for (int ir = m0; ir < m1; ir += SMR) {
                int mr = Math.min(SMR, m1 - ir), ao = aPreOff + ir * K + pc * SMR, cr = co + ir * ldc;
                for (int jr = n0; jr < n1; jr += SNR) {
                    int nr = Math.min(SNR, n1 - jr), q = jr / FVL;
                    int s0 = colBase + colOff[q], s1 = nr > FVL ? colBase + colOff[q + 1] : s0;
                    stileI(mr, nr, kc, aPre, ao, xb, koff, pc, s0, s1, c, cr + jr, ldc, add, tile);
                }
            }
        }
    }

    /** {@link #stile} for the indirect kernels. */
    private static void stileI(int mr, int nr, int kc, float[] pa, int ao, float[] xb, int[] koff, int ko, int s0, int s1,
                               float[] c, int co, int ldc, boolean add, float[] tile) {
        int kr = mr == SMR ? SMR : skernelRows(mr);
        boolean direct = nr == SNR && kr == mr;
        float[] t = c;
        int to = co, tl = ldc;
        if (!direct) {
            if (add) for (int i = 0; i < mr; i++) System.arraycopy(c, co + i * ldc, tile, i * SNR, nr);
            t = tile;
            to = 0;
            tl = SNR;
        }
        switch (kr) {
            case 2 -> skernelI2(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            case 4 -> skernelI4(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            case 6 -> skernelI6(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            case 8 -> skernelI8(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            default -> skernelI14(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
        }
        if (!direct) for (int i = 0; i < mr; i++) System.arraycopy(tile, i * SNR, c, co + i * ldc, nr);
    }

    /** One mr x nr tile; edge tiles run a kernel into {@code tile} and copy the valid part. */
    private static void stile(int mr, int nr, int kc, float[] ab, int ao, float[] bb, int bo,
                              float[] c, int co, int ldc, boolean add, float[] tile) {
        if (FS == null) {
            skernelScalar(mr, nr, kc, ab, ao, bb, bo, c, co, ldc, add);
            return;
        }
        if (nr == SNR && mr == SMR) {
            skernelFull(kc, ab, ao, bb, bo, c, co, ldc, add);
            return;
        }
        int kr = skernelRows(mr);
        if (nr == SNR && kr == mr) {
            skernelEdge(kr, kc, ab, ao, bb, bo, c, co, ldc, add);
            return;
        }
        // Same arithmetic as a full tile: the kernel starts from C's values when adding.
        if (add) for (int i = 0; i < mr; i++) System.arraycopy(c, co + i * ldc, tile, i * SNR, nr);
        skernelEdge(kr, kc, ab, ao, bb, bo, tile, 0, SNR, add);
        for (int i = 0; i < mr; i++) System.arraycopy(tile, i * SNR, c, co + i * ldc, nr);
    }

    /** Rows of the smallest kernel covering {@code mr} rows. */
    private static int skernelRows(int mr) {
        if (mr <= 2) return 2;
        if (mr <= 4) return 4;
        if (WIDE_REGS) return mr <= 8 ? 8 : 14;
        return 6;
    }

    private static void skernelFull(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        if (WIDE_REGS) skernel14(kc, pa, ao, pb, bo, c, co, ldc, add);
        else skernel6(kc, pa, ao, pb, bo, c, co, ldc, add);
    }

    private static void skernelEdge(int kr, int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        switch (kr) {
            case 2 -> skernel2(kc, pa, ao, pb, bo, c, co, ldc, add);
            case 4 -> skernel4(kc, pa, ao, pb, bo, c, co, ldc, add);
            case 6 -> skernel6(kc, pa, ao, pb, bo, c, co, ldc, add);
            case 8 -> skernel8(kc, pa, ao, pb, bo, c, co, ldc, add);
            default -> skernel14(kc, pa, ao, pb, bo, c, co, ldc, add);
        }
    }

    /** Scalar micro-kernel for {@code -Ddistillery.vector.bits=0}. */
    private static void skernelScalar(int mr, int nr, int kc, float[] pa, int ao, float[] pb, int bo,
                                      float[] c, int co, int ldc, boolean add) {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                int o = co + i * ldc + j;
                float s = add ? c[o] : 0;
                for (int p = 0; p < kc; p++) s = Math.fma(pa[ao + p * SMR + i], pb[bo + p * SNR + j], s);
                c[o] = s;
            }
    }

    // Micro-kernels: mr rows x 2 vectors, every accumulator a local so C2 keeps them in registers (14 rows:
    // 28 accumulators + 2 B vectors + 1 broadcast of the 32 zmm registers). Packed A has stride SMR per k step,
    // packed B stride SNR; the kernelI variants read B in place at koff[k] + s0 / s1 (see sgemmBlockIndirect).
    // When adding, C is loaded into the accumulators up front: edge tiles (run on a copy) then round exactly
    // like full ones, and the methods stay small enough for C1. That matters: when C1 bails out on a method
    // ("out of virtual registers") that already has tier-2 code, HotSpot can leave it at tier 2 for good,
    // about 70x slower, instead of moving on to C2.

    private static void skernel14(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc; int r8 = co + 8 * ldc; int r9 = co + 9 * ldc; int r10 = co + 10 * ldc; int r11 = co + 11 * ldc; int r12 = co + 12 * ldc; int r13 = co + 13 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        FloatVector c40; FloatVector c41;
        FloatVector c50; FloatVector c51;
        FloatVector c60; FloatVector c61;
        FloatVector c70; FloatVector c71;
        FloatVector c80; FloatVector c81;
        FloatVector c90; FloatVector c91;
        FloatVector c100; FloatVector c101;
        FloatVector c110; FloatVector c111;
        FloatVector c120; FloatVector c121;
        FloatVector c130; FloatVector c131;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
            c40 = FloatVector.fromArray(FS, c, r4); c41 = FloatVector.fromArray(FS, c, r4 + 1 * FVL);
            c50 = FloatVector.fromArray(FS, c, r5); c51 = FloatVector.fromArray(FS, c, r5 + 1 * FVL);
            c60 = FloatVector.fromArray(FS, c, r6); c61 = FloatVector.fromArray(FS, c, r6 + 1 * FVL);
            c70 = FloatVector.fromArray(FS, c, r7); c71 = FloatVector.fromArray(FS, c, r7 + 1 * FVL);
            c80 = FloatVector.fromArray(FS, c, r8); c81 = FloatVector.fromArray(FS, c, r8 + 1 * FVL);
            c90 = FloatVector.fromArray(FS, c, r9); c91 = FloatVector.fromArray(FS, c, r9 + 1 * FVL);
            c100 = FloatVector.fromArray(FS, c, r10); c101 = FloatVector.fromArray(FS, c, r10 + 1 * FVL);
            c110 = FloatVector.fromArray(FS, c, r11); c111 = FloatVector.fromArray(FS, c, r11 + 1 * FVL);
            c120 = FloatVector.fromArray(FS, c, r12); c121 = FloatVector.fromArray(FS, c, r12 + 1 * FVL);
            c130 = FloatVector.fromArray(FS, c, r13); c131 = FloatVector.fromArray(FS, c, r13 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
            c40 = FloatVector.zero(FS); c41 = FloatVector.zero(FS);
            c50 = FloatVector.zero(FS); c51 = FloatVector.zero(FS);
            c60 = FloatVector.zero(FS); c61 = FloatVector.zero(FS);
            c70 = FloatVector.zero(FS); c71 = FloatVector.zero(FS);
            c80 = FloatVector.zero(FS); c81 = FloatVector.zero(FS);
            c90 = FloatVector.zero(FS); c91 = FloatVector.zero(FS);
            c100 = FloatVector.zero(FS); c101 = FloatVector.zero(FS);
            c110 = FloatVector.zero(FS); c111 = FloatVector.zero(FS);
            c120 = FloatVector.zero(FS); c121 = FloatVector.zero(FS);
            c130 = FloatVector.zero(FS); c131 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, bp = bo + p * SNR;
            FloatVector b0 = FloatVector.fromArray(FS, pb, bp);
            FloatVector b1 = FloatVector.fromArray(FS, pb, bp + 1 * FVL);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(FS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(FS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(FS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(FS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(FS, pa[ap + 8]);
            c80 = a8.fma(b0, c80); c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(FS, pa[ap + 9]);
            c90 = a9.fma(b0, c90); c91 = a9.fma(b1, c91);
            FloatVector a10 = FloatVector.broadcast(FS, pa[ap + 10]);
            c100 = a10.fma(b0, c100); c101 = a10.fma(b1, c101);
            FloatVector a11 = FloatVector.broadcast(FS, pa[ap + 11]);
            c110 = a11.fma(b0, c110); c111 = a11.fma(b1, c111);
            FloatVector a12 = FloatVector.broadcast(FS, pa[ap + 12]);
            c120 = a12.fma(b0, c120); c121 = a12.fma(b1, c121);
            FloatVector a13 = FloatVector.broadcast(FS, pa[ap + 13]);
            c130 = a13.fma(b0, c130); c131 = a13.fma(b1, c131);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * FVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * FVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * FVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * FVL);
        c80.intoArray(c, r8); c81.intoArray(c, r8 + 1 * FVL);
        c90.intoArray(c, r9); c91.intoArray(c, r9 + 1 * FVL);
        c100.intoArray(c, r10); c101.intoArray(c, r10 + 1 * FVL);
        c110.intoArray(c, r11); c111.intoArray(c, r11 + 1 * FVL);
        c120.intoArray(c, r12); c121.intoArray(c, r12 + 1 * FVL);
        c130.intoArray(c, r13); c131.intoArray(c, r13 + 1 * FVL);
    }

    private static void skernel8(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        FloatVector c40; FloatVector c41;
        FloatVector c50; FloatVector c51;
        FloatVector c60; FloatVector c61;
        FloatVector c70; FloatVector c71;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
            c40 = FloatVector.fromArray(FS, c, r4); c41 = FloatVector.fromArray(FS, c, r4 + 1 * FVL);
            c50 = FloatVector.fromArray(FS, c, r5); c51 = FloatVector.fromArray(FS, c, r5 + 1 * FVL);
            c60 = FloatVector.fromArray(FS, c, r6); c61 = FloatVector.fromArray(FS, c, r6 + 1 * FVL);
            c70 = FloatVector.fromArray(FS, c, r7); c71 = FloatVector.fromArray(FS, c, r7 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
            c40 = FloatVector.zero(FS); c41 = FloatVector.zero(FS);
            c50 = FloatVector.zero(FS); c51 = FloatVector.zero(FS);
            c60 = FloatVector.zero(FS); c61 = FloatVector.zero(FS);
            c70 = FloatVector.zero(FS); c71 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, bp = bo + p * SNR;
            FloatVector b0 = FloatVector.fromArray(FS, pb, bp);
            FloatVector b1 = FloatVector.fromArray(FS, pb, bp + 1 * FVL);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(FS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(FS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(FS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(FS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * FVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * FVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * FVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * FVL);
    }

    private static void skernel6(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        FloatVector c40; FloatVector c41;
        FloatVector c50; FloatVector c51;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
            c40 = FloatVector.fromArray(FS, c, r4); c41 = FloatVector.fromArray(FS, c, r4 + 1 * FVL);
            c50 = FloatVector.fromArray(FS, c, r5); c51 = FloatVector.fromArray(FS, c, r5 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
            c40 = FloatVector.zero(FS); c41 = FloatVector.zero(FS);
            c50 = FloatVector.zero(FS); c51 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, bp = bo + p * SNR;
            FloatVector b0 = FloatVector.fromArray(FS, pb, bp);
            FloatVector b1 = FloatVector.fromArray(FS, pb, bp + 1 * FVL);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(FS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(FS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * FVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * FVL);
    }

    private static void skernel4(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, bp = bo + p * SNR;
            FloatVector b0 = FloatVector.fromArray(FS, pb, bp);
            FloatVector b1 = FloatVector.fromArray(FS, pb, bp + 1 * FVL);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
    }

    private static void skernel2(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, bp = bo + p * SNR;
            FloatVector b0 = FloatVector.fromArray(FS, pb, bp);
            FloatVector b1 = FloatVector.fromArray(FS, pb, bp + 1 * FVL);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
    }

    private static void skernelI14(int kc, float[] pa, int ao, float[] xb, int[] koff, int ko, int s0, int s1, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc; int r8 = co + 8 * ldc; int r9 = co + 9 * ldc; int r10 = co + 10 * ldc; int r11 = co + 11 * ldc; int r12 = co + 12 * ldc; int r13 = co + 13 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        FloatVector c40; FloatVector c41;
        FloatVector c50; FloatVector c51;
        FloatVector c60; FloatVector c61;
        FloatVector c70; FloatVector c71;
        FloatVector c80; FloatVector c81;
        FloatVector c90; FloatVector c91;
        FloatVector c100; FloatVector c101;
        FloatVector c110; FloatVector c111;
        FloatVector c120; FloatVector c121;
        FloatVector c130; FloatVector c131;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
            c40 = FloatVector.fromArray(FS, c, r4); c41 = FloatVector.fromArray(FS, c, r4 + 1 * FVL);
            c50 = FloatVector.fromArray(FS, c, r5); c51 = FloatVector.fromArray(FS, c, r5 + 1 * FVL);
            c60 = FloatVector.fromArray(FS, c, r6); c61 = FloatVector.fromArray(FS, c, r6 + 1 * FVL);
            c70 = FloatVector.fromArray(FS, c, r7); c71 = FloatVector.fromArray(FS, c, r7 + 1 * FVL);
            c80 = FloatVector.fromArray(FS, c, r8); c81 = FloatVector.fromArray(FS, c, r8 + 1 * FVL);
            c90 = FloatVector.fromArray(FS, c, r9); c91 = FloatVector.fromArray(FS, c, r9 + 1 * FVL);
            c100 = FloatVector.fromArray(FS, c, r10); c101 = FloatVector.fromArray(FS, c, r10 + 1 * FVL);
            c110 = FloatVector.fromArray(FS, c, r11); c111 = FloatVector.fromArray(FS, c, r11 + 1 * FVL);
            c120 = FloatVector.fromArray(FS, c, r12); c121 = FloatVector.fromArray(FS, c, r12 + 1 * FVL);
            c130 = FloatVector.fromArray(FS, c, r13); c131 = FloatVector.fromArray(FS, c, r13 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
            c40 = FloatVector.zero(FS); c41 = FloatVector.zero(FS);
            c50 = FloatVector.zero(FS); c51 = FloatVector.zero(FS);
            c60 = FloatVector.zero(FS); c61 = FloatVector.zero(FS);
            c70 = FloatVector.zero(FS); c71 = FloatVector.zero(FS);
            c80 = FloatVector.zero(FS); c81 = FloatVector.zero(FS);
            c90 = FloatVector.zero(FS); c91 = FloatVector.zero(FS);
            c100 = FloatVector.zero(FS); c101 = FloatVector.zero(FS);
            c110 = FloatVector.zero(FS); c111 = FloatVector.zero(FS);
            c120 = FloatVector.zero(FS); c121 = FloatVector.zero(FS);
            c130 = FloatVector.zero(FS); c131 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, o = koff[ko + p];
            FloatVector b0 = FloatVector.fromArray(FS, xb, o + s0);
            FloatVector b1 = FloatVector.fromArray(FS, xb, o + s1);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(FS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(FS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(FS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(FS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(FS, pa[ap + 8]);
            c80 = a8.fma(b0, c80); c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(FS, pa[ap + 9]);
            c90 = a9.fma(b0, c90); c91 = a9.fma(b1, c91);
            FloatVector a10 = FloatVector.broadcast(FS, pa[ap + 10]);
            c100 = a10.fma(b0, c100); c101 = a10.fma(b1, c101);
            FloatVector a11 = FloatVector.broadcast(FS, pa[ap + 11]);
            c110 = a11.fma(b0, c110); c111 = a11.fma(b1, c111);
            FloatVector a12 = FloatVector.broadcast(FS, pa[ap + 12]);
            c120 = a12.fma(b0, c120); c121 = a12.fma(b1, c121);
            FloatVector a13 = FloatVector.broadcast(FS, pa[ap + 13]);
            c130 = a13.fma(b0, c130); c131 = a13.fma(b1, c131);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * FVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * FVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * FVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * FVL);
        c80.intoArray(c, r8); c81.intoArray(c, r8 + 1 * FVL);
        c90.intoArray(c, r9); c91.intoArray(c, r9 + 1 * FVL);
        c100.intoArray(c, r10); c101.intoArray(c, r10 + 1 * FVL);
        c110.intoArray(c, r11); c111.intoArray(c, r11 + 1 * FVL);
        c120.intoArray(c, r12); c121.intoArray(c, r12 + 1 * FVL);
        c130.intoArray(c, r13); c131.intoArray(c, r13 + 1 * FVL);
    }

    private static void skernelI8(int kc, float[] pa, int ao, float[] xb, int[] koff, int ko, int s0, int s1, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        FloatVector c40; FloatVector c41;
        FloatVector c50; FloatVector c51;
        FloatVector c60; FloatVector c61;
        FloatVector c70; FloatVector c71;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
            c40 = FloatVector.fromArray(FS, c, r4); c41 = FloatVector.fromArray(FS, c, r4 + 1 * FVL);
            c50 = FloatVector.fromArray(FS, c, r5); c51 = FloatVector.fromArray(FS, c, r5 + 1 * FVL);
            c60 = FloatVector.fromArray(FS, c, r6); c61 = FloatVector.fromArray(FS, c, r6 + 1 * FVL);
            c70 = FloatVector.fromArray(FS, c, r7); c71 = FloatVector.fromArray(FS, c, r7 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
            c40 = FloatVector.zero(FS); c41 = FloatVector.zero(FS);
            c50 = FloatVector.zero(FS); c51 = FloatVector.zero(FS);
            c60 = FloatVector.zero(FS); c61 = FloatVector.zero(FS);
            c70 = FloatVector.zero(FS); c71 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, o = koff[ko + p];
            FloatVector b0 = FloatVector.fromArray(FS, xb, o + s0);
            FloatVector b1 = FloatVector.fromArray(FS, xb, o + s1);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(FS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(FS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(FS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(FS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * FVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * FVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * FVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * FVL);
    }

    private static void skernelI6(int kc, float[] pa, int ao, float[] xb, int[] koff, int ko, int s0, int s1, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        FloatVector c40; FloatVector c41;
        FloatVector c50; FloatVector c51;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
            c40 = FloatVector.fromArray(FS, c, r4); c41 = FloatVector.fromArray(FS, c, r4 + 1 * FVL);
            c50 = FloatVector.fromArray(FS, c, r5); c51 = FloatVector.fromArray(FS, c, r5 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
            c40 = FloatVector.zero(FS); c41 = FloatVector.zero(FS);
            c50 = FloatVector.zero(FS); c51 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, o = koff[ko + p];
            FloatVector b0 = FloatVector.fromArray(FS, xb, o + s0);
            FloatVector b1 = FloatVector.fromArray(FS, xb, o + s1);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(FS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(FS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * FVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * FVL);
    }

    private static void skernelI4(int kc, float[] pa, int ao, float[] xb, int[] koff, int ko, int s0, int s1, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        FloatVector c20; FloatVector c21;
        FloatVector c30; FloatVector c31;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
            c20 = FloatVector.fromArray(FS, c, r2); c21 = FloatVector.fromArray(FS, c, r2 + 1 * FVL);
            c30 = FloatVector.fromArray(FS, c, r3); c31 = FloatVector.fromArray(FS, c, r3 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
            c20 = FloatVector.zero(FS); c21 = FloatVector.zero(FS);
            c30 = FloatVector.zero(FS); c31 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, o = koff[ko + p];
            FloatVector b0 = FloatVector.fromArray(FS, xb, o + s0);
            FloatVector b1 = FloatVector.fromArray(FS, xb, o + s1);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(FS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(FS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * FVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * FVL);
    }

    private static void skernelI2(int kc, float[] pa, int ao, float[] xb, int[] koff, int ko, int s0, int s1, float[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc;
        FloatVector c00; FloatVector c01;
        FloatVector c10; FloatVector c11;
        if (add) {
            c00 = FloatVector.fromArray(FS, c, r0); c01 = FloatVector.fromArray(FS, c, r0 + 1 * FVL);
            c10 = FloatVector.fromArray(FS, c, r1); c11 = FloatVector.fromArray(FS, c, r1 + 1 * FVL);
        } else {
            c00 = FloatVector.zero(FS); c01 = FloatVector.zero(FS);
            c10 = FloatVector.zero(FS); c11 = FloatVector.zero(FS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * SMR, o = koff[ko + p];
            FloatVector b0 = FloatVector.fromArray(FS, xb, o + s0);
            FloatVector b1 = FloatVector.fromArray(FS, xb, o + s1);
            FloatVector a0 = FloatVector.broadcast(FS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(FS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * FVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * FVL);
    }


    // ===================================================================================================
    // double
    // ===================================================================================================

    /**
     * double GEMM: {@code C[b] (+)= A[b] @ B[b]} for {@code b} in {@code [0, batch)}.
     *
     * <p>Element (i, k) of {@code A[b]} is {@code a[aOff + b*aBatch + i*aRs + k*aCs]}, element (k, j) of
     * {@code B[b]} is {@code b[bOff + b*bBatch + k*bRs + j*bCs]}; any strides are allowed (transposed views,
     * stride 0 to broadcast over the batch). {@code C[b]} is row-major with leading dimension {@code ldc} at
     * {@code cOff + b*cBatch}. With {@code accumulate} false, {@code C} is overwritten, otherwise added to.
     * {@code C} must not overlap {@code A} or {@code B}. Indices are not range-checked up front: an operand too
     * small for its strides fails with {@link ArrayIndexOutOfBoundsException}.
     */
    public static void dgemm(int batch, int M, int N, int K,
                             double[] a, int aOff, int aBatch, int aRs, int aCs,
                             double[] b, int bOff, int bBatch, int bRs, int bCs,
                             double[] c, int cOff, int cBatch, int ldc, boolean accumulate) {
        checkDims(batch, M, N, K, ldc);
        if (batch == 0 || M == 0 || N == 0) return;
        if (K == 0) {
            if (!accumulate) dzeroC(batch, M, N, c, cOff, cBatch, ldc);
            return;
        }
        if (DS == null || (long) M * N * K < SMALL_WORK) {
            dgemmDirect(batch, M, N, K, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs, c, cOff, cBatch, ldc, accumulate);
            return;
        }
        DPack pa = (bi, i0, rows, k0, kc, dst, d0) -> dpackA(a, aOff + bi * aBatch, aRs, aCs, i0, rows, k0, kc, dst, d0);
        DPack pb = (bi, j0, cols, k0, kc, dst, d0) -> dpackB(b, bOff + bi * bBatch, bRs, bCs, j0, cols, k0, kc, dst, d0);
        dgemmPacked(batch, M, N, K, pa, pb, c, cOff, cBatch, ldc, accumulate);
    }

    private static void dzeroC(int batch, int M, int N, double[] c, int cOff, int cBatch, int ldc) {
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < M; i++) {
                int o = cOff + bi * cBatch + i * ldc;
                Arrays.fill(c, o, o + N, 0);
            }
    }

    /** Unpacked GEMM for small problems (and the scalar configuration): one task per batch item x row. */
    private static void dgemmDirect(int batch, int M, int N, int K,
                                    double[] a, int aOff, int aBatch, int aRs, int aCs,
                                    double[] b, int bOff, int bBatch, int bRs, int bCs,
                                    double[] c, int cOff, int cBatch, int ldc, boolean acc) {
        long rowWork = (long) N * K;
        int grain = (int) Math.max(1, Math.min((long) batch * M, (1L << 16) / Math.max(1, rowWork)));
        Parallel.forRange(batch * M, grain, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int bi = t / M, i = t - bi * M;
                int ao = aOff + bi * aBatch + i * aRs, bo = bOff + bi * bBatch, co = cOff + bi * cBatch + i * ldc;
                int j = 0;
                if (DS != null && bCs == 1) {
                    for (int jb = DS.loopBound(N); j < jb; j += DVL) {
                        DoubleVector s = DoubleVector.zero(DS);
                        for (int k = 0; k < K; k++)
                            s = DoubleVector.broadcast(DS, a[ao + k * aCs]).fma(DoubleVector.fromArray(DS, b, bo + k * bRs + j), s);
                        if (acc) s = s.add(DoubleVector.fromArray(DS, c, co + j));
                        s.intoArray(c, co + j);
                    }
                }
                for (; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) s = Math.fma(a[ao + k * aCs], b[bo + k * bRs + j * bCs], s);
                    c[co + j] = acc ? c[co + j] + s : s;
                }
            }
        });
    }

    /** Packs a strided A block into DMR-row strips at {@code dst[d0..]} (see {@link DPack}). */
    static void dpackA(double[] src, int off, int rs, int cs, int i0, int rows, int k0, int kc, double[] dst, int d0) {
        final int mr = DMR;
        for (int s = 0, done = 0; done < rows; s++, done += mr) {
            int rr = Math.min(mr, rows - done), base = d0 + s * mr * kc;
            int sb = off + (i0 + done) * rs + k0 * cs;
            if (cs == 1 && rr == mr && DS != null && DVL >= mr) {
                // Row-major A: a masked gather collects one k of all mr rows per instruction.
                int[] idx = new int[DVL];
                for (int r = 0; r < mr; r++) idx[r] = r * rs;
                VectorMask<Double> m = DS.indexInRange(0, mr);
                for (int p = 0; p < kc; p++) DoubleVector.fromArray(DS, src, sb + p, idx, 0, m).intoArray(dst, base + p * mr, m);
            } else if (cs == 1) {
                // Read each row sequentially, write interleaved.
                for (int r = 0; r < rr; r++) {
                    int so = sb + r * rs, d = base + r;
                    for (int p = 0; p < kc; p++) dst[d + p * mr] = src[so + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int so = sb + p * cs, d = base + p * mr;
                    for (int r = 0; r < rr; r++) dst[d + r] = src[so + r * rs];
                }
            }
            if (rr < mr) for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * mr + rr, base + p * mr + mr, 0);
        }
    }

    /** Packs a strided B block into DNR-column strips at {@code dst[d0..]} (see {@link DPack}). */
    static void dpackB(double[] src, int off, int rs, int cs, int j0, int cols, int k0, int kc, double[] dst, int d0) {
        final int nr = DNR;
        if (cs == 1) {
            // Row-major B: walk source rows sequentially (prefetcher-friendly), scattering NR-wide pieces to strips.
            int full = cols / nr, rem = cols - full * nr, stripSize = bStride(kc, nr);
            for (int p = 0; p < kc; p++) {
                int so = off + (k0 + p) * rs + j0, d = d0 + p * nr;
                if (DS != null) {
                    for (int s = 0; s < full; s++, so += nr, d += stripSize) {
                        DoubleVector.fromArray(DS, src, so).intoArray(dst, d);
                        DoubleVector.fromArray(DS, src, so + DVL).intoArray(dst, d + DVL);
                    }
                } else {
                    for (int s = 0; s < full; s++, so += nr, d += stripSize) System.arraycopy(src, so, dst, d, nr);
                }
                if (rem > 0) {
                    System.arraycopy(src, so, dst, d, rem);
                    Arrays.fill(dst, d + rem, d + nr, 0);
                }
            }
            return;
        }
        // Other layouts (e.g. transposed B): read each column along k, write interleaved.
        for (int s = 0, done = 0; done < cols; s++, done += nr) {
            int cc = Math.min(nr, cols - done), base = d0 + s * bStride(kc, nr);
            int sb = off + k0 * rs + (j0 + done) * cs;
            for (int j = 0; j < cc; j++) {
                int so = sb + j * cs, d = base + j;
                for (int p = 0; p < kc; p++) dst[d + p * nr] = src[so + p * rs];
            }
            if (cc < nr) for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * nr + cc, base + p * nr + nr, 0);
        }
    }

    /** Per-thread packing buffers, grown on demand to at most one block each and then reused. */
    private static final class DBuf {
        double[] a = new double[0], b = new double[0];
        final double[] tile = new double[DMR * DNR];
    }

    private static final ThreadLocal<DBuf> DBUF = ThreadLocal.withInitial(DBuf::new);

    /** Parallel packed GEMM over (batch item, block of rows or columns); see {@link #parallelBlocks}. */
    static void dgemmPacked(int batch, int M, int N, int K, DPack pa, DPack pb,
                            double[] c, int cOff, int cBatch, int ldc, boolean acc) {
        if (batch <= 0 || M <= 0 || N <= 0) return;
        if (K == 0) {
            if (!acc) dzeroC(batch, M, N, c, cOff, cBatch, ldc);
            return;
        }
        parallelBlocks(batch, M, N, (long) M * N * K, DMR, DNR,
                (bi, m0, m1, n0, n1) -> dgemmBlock(bi, m0, m1, n0, n1, K, pa, pb, c, cOff + bi * cBatch, ldc, acc));
    }

    /**
     * Sequential blocked GEMM of rows {@code [m0, m1)} x columns {@code [n0, n1)} of {@code C[bi]}, whose element
     * (i, j) is {@code c[co + i*ldc + j]} ({@code co} may be negative when {@code c} holds only this block).
     * A comes either from {@code pa} (called for one strip at a time) or, when {@code aPre} is non-null, from
     * A pre-packed by {@link #dprepackA} at {@code aPreOff} (then {@code m0} must be a multiple of DMR).
     * B is packed by {@code pb} one {@code KC x NC} panel at a time. Safe inside a parallel task: it never forks,
     * and uses this thread's packing buffers only until it returns. With K == 0 it leaves C untouched.
     */
    static void dgemmBlock(int bi, int m0, int m1, int n0, int n1, int K, DPack pa, double[] aPre, int aPreOff, DPack pb,
                           double[] c, int co, int ldc, boolean acc) {
        if (m1 <= m0 || n1 <= n0 || K <= 0) return;
        DBuf buf = DBUF.get();
        int kcMax = kBlock(K, DKC);
        int mcMax = roundUp(Math.min(DMC, m1 - m0), DMR), ncMax = roundUp(Math.min(DNC, n1 - n0), DNR);
        if (aPre == null && buf.a.length < mcMax * kcMax) buf.a = new double[mcMax * kcMax];
        if (buf.b.length < ncMax / DNR * bStride(kcMax, DNR)) buf.b = new double[ncMax / DNR * bStride(kcMax, DNR)];
        double[] ab = aPre == null ? buf.a : aPre, bb = buf.b, tile = buf.tile;
        // Loop order pc -> ic -> jc -> ir -> jr: the micro-kernel keeps one A strip in L1 while B strips stream
        // from the L2-resident KC x NC panel, and walks C along rows so the hardware prefetcher sees sequential
        // streams. B panels are packed in one go (row by row: sequential reads); A strips are packed lazily
        // during the first jc sweep, right before first use, once per K block.
        for (int pc = 0; pc < K; pc += kcMax) {
            int kc = Math.min(kcMax, K - pc);
            boolean add = acc || pc > 0;
            for (int ic = m0; ic < m1; ic += DMC) {
                int mc = Math.min(DMC, m1 - ic);
                for (int jc = n0; jc < n1; jc += DNC) {
                    int nc = Math.min(DNC, n1 - jc), bs = bStride(kc, DNR);
                    pb.pack(bi, jc, nc, pc, kc, bb, 0);
                    for (int ir = 0; ir < mc; ir += DMR) {
                        int mr = Math.min(DMR, mc - ir), cr = co + (ic + ir) * ldc + jc, ao;
                        if (aPre != null) {
                            ao = aPreOff + (ic + ir) * K + pc * DMR; // strip (ic+ir)/MR starts at that * MR*K
                        } else {
                            ao = ir * kc;
                            if (jc == n0) pa.pack(bi, ic + ir, mr, pc, kc, ab, ao);
                        }
                        for (int jr = 0; jr < nc; jr += DNR)
                            dtile(mr, Math.min(DNR, nc - jr), kc, ab, ao, bb, jr / DNR * bs, c, cr + jr, ldc, add, tile);
                    }
                }
            }
        }
    }

    /** {@link #dgemmBlock} packing A with {@code pa}. */
    static void dgemmBlock(int bi, int m0, int m1, int n0, int n1, int K, DPack pa, DPack pb,
                           double[] c, int co, int ldc, boolean acc) {
        dgemmBlock(bi, m0, m1, n0, n1, K, pa, null, 0, pb, c, co, ldc, acc);
    }

    /** Floats needed to pre-pack an M x K matrix A (see {@link #dprepackA}). */
    static int dprepackSize(int M, int K) {
        return roundUp(M, DMR) * K;
    }

    /**
     * Packs all of A (M x K, item {@code bi}) at {@code dst[off..]} as {@code ceil(M/MR)} strips of MR rows x K,
     * strip s at {@code off + s*MR*K}: the layout {@link #dgemmBlock} reads when A is shared by many blocks.
     */
    static void dprepackA(DPack pa, int bi, int M, int K, double[] dst, int off) {
        for (int r = 0; r < M; r += DMR) pa.pack(bi, r, Math.min(DMR, M - r), 0, K, dst, off + r * K);
    }

    /**
     * {@link #dgemmBlock} for an indirect B whose element (k, j) is {@code xb[koff[k] + colOff[j / VL] + j % VL]}:
     * each group of VL consecutive columns is contiguous for every k (e.g. a convolution's im2col matrix read
     * from a zero-padded input). B is read in place, without packing. A is pre-packed ({@code m0} a multiple of
     * DMR). Requires vectors and {@code n0, n1} multiples of VL (or {@code n1} the last column).
     */
    static void dgemmBlockIndirect(int m0, int m1, int n0, int n1, int K, double[] aPre, int aPreOff,
                                   double[] xb, int[] koff, int[] colOff, int colBase,
                                   double[] c, int co, int ldc, boolean acc) {
        if (m1 <= m0 || n1 <= n0 || K <= 0) return;
        double[] tile = DBUF.get().tile;
        int kcMax = kBlock(K, DKC);
        for (int pc = 0; pc < K; pc += kcMax) {
            int kc = Math.min(kcMax, K - pc);
            boolean add = acc || pc > 0;
            for (int ir = m0; ir < m1; ir += DMR) {
                int mr = Math.min(DMR, m1 - ir), ao = aPreOff + ir * K + pc * DMR, cr = co + ir * ldc;
                for (int jr = n0; jr < n1; jr += DNR) {
                    int nr = Math.min(DNR, n1 - jr), q = jr / DVL;
                    int s0 = colBase + colOff[q], s1 = nr > DVL ? colBase + colOff[q + 1] : s0;
                    dtileI(mr, nr, kc, aPre, ao, xb, koff, pc, s0, s1, c, cr + jr, ldc, add, tile);
                }
            }
        }
    }

    /** {@link #dtile} for the indirect kernels. */
    private static void dtileI(int mr, int nr, int kc, double[] pa, int ao, double[] xb, int[] koff, int ko, int s0, int s1,
                               double[] c, int co, int ldc, boolean add, double[] tile) {
        int kr = mr == DMR ? DMR : dkernelRows(mr);
        boolean direct = nr == DNR && kr == mr;
        double[] t = c;
        int to = co, tl = ldc;
        if (!direct) {
            if (add) for (int i = 0; i < mr; i++) System.arraycopy(c, co + i * ldc, tile, i * DNR, nr);
            t = tile;
            to = 0;
            tl = DNR;
        }
        switch (kr) {
            case 2 -> dkernelI2(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            case 4 -> dkernelI4(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            case 6 -> dkernelI6(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            case 8 -> dkernelI8(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
            default -> dkernelI14(kc, pa, ao, xb, koff, ko, s0, s1, t, to, tl, add);
        }
        if (!direct) for (int i = 0; i < mr; i++) System.arraycopy(tile, i * DNR, c, co + i * ldc, nr);
    }

    /** One mr x nr tile; edge tiles run a kernel into {@code tile} and copy the valid part. */
    private static void dtile(int mr, int nr, int kc, double[] ab, int ao, double[] bb, int bo,
                              double[] c, int co, int ldc, boolean add, double[] tile) {
        if (DS == null) {
            dkernelScalar(mr, nr, kc, ab, ao, bb, bo, c, co, ldc, add);
            return;
        }
        if (nr == DNR && mr == DMR) {
            dkernelFull(kc, ab, ao, bb, bo, c, co, ldc, add);
            return;
        }
        int kr = dkernelRows(mr);
        if (nr == DNR && kr == mr) {
            dkernelEdge(kr, kc, ab, ao, bb, bo, c, co, ldc, add);
            return;
        }
        // Same arithmetic as a full tile: the kernel starts from C's values when adding.
        if (add) for (int i = 0; i < mr; i++) System.arraycopy(c, co + i * ldc, tile, i * DNR, nr);
        dkernelEdge(kr, kc, ab, ao, bb, bo, tile, 0, DNR, add);
        for (int i = 0; i < mr; i++) System.arraycopy(tile, i * DNR, c, co + i * ldc, nr);
    }

    /** Rows of the smallest kernel covering {@code mr} rows. */
    private static int dkernelRows(int mr) {
        if (mr <= 2) return 2;
        if (mr <= 4) return 4;
        if (WIDE_REGS) return mr <= 8 ? 8 : 14;
        return 6;
    }

    private static void dkernelFull(int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        if (WIDE_REGS) dkernel14(kc, pa, ao, pb, bo, c, co, ldc, add);
        else dkernel6(kc, pa, ao, pb, bo, c, co, ldc, add);
    }

    private static void dkernelEdge(int kr, int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        switch (kr) {
            case 2 -> dkernel2(kc, pa, ao, pb, bo, c, co, ldc, add);
            case 4 -> dkernel4(kc, pa, ao, pb, bo, c, co, ldc, add);
            case 6 -> dkernel6(kc, pa, ao, pb, bo, c, co, ldc, add);
            case 8 -> dkernel8(kc, pa, ao, pb, bo, c, co, ldc, add);
            default -> dkernel14(kc, pa, ao, pb, bo, c, co, ldc, add);
        }
    }

    /** Scalar micro-kernel for {@code -Ddistillery.vector.bits=0}. */
    private static void dkernelScalar(int mr, int nr, int kc, double[] pa, int ao, double[] pb, int bo,
                                      double[] c, int co, int ldc, boolean add) {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                int o = co + i * ldc + j;
                double s = add ? c[o] : 0;
                for (int p = 0; p < kc; p++) s = Math.fma(pa[ao + p * DMR + i], pb[bo + p * DNR + j], s);
                c[o] = s;
            }
    }

    // Micro-kernels: mr rows x 2 vectors, every accumulator a local so C2 keeps them in registers (14 rows:
    // 28 accumulators + 2 B vectors + 1 broadcast of the 32 zmm registers). Packed A has stride DMR per k step,
    // packed B stride DNR; the kernelI variants read B in place at koff[k] + s0 / s1 (see dgemmBlockIndirect).
    // When adding, C is loaded into the accumulators up front: edge tiles (run on a copy) then round exactly
    // like full ones, and the methods stay small enough for C1. That matters: when C1 bails out on a method
    // ("out of virtual registers") that already has tier-2 code, HotSpot can leave it at tier 2 for good,
    // about 70x slower, instead of moving on to C2.

    private static void dkernel14(int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc; int r8 = co + 8 * ldc; int r9 = co + 9 * ldc; int r10 = co + 10 * ldc; int r11 = co + 11 * ldc; int r12 = co + 12 * ldc; int r13 = co + 13 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        DoubleVector c40; DoubleVector c41;
        DoubleVector c50; DoubleVector c51;
        DoubleVector c60; DoubleVector c61;
        DoubleVector c70; DoubleVector c71;
        DoubleVector c80; DoubleVector c81;
        DoubleVector c90; DoubleVector c91;
        DoubleVector c100; DoubleVector c101;
        DoubleVector c110; DoubleVector c111;
        DoubleVector c120; DoubleVector c121;
        DoubleVector c130; DoubleVector c131;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
            c40 = DoubleVector.fromArray(DS, c, r4); c41 = DoubleVector.fromArray(DS, c, r4 + 1 * DVL);
            c50 = DoubleVector.fromArray(DS, c, r5); c51 = DoubleVector.fromArray(DS, c, r5 + 1 * DVL);
            c60 = DoubleVector.fromArray(DS, c, r6); c61 = DoubleVector.fromArray(DS, c, r6 + 1 * DVL);
            c70 = DoubleVector.fromArray(DS, c, r7); c71 = DoubleVector.fromArray(DS, c, r7 + 1 * DVL);
            c80 = DoubleVector.fromArray(DS, c, r8); c81 = DoubleVector.fromArray(DS, c, r8 + 1 * DVL);
            c90 = DoubleVector.fromArray(DS, c, r9); c91 = DoubleVector.fromArray(DS, c, r9 + 1 * DVL);
            c100 = DoubleVector.fromArray(DS, c, r10); c101 = DoubleVector.fromArray(DS, c, r10 + 1 * DVL);
            c110 = DoubleVector.fromArray(DS, c, r11); c111 = DoubleVector.fromArray(DS, c, r11 + 1 * DVL);
            c120 = DoubleVector.fromArray(DS, c, r12); c121 = DoubleVector.fromArray(DS, c, r12 + 1 * DVL);
            c130 = DoubleVector.fromArray(DS, c, r13); c131 = DoubleVector.fromArray(DS, c, r13 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
            c40 = DoubleVector.zero(DS); c41 = DoubleVector.zero(DS);
            c50 = DoubleVector.zero(DS); c51 = DoubleVector.zero(DS);
            c60 = DoubleVector.zero(DS); c61 = DoubleVector.zero(DS);
            c70 = DoubleVector.zero(DS); c71 = DoubleVector.zero(DS);
            c80 = DoubleVector.zero(DS); c81 = DoubleVector.zero(DS);
            c90 = DoubleVector.zero(DS); c91 = DoubleVector.zero(DS);
            c100 = DoubleVector.zero(DS); c101 = DoubleVector.zero(DS);
            c110 = DoubleVector.zero(DS); c111 = DoubleVector.zero(DS);
            c120 = DoubleVector.zero(DS); c121 = DoubleVector.zero(DS);
            c130 = DoubleVector.zero(DS); c131 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, bp = bo + p * DNR;
            DoubleVector b0 = DoubleVector.fromArray(DS, pb, bp);
            DoubleVector b1 = DoubleVector.fromArray(DS, pb, bp + 1 * DVL);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(DS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(DS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            DoubleVector a6 = DoubleVector.broadcast(DS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            DoubleVector a7 = DoubleVector.broadcast(DS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
            DoubleVector a8 = DoubleVector.broadcast(DS, pa[ap + 8]);
            c80 = a8.fma(b0, c80); c81 = a8.fma(b1, c81);
            DoubleVector a9 = DoubleVector.broadcast(DS, pa[ap + 9]);
            c90 = a9.fma(b0, c90); c91 = a9.fma(b1, c91);
            DoubleVector a10 = DoubleVector.broadcast(DS, pa[ap + 10]);
            c100 = a10.fma(b0, c100); c101 = a10.fma(b1, c101);
            DoubleVector a11 = DoubleVector.broadcast(DS, pa[ap + 11]);
            c110 = a11.fma(b0, c110); c111 = a11.fma(b1, c111);
            DoubleVector a12 = DoubleVector.broadcast(DS, pa[ap + 12]);
            c120 = a12.fma(b0, c120); c121 = a12.fma(b1, c121);
            DoubleVector a13 = DoubleVector.broadcast(DS, pa[ap + 13]);
            c130 = a13.fma(b0, c130); c131 = a13.fma(b1, c131);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * DVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * DVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * DVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * DVL);
        c80.intoArray(c, r8); c81.intoArray(c, r8 + 1 * DVL);
        c90.intoArray(c, r9); c91.intoArray(c, r9 + 1 * DVL);
        c100.intoArray(c, r10); c101.intoArray(c, r10 + 1 * DVL);
        c110.intoArray(c, r11); c111.intoArray(c, r11 + 1 * DVL);
        c120.intoArray(c, r12); c121.intoArray(c, r12 + 1 * DVL);
        c130.intoArray(c, r13); c131.intoArray(c, r13 + 1 * DVL);
    }

    private static void dkernel8(int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        DoubleVector c40; DoubleVector c41;
        DoubleVector c50; DoubleVector c51;
        DoubleVector c60; DoubleVector c61;
        DoubleVector c70; DoubleVector c71;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
            c40 = DoubleVector.fromArray(DS, c, r4); c41 = DoubleVector.fromArray(DS, c, r4 + 1 * DVL);
            c50 = DoubleVector.fromArray(DS, c, r5); c51 = DoubleVector.fromArray(DS, c, r5 + 1 * DVL);
            c60 = DoubleVector.fromArray(DS, c, r6); c61 = DoubleVector.fromArray(DS, c, r6 + 1 * DVL);
            c70 = DoubleVector.fromArray(DS, c, r7); c71 = DoubleVector.fromArray(DS, c, r7 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
            c40 = DoubleVector.zero(DS); c41 = DoubleVector.zero(DS);
            c50 = DoubleVector.zero(DS); c51 = DoubleVector.zero(DS);
            c60 = DoubleVector.zero(DS); c61 = DoubleVector.zero(DS);
            c70 = DoubleVector.zero(DS); c71 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, bp = bo + p * DNR;
            DoubleVector b0 = DoubleVector.fromArray(DS, pb, bp);
            DoubleVector b1 = DoubleVector.fromArray(DS, pb, bp + 1 * DVL);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(DS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(DS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            DoubleVector a6 = DoubleVector.broadcast(DS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            DoubleVector a7 = DoubleVector.broadcast(DS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * DVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * DVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * DVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * DVL);
    }

    private static void dkernel6(int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        DoubleVector c40; DoubleVector c41;
        DoubleVector c50; DoubleVector c51;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
            c40 = DoubleVector.fromArray(DS, c, r4); c41 = DoubleVector.fromArray(DS, c, r4 + 1 * DVL);
            c50 = DoubleVector.fromArray(DS, c, r5); c51 = DoubleVector.fromArray(DS, c, r5 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
            c40 = DoubleVector.zero(DS); c41 = DoubleVector.zero(DS);
            c50 = DoubleVector.zero(DS); c51 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, bp = bo + p * DNR;
            DoubleVector b0 = DoubleVector.fromArray(DS, pb, bp);
            DoubleVector b1 = DoubleVector.fromArray(DS, pb, bp + 1 * DVL);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(DS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(DS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * DVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * DVL);
    }

    private static void dkernel4(int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, bp = bo + p * DNR;
            DoubleVector b0 = DoubleVector.fromArray(DS, pb, bp);
            DoubleVector b1 = DoubleVector.fromArray(DS, pb, bp + 1 * DVL);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
    }

    private static void dkernel2(int kc, double[] pa, int ao, double[] pb, int bo, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, bp = bo + p * DNR;
            DoubleVector b0 = DoubleVector.fromArray(DS, pb, bp);
            DoubleVector b1 = DoubleVector.fromArray(DS, pb, bp + 1 * DVL);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
    }

    private static void dkernelI14(int kc, double[] pa, int ao, double[] xb, int[] koff, int ko, int s0, int s1, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc; int r8 = co + 8 * ldc; int r9 = co + 9 * ldc; int r10 = co + 10 * ldc; int r11 = co + 11 * ldc; int r12 = co + 12 * ldc; int r13 = co + 13 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        DoubleVector c40; DoubleVector c41;
        DoubleVector c50; DoubleVector c51;
        DoubleVector c60; DoubleVector c61;
        DoubleVector c70; DoubleVector c71;
        DoubleVector c80; DoubleVector c81;
        DoubleVector c90; DoubleVector c91;
        DoubleVector c100; DoubleVector c101;
        DoubleVector c110; DoubleVector c111;
        DoubleVector c120; DoubleVector c121;
        DoubleVector c130; DoubleVector c131;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
            c40 = DoubleVector.fromArray(DS, c, r4); c41 = DoubleVector.fromArray(DS, c, r4 + 1 * DVL);
            c50 = DoubleVector.fromArray(DS, c, r5); c51 = DoubleVector.fromArray(DS, c, r5 + 1 * DVL);
            c60 = DoubleVector.fromArray(DS, c, r6); c61 = DoubleVector.fromArray(DS, c, r6 + 1 * DVL);
            c70 = DoubleVector.fromArray(DS, c, r7); c71 = DoubleVector.fromArray(DS, c, r7 + 1 * DVL);
            c80 = DoubleVector.fromArray(DS, c, r8); c81 = DoubleVector.fromArray(DS, c, r8 + 1 * DVL);
            c90 = DoubleVector.fromArray(DS, c, r9); c91 = DoubleVector.fromArray(DS, c, r9 + 1 * DVL);
            c100 = DoubleVector.fromArray(DS, c, r10); c101 = DoubleVector.fromArray(DS, c, r10 + 1 * DVL);
            c110 = DoubleVector.fromArray(DS, c, r11); c111 = DoubleVector.fromArray(DS, c, r11 + 1 * DVL);
            c120 = DoubleVector.fromArray(DS, c, r12); c121 = DoubleVector.fromArray(DS, c, r12 + 1 * DVL);
            c130 = DoubleVector.fromArray(DS, c, r13); c131 = DoubleVector.fromArray(DS, c, r13 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
            c40 = DoubleVector.zero(DS); c41 = DoubleVector.zero(DS);
            c50 = DoubleVector.zero(DS); c51 = DoubleVector.zero(DS);
            c60 = DoubleVector.zero(DS); c61 = DoubleVector.zero(DS);
            c70 = DoubleVector.zero(DS); c71 = DoubleVector.zero(DS);
            c80 = DoubleVector.zero(DS); c81 = DoubleVector.zero(DS);
            c90 = DoubleVector.zero(DS); c91 = DoubleVector.zero(DS);
            c100 = DoubleVector.zero(DS); c101 = DoubleVector.zero(DS);
            c110 = DoubleVector.zero(DS); c111 = DoubleVector.zero(DS);
            c120 = DoubleVector.zero(DS); c121 = DoubleVector.zero(DS);
            c130 = DoubleVector.zero(DS); c131 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, o = koff[ko + p];
            DoubleVector b0 = DoubleVector.fromArray(DS, xb, o + s0);
            DoubleVector b1 = DoubleVector.fromArray(DS, xb, o + s1);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(DS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(DS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            DoubleVector a6 = DoubleVector.broadcast(DS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            DoubleVector a7 = DoubleVector.broadcast(DS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
            DoubleVector a8 = DoubleVector.broadcast(DS, pa[ap + 8]);
            c80 = a8.fma(b0, c80); c81 = a8.fma(b1, c81);
            DoubleVector a9 = DoubleVector.broadcast(DS, pa[ap + 9]);
            c90 = a9.fma(b0, c90); c91 = a9.fma(b1, c91);
            DoubleVector a10 = DoubleVector.broadcast(DS, pa[ap + 10]);
            c100 = a10.fma(b0, c100); c101 = a10.fma(b1, c101);
            DoubleVector a11 = DoubleVector.broadcast(DS, pa[ap + 11]);
            c110 = a11.fma(b0, c110); c111 = a11.fma(b1, c111);
            DoubleVector a12 = DoubleVector.broadcast(DS, pa[ap + 12]);
            c120 = a12.fma(b0, c120); c121 = a12.fma(b1, c121);
            DoubleVector a13 = DoubleVector.broadcast(DS, pa[ap + 13]);
            c130 = a13.fma(b0, c130); c131 = a13.fma(b1, c131);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * DVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * DVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * DVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * DVL);
        c80.intoArray(c, r8); c81.intoArray(c, r8 + 1 * DVL);
        c90.intoArray(c, r9); c91.intoArray(c, r9 + 1 * DVL);
        c100.intoArray(c, r10); c101.intoArray(c, r10 + 1 * DVL);
        c110.intoArray(c, r11); c111.intoArray(c, r11 + 1 * DVL);
        c120.intoArray(c, r12); c121.intoArray(c, r12 + 1 * DVL);
        c130.intoArray(c, r13); c131.intoArray(c, r13 + 1 * DVL);
    }

    private static void dkernelI8(int kc, double[] pa, int ao, double[] xb, int[] koff, int ko, int s0, int s1, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc; int r6 = co + 6 * ldc; int r7 = co + 7 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        DoubleVector c40; DoubleVector c41;
        DoubleVector c50; DoubleVector c51;
        DoubleVector c60; DoubleVector c61;
        DoubleVector c70; DoubleVector c71;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
            c40 = DoubleVector.fromArray(DS, c, r4); c41 = DoubleVector.fromArray(DS, c, r4 + 1 * DVL);
            c50 = DoubleVector.fromArray(DS, c, r5); c51 = DoubleVector.fromArray(DS, c, r5 + 1 * DVL);
            c60 = DoubleVector.fromArray(DS, c, r6); c61 = DoubleVector.fromArray(DS, c, r6 + 1 * DVL);
            c70 = DoubleVector.fromArray(DS, c, r7); c71 = DoubleVector.fromArray(DS, c, r7 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
            c40 = DoubleVector.zero(DS); c41 = DoubleVector.zero(DS);
            c50 = DoubleVector.zero(DS); c51 = DoubleVector.zero(DS);
            c60 = DoubleVector.zero(DS); c61 = DoubleVector.zero(DS);
            c70 = DoubleVector.zero(DS); c71 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, o = koff[ko + p];
            DoubleVector b0 = DoubleVector.fromArray(DS, xb, o + s0);
            DoubleVector b1 = DoubleVector.fromArray(DS, xb, o + s1);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(DS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(DS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            DoubleVector a6 = DoubleVector.broadcast(DS, pa[ap + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            DoubleVector a7 = DoubleVector.broadcast(DS, pa[ap + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * DVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * DVL);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + 1 * DVL);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + 1 * DVL);
    }

    private static void dkernelI6(int kc, double[] pa, int ao, double[] xb, int[] koff, int ko, int s0, int s1, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc; int r4 = co + 4 * ldc; int r5 = co + 5 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        DoubleVector c40; DoubleVector c41;
        DoubleVector c50; DoubleVector c51;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
            c40 = DoubleVector.fromArray(DS, c, r4); c41 = DoubleVector.fromArray(DS, c, r4 + 1 * DVL);
            c50 = DoubleVector.fromArray(DS, c, r5); c51 = DoubleVector.fromArray(DS, c, r5 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
            c40 = DoubleVector.zero(DS); c41 = DoubleVector.zero(DS);
            c50 = DoubleVector.zero(DS); c51 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, o = koff[ko + p];
            DoubleVector b0 = DoubleVector.fromArray(DS, xb, o + s0);
            DoubleVector b1 = DoubleVector.fromArray(DS, xb, o + s1);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(DS, pa[ap + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(DS, pa[ap + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + 1 * DVL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + 1 * DVL);
    }

    private static void dkernelI4(int kc, double[] pa, int ao, double[] xb, int[] koff, int ko, int s0, int s1, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc; int r2 = co + 2 * ldc; int r3 = co + 3 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        DoubleVector c20; DoubleVector c21;
        DoubleVector c30; DoubleVector c31;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
            c20 = DoubleVector.fromArray(DS, c, r2); c21 = DoubleVector.fromArray(DS, c, r2 + 1 * DVL);
            c30 = DoubleVector.fromArray(DS, c, r3); c31 = DoubleVector.fromArray(DS, c, r3 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
            c20 = DoubleVector.zero(DS); c21 = DoubleVector.zero(DS);
            c30 = DoubleVector.zero(DS); c31 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, o = koff[ko + p];
            DoubleVector b0 = DoubleVector.fromArray(DS, xb, o + s0);
            DoubleVector b1 = DoubleVector.fromArray(DS, xb, o + s1);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(DS, pa[ap + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(DS, pa[ap + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + 1 * DVL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + 1 * DVL);
    }

    private static void dkernelI2(int kc, double[] pa, int ao, double[] xb, int[] koff, int ko, int s0, int s1, double[] c, int co, int ldc, boolean add) {
        int r0 = co; int r1 = co + 1 * ldc;
        DoubleVector c00; DoubleVector c01;
        DoubleVector c10; DoubleVector c11;
        if (add) {
            c00 = DoubleVector.fromArray(DS, c, r0); c01 = DoubleVector.fromArray(DS, c, r0 + 1 * DVL);
            c10 = DoubleVector.fromArray(DS, c, r1); c11 = DoubleVector.fromArray(DS, c, r1 + 1 * DVL);
        } else {
            c00 = DoubleVector.zero(DS); c01 = DoubleVector.zero(DS);
            c10 = DoubleVector.zero(DS); c11 = DoubleVector.zero(DS);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * DMR, o = koff[ko + p];
            DoubleVector b0 = DoubleVector.fromArray(DS, xb, o + s0);
            DoubleVector b1 = DoubleVector.fromArray(DS, xb, o + s1);
            DoubleVector a0 = DoubleVector.broadcast(DS, pa[ap + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(DS, pa[ap + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + 1 * DVL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + 1 * DVL);
    }

}
