package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.HalfFloats;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.ReferenceBackend;

/**
 * Strided copies with dtype conversion ({@code contiguous()}, {@code to(dtype)}, {@code copyFrom}, concat).
 *
 * <p>Same-dtype unit-stride runs are {@link System#arraycopy}; a transpose or permute (the innermost dim is
 * unit-stride in one operand but not in the other) is copied in square tiles so both sides stay in cache; a
 * broadcast source (stride 0) fills. Conversions follow the reference exactly: values pass through double, so
 * F64 -> F16 rounds to float first, I64 -> F32 rounds to double first, anything -> BOOL is {@code v != 0}.
 */
final class Copy {
    private Copy() {}

    private static final int GRAIN = 1 << 15;
    private static final int TILE = 32;

    static void copyInto(Tensor src, Tensor dst) {
        int n = dst.numel();
        if (n == 0) return;
        Object s = StridedIter.array(src.storage()), d = StridedIter.array(dst.storage());
        if (s == null || d == null || selfOverlapping(dst)) {
            ReferenceBackend.INSTANCE.copyInto(src, dst);
            return;
        }
        DType sd = src.dtype(), dd = dst.dtype();
        StridedIter it = StridedIter.of(dst, src);
        int last = it.rank - 1;
        int dIn = it.strides[0][last], sIn = it.strides[1][last];
        boolean same = sd == dd && sd != DType.BOOL; // BOOL goes through the normalising converter
        if (same && dIn == 1 && sIn == 1) {
            if (it.rank == 1) {
                int doff = dst.offset(), soff = src.offset();
                Parallel.forRange(n, 1 << 18, (a, b) -> System.arraycopy(s, soff + a, d, doff + a, b - a));
            } else if (s instanceof float[] sf) { // typed, so C2 inlines the copy (short runs are common: pads, concats)
                float[] df = (float[]) d;
                it.parallelRuns(GRAIN, (offs, len) -> System.arraycopy(sf, offs[1], df, offs[0], len));
            } else if (s instanceof double[] sd64) {
                double[] dd64 = (double[]) d;
                it.parallelRuns(GRAIN, (offs, len) -> System.arraycopy(sd64, offs[1], dd64, offs[0], len));
            } else {
                it.parallelRuns(GRAIN, (offs, len) -> System.arraycopy(s, offs[1], d, offs[0], len));
            }
            return;
        }
        // Transpose-like: dst unit-stride innermost, src unit-stride along another dim (or the other way round).
        if (it.rank >= 2 && sIn != 0 && it.sizes[last] >= 4) {
            int j = -1;
            int want = dIn == 1 && sIn != 1 ? 1 : (sIn == 1 && dIn != 1 ? 0 : -1); // operand whose unit dim we look for
            if (want >= 0)
                for (int k = 0; k < last; k++)
                    if (it.strides[want][k] == 1 && it.sizes[k] >= 4) j = k;
            if (j >= 0) {
                tiled(it, j, s, sd, d, dd);
                return;
            }
        }
        it.parallelRuns(GRAIN, (offs, len) -> run(s, sd, offs[1], sIn, d, dd, offs[0], dIn, len));
    }

    /** True if two logical positions of t share a storage element (a stride-0 dim of size > 1). */
    private static boolean selfOverlapping(Tensor t) {
        int[] sh = t.shape(), st = t.strides();
        for (int i = 0; i < sh.length; i++) if (sh[i] > 1 && st[i] == 0) return true;
        return false;
    }

    /**
     * Tiled copy for layouts where the innermost coalesced dim L is unit-stride in one operand and dim J is
     * unit-stride in the other: each TILE x TILE block is copied as TILE runs along L.
     */
    private static void tiled(StridedIter it, int j, Object s, DType sd, Object d, DType dd) {
        int last = it.rank - 1;
        int nL = it.sizes[last], nJ = it.sizes[j];
        int dL = it.strides[0][last], sL = it.strides[1][last], dJ = it.strides[0][j], sJ = it.strides[1][j];
        // Outer dims: every dim except j and last.
        int outerRank = it.rank - 2;
        int[] osz = new int[outerRank], ods = new int[outerRank], oss = new int[outerRank];
        for (int k = 0, q = 0; k < last; k++)
            if (k != j) {
                osz[q] = it.sizes[k];
                ods[q] = it.strides[0][k];
                oss[q++] = it.strides[1][k];
            }
        int outer = it.numel / (nL * nJ);
        int tilesJ = (nJ + TILE - 1) / TILE;
        int items = outer * tilesJ;
        int d0 = it.offsets[0], s0 = it.offsets[1];
        Parallel.forRange(items, Math.max(1, GRAIN / (TILE * nL)), (a, b) -> {
            for (int item = a; item < b; item++) {
                int o = item / tilesJ, tj = item % tilesJ;
                int dBase = d0, sBase = s0, rem = o;
                for (int q = outerRank - 1; q >= 0; q--) {
                    int c = rem % osz[q];
                    rem /= osz[q];
                    dBase += c * ods[q];
                    sBase += c * oss[q];
                }
                int j0 = tj * TILE, j1 = Math.min(nJ, j0 + TILE);
                for (int l0 = 0; l0 < nL; l0 += TILE) {
                    int len = Math.min(TILE, nL - l0);
                    for (int jj = j0; jj < j1; jj++)
                        run(s, sd, sBase + jj * sJ + l0 * sL, sL, d, dd, dBase + jj * dJ + l0 * dL, dL, len);
                }
            }
        });
    }

    /** Copies {@code len} elements from {@code s[so + i*ss]} to {@code d[do + i*ds]}, converting the dtype. */
    static void run(Object s, DType sd, int so, int ss, Object d, DType dd, int dOff, int ds, int len) {
        if (sd == dd && sd != DType.BOOL) {
            switch (s) {
                case float[] a -> copyF(a, so, ss, (float[]) d, dOff, ds, len);
                case double[] a -> copyD(a, so, ss, (double[]) d, dOff, ds, len);
                case long[] a -> copyL(a, so, ss, (long[]) d, dOff, ds, len);
                case short[] a -> copyS(a, so, ss, (short[]) d, dOff, ds, len);
                default -> generic(s, sd, so, ss, d, dd, dOff, ds, len);
            }
            return;
        }
        if (sd == DType.F32 && dd == DType.F64) {
            float[] a = (float[]) s;
            double[] b = (double[]) d;
            if (ss == 1 && ds == 1) for (int i = 0; i < len; i++) b[dOff + i] = a[so + i];
            else for (int i = 0; i < len; i++) b[dOff + i * ds] = a[so + i * ss];
        } else if (sd == DType.F64 && dd == DType.F32) {
            double[] a = (double[]) s;
            float[] b = (float[]) d;
            if (ss == 1 && ds == 1) for (int i = 0; i < len; i++) b[dOff + i] = (float) a[so + i];
            else for (int i = 0; i < len; i++) b[dOff + i * ds] = (float) a[so + i * ss];
        } else if (sd == DType.F16 && dd == DType.F32) {
            short[] a = (short[]) s;
            float[] b = (float[]) d;
            if (ss == 1 && ds == 1) for (int i = 0; i < len; i++) b[dOff + i] = Float.float16ToFloat(a[so + i]);
            else for (int i = 0; i < len; i++) b[dOff + i * ds] = Float.float16ToFloat(a[so + i * ss]);
        } else if (sd == DType.BF16 && dd == DType.F32) {
            short[] a = (short[]) s;
            float[] b = (float[]) d;
            if (ss == 1 && ds == 1) for (int i = 0; i < len; i++) b[dOff + i] = Float.intBitsToFloat(a[so + i] << 16);
            else for (int i = 0; i < len; i++) b[dOff + i * ds] = Float.intBitsToFloat(a[so + i * ss] << 16);
        } else if (sd == DType.F32 && dd == DType.F16) {
            float[] a = (float[]) s;
            short[] b = (short[]) d;
            if (ss == 1 && ds == 1) for (int i = 0; i < len; i++) b[dOff + i] = Float.floatToFloat16(a[so + i]);
            else for (int i = 0; i < len; i++) b[dOff + i * ds] = Float.floatToFloat16(a[so + i * ss]);
        } else if (sd == DType.F32 && dd == DType.BF16) {
            float[] a = (float[]) s;
            short[] b = (short[]) d;
            if (ss == 1 && ds == 1) for (int i = 0; i < len; i++) b[dOff + i] = toBf16(a[so + i]);
            else for (int i = 0; i < len; i++) b[dOff + i * ds] = toBf16(a[so + i * ss]);
        } else {
            generic(s, sd, so, ss, d, dd, dOff, ds, len);
        }
    }

    /** {@link HalfFloats#floatToBf16} without the branch (round to nearest even; NaN gets its quiet bit). */
    private static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
        int nan = (bits >>> 16) | 0x40;
        return (short) (f != f ? nan : rounded);
    }

    private static void copyF(float[] a, int so, int ss, float[] b, int dOff, int ds, int len) {
        if (ss == 1 && ds == 1) System.arraycopy(a, so, b, dOff, len);
        else if (ss == 0 && ds == 1) java.util.Arrays.fill(b, dOff, dOff + len, a[so]);
        else for (int i = 0; i < len; i++) b[dOff + i * ds] = a[so + i * ss];
    }

    private static void copyD(double[] a, int so, int ss, double[] b, int dOff, int ds, int len) {
        if (ss == 1 && ds == 1) System.arraycopy(a, so, b, dOff, len);
        else if (ss == 0 && ds == 1) java.util.Arrays.fill(b, dOff, dOff + len, a[so]);
        else for (int i = 0; i < len; i++) b[dOff + i * ds] = a[so + i * ss];
    }

    private static void copyL(long[] a, int so, int ss, long[] b, int dOff, int ds, int len) {
        if (ss == 1 && ds == 1) System.arraycopy(a, so, b, dOff, len);
        else for (int i = 0; i < len; i++) b[dOff + i * ds] = a[so + i * ss];
    }

    private static void copyS(short[] a, int so, int ss, short[] b, int dOff, int ds, int len) {
        if (ss == 1 && ds == 1) System.arraycopy(a, so, b, dOff, len);
        else for (int i = 0; i < len; i++) b[dOff + i * ds] = a[so + i * ss];
    }

    /** Element by element through double, exactly as the reference converts. */
    private static void generic(Object s, DType sd, int so, int ss, Object d, DType dd, int dOff, int ds, int len) {
        for (int i = 0; i < len; i++) write(d, dd, dOff + i * ds, read(s, sd, so + i * ss));
    }

    static double read(Object a, DType t, int i) {
        return switch (t) {
            case F32 -> ((float[]) a)[i];
            case F64 -> ((double[]) a)[i];
            case I64 -> ((long[]) a)[i];
            case BOOL -> ((byte[]) a)[i] != 0 ? 1 : 0;
            case F16 -> Float.float16ToFloat(((short[]) a)[i]);
            case BF16 -> HalfFloats.bf16ToFloat(((short[]) a)[i]);
        };
    }

    static void write(Object a, DType t, int i, double v) {
        switch (t) {
            case F32 -> ((float[]) a)[i] = (float) v;
            case F64 -> ((double[]) a)[i] = v;
            case I64 -> ((long[]) a)[i] = (long) v;
            case BOOL -> ((byte[]) a)[i] = (byte) (v != 0 ? 1 : 0);
            case F16 -> ((short[]) a)[i] = Float.floatToFloat16((float) v);
            case BF16 -> ((short[]) a)[i] = HalfFloats.floatToBf16((float) v);
        }
    }

    /** A contiguous tensor of {@code t}'s values in {@code dtype}: t itself when already so, else a copy. */
    static Tensor contiguous(Tensor t) {
        if (t.isContiguous()) return t;
        Tensor out = Tensor.of(Storage.allocateUninitialized(t.dtype(), t.numel()), t.shape());
        copyInto(t, out);
        return out;
    }
}
