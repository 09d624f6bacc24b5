package dev.distillery.tensor.backend;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.MathFunctions;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;

import java.util.List;

/**
 * The oracle: every op as plain scalar loops over logical indices, computing in double and rounding once to the
 * output dtype. Slow on purpose; every fast kernel is tested against it. Nothing here may be clever.
 */
public final class ReferenceBackend implements Backend {
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {}

    @Override public String name() { return "reference"; }

    @Override public Device device() { return Device.CPU; }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        return Tensor.of(Storage.allocate(dtype, Shapes.numel(shape)), shape);
    }

    private static double get(Tensor t, int linear) {
        return t.storage().getDouble(t.storageIndex(linear));
    }

    private static void set(Tensor t, int linear, double v) {
        t.storage().setDouble(t.storageIndex(linear), v);
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        int n = src.numel();
        if (src.dtype() == DType.I64 && dst.dtype() == DType.I64) {
            long[] s = ((Storage.LongStorage) src.storage()).data(), d = ((Storage.LongStorage) dst.storage()).data();
            for (int i = 0; i < n; i++) d[dst.storageIndex(i)] = s[src.storageIndex(i)];
            return;
        }
        for (int i = 0; i < n; i++) set(dst, i, get(src, i));
    }

    /** The scalar definition of each unary op, shared with the fast backend's scalar tails. */
    public static double unary(UnaryOp op, double x, double p0, double p1) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SILU -> x / (1 + Math.exp(-x));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
            case GELU_ERF -> 0.5 * x * (1 + MathFunctions.erf(x * 0.7071067811865476));
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0);
            case SQUARE -> x * x;
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case RECIPROCAL -> 1 / x;
            case SIGN -> Double.isNaN(x) ? x : Math.signum(x);
            case ADD_SCALAR -> x + p0;
            case MUL_SCALAR -> x * p0;
            case POW_SCALAR -> Math.pow(x, p0);
            case RSUB_SCALAR -> p0 - x;
            case CLAMP -> Double.isNaN(x) ? x : Math.min(Math.max(x, p0), p1);
            case LEAKY_RELU -> x > 0 ? x : x * p0;
        };
    }

    /** The derivative of each unary op at {@code x} (PyTorch's conventions at kinks: relu'(0) = 0, |x|'(0) = 0). */
    public static double unaryDerivative(UnaryOp op, double x, double p0, double p1) {
        return switch (op) {
            case NEG -> -1;
            case EXP -> Math.exp(x);
            case LOG -> 1 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case ABS -> Math.signum(x);
            case TANH -> {
                double t = Math.tanh(x);
                yield 1 - t * t;
            }
            case SIGMOID -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 - s);
            }
            case SILU -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 + x * (1 - s));
            }
            case GELU_TANH -> {
                double k = 0.7978845608028654, c = 0.044715;
                double t = Math.tanh(k * (x + c * x * x * x));
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x);
            }
            case GELU_ERF -> 0.5 * (1 + MathFunctions.erf(x * 0.7071067811865476)) + x * MathFunctions.normalPdf(x);
            case RELU -> x > 0 ? 1 : 0;
            case SQUARE -> 2 * x;
            case SIN -> Math.cos(x);
            case COS -> -Math.sin(x);
            case RECIPROCAL -> -1 / (x * x);
            case SIGN -> 0;
            case ADD_SCALAR -> 1;
            case MUL_SCALAR -> p0;
            case POW_SCALAR -> p0 == 0 ? 0 : p0 * Math.pow(x, p0 - 1);
            case RSUB_SCALAR -> -1;
            case CLAMP -> x >= p0 && x <= p1 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : p0;
        };
    }

    /** The scalar definition of each binary op. */
    public static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAXIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MINIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
        };
    }

    /** The scalar definition of each comparison. */
    public static boolean compare(CompareOp op, double a, double b) {
        return switch (op) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
        };
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        Tensor out = zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) set(out, i, unary(op, get(x, i), p0, p1));
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = zeros(a.dtype(), a.shape());
        for (int i = 0; i < a.numel(); i++) set(out, i, binary(op, get(a, i), get(b, i)));
        return out;
    }

    @Override
    public Tensor compare(CompareOp op, Tensor a, Tensor b) {
        Tensor out = zeros(DType.BOOL, a.shape());
        for (int i = 0; i < a.numel(); i++) set(out, i, compare(op, get(a, i), get(b, i)) ? 1 : 0);
        return out;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor out = zeros(a.dtype(), a.shape());
        for (int i = 0; i < a.numel(); i++) set(out, i, get(cond, i) != 0 ? get(a, i) : get(b, i));
        return out;
    }

    /** Output shape of a reduction. */
    public static int[] reducedShape(int[] shape, int[] dims, boolean keepDim) {
        boolean[] red = new boolean[shape.length];
        for (int d : dims) red[d] = true;
        int[] out = new int[keepDim ? shape.length : shape.length - dims.length];
        for (int i = 0, k = 0; i < shape.length; i++) {
            if (!red[i]) out[k++] = shape[i];
            else if (keepDim) out[k++] = 1;
        }
        return out;
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, double correction) {
        int[] shape = x.shape();
        boolean[] red = new boolean[shape.length];
        for (int d : dims) red[d] = true;
        int keptN = 1, redN = 1;
        for (int i = 0; i < shape.length; i++) if (red[i]) redN *= shape[i]; else keptN *= shape[i];
        boolean arg = op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN;
        Tensor out = zeros(arg ? DType.I64 : x.dtype(), reducedShape(shape, dims, keepDim));
        double[] vals = new double[redN];
        int[] coord = new int[shape.length];
        for (int o = 0; o < keptN; o++) {
            // Kept coordinates from o (row-major over kept dims), reduced ones from r.
            int rem = o;
            for (int d = shape.length - 1; d >= 0; d--) if (!red[d]) { coord[d] = rem % shape[d]; rem /= shape[d]; }
            for (int r = 0; r < redN; r++) {
                int rr = r;
                for (int d = shape.length - 1; d >= 0; d--) if (red[d]) { coord[d] = rr % shape[d]; rr /= shape[d]; }
                int idx = x.offset();
                for (int d = 0; d < shape.length; d++) idx += coord[d] * x.strides()[d];
                vals[r] = x.storage().getDouble(idx);
            }
            out.storage().setDouble(o, reduceValues(op, vals, correction));
        }
        return out;
    }

    /** The scalar definition of each reduction over a list of values. */
    public static double reduceValues(ReduceOp op, double[] v, double correction) {
        int n = v.length;
        switch (op) {
            case SUM, MEAN -> {
                double s = 0;
                for (double d : v) s += d;
                return op == ReduceOp.SUM ? s : s / n;
            }
            case MAX, MIN, ARGMAX, ARGMIN -> {
                boolean max = op == ReduceOp.MAX || op == ReduceOp.ARGMAX;
                double best = v[0];
                int at = 0;
                for (int i = 1; i < n && !Double.isNaN(best); i++) {
                    if (Double.isNaN(v[i]) || (max ? v[i] > best : v[i] < best)) { best = v[i]; at = i; }
                }
                return op == ReduceOp.MAX || op == ReduceOp.MIN ? best : at;
            }
            case VAR -> {
                double m = 0;
                for (double d : v) m += d;
                m /= n;
                double s = 0;
                for (double d : v) s += (d - m) * (d - m);
                return s / Math.max(0, n - correction);
            }
            case LOGSUMEXP -> {
                double m = Double.NEGATIVE_INFINITY;
                for (double d : v) m = Math.max(m, d);
                if (Double.isInfinite(m)) return m;
                double s = 0;
                for (double d : v) s += Math.exp(d - m);
                return m + Math.log(s);
            }
        }
        throw new AssertionError(op);
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        int bs = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
        Tensor out = zeros(a.dtype(), bs, m, n);
        for (int z = 0; z < bs; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a.get(z, i, p) * b.get(z, p, j);
                    out.storage().setDouble((z * m + i) * n + j, s);
                }
        return out;
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, Conv2dParams p) {
        int n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
        int o = w.size(0), cg = w.size(1), kh = w.size(2), kw = w.size(3), g = p.groups(), og = o / g;
        int oh = Conv2dParams.convOut(h, kh, p.strideH(), p.padH(), p.dilationH());
        int ow = Conv2dParams.convOut(wd, kw, p.strideW(), p.padW(), p.dilationW());
        Tensor out = zeros(x.dtype(), n, o, oh, ow);
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++) {
                        double s = bias == null ? 0 : bias.get(oc);
                        int grp = oc / og;
                        for (int ic = 0; ic < cg; ic++)
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++) {
                                    int iy = y * p.strideH() - p.padH() + i * p.dilationH();
                                    int ix = xx * p.strideW() - p.padW() + j * p.dilationW();
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    s += x.get(b, grp * cg + ic, iy, ix) * w.get(oc, ic, i, j);
                                }
                        out.storage().setDouble(((b * o + oc) * oh + y) * ow + xx, s);
                    }
        return out;
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor gy, Tensor w, int[] inputShape, Conv2dParams p) {
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], wd = inputShape[3];
        int o = w.size(0), cg = w.size(1), kh = w.size(2), kw = w.size(3), g = p.groups(), og = o / g;
        int oh = gy.size(2), ow = gy.size(3);
        // conv_transpose2d passes its weight [C_in_of_transpose, O/g, kh, kw]: here that is [o, cg, kh, kw] with
        // o = channels of gy and cg*g = channels of the result, exactly conv2d's weight layout.
        double[] acc = new double[n * c * h * wd];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++) {
                        double gv = gy.get(b, oc, y, xx);
                        int grp = oc / og;
                        for (int ic = 0; ic < cg; ic++)
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++) {
                                    int iy = y * p.strideH() - p.padH() + i * p.dilationH();
                                    int ix = xx * p.strideW() - p.padW() + j * p.dilationW();
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    acc[((b * c + grp * cg + ic) * h + iy) * wd + ix] += gv * w.get(oc, ic, i, j);
                                }
                    }
        Tensor out = zeros(gy.dtype(), inputShape);
        for (int i = 0; i < acc.length; i++) out.storage().setDouble(i, acc[i]);
        return out;
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor gy, Tensor x, int[] weightShape, Conv2dParams p) {
        int n = x.size(0), h = x.size(2), wd = x.size(3);
        int o = weightShape[0], cg = weightShape[1], kh = weightShape[2], kw = weightShape[3], og = o / p.groups();
        int oh = gy.size(2), ow = gy.size(3);
        Tensor out = zeros(gy.dtype(), weightShape);
        for (int oc = 0; oc < o; oc++)
            for (int ic = 0; ic < cg; ic++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) {
                        double s = 0;
                        int grp = oc / og;
                        for (int b = 0; b < n; b++)
                            for (int y = 0; y < oh; y++)
                                for (int xx = 0; xx < ow; xx++) {
                                    int iy = y * p.strideH() - p.padH() + i * p.dilationH();
                                    int ix = xx * p.strideW() - p.padW() + j * p.dilationW();
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    s += gy.get(b, oc, y, xx) * x.get(b, grp * cg + ic, iy, ix);
                                }
                        out.storage().setDouble(((oc * cg + ic) * kh + i) * kw + j, s);
                    }
        return out;
    }

    @Override
    public Tensor avgPool2d(Tensor x, Pool2dParams p) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), oh = p.outH(h), ow = p.outW(w);
        Tensor out = zeros(x.dtype(), n, c, oh, ow);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++) {
                        double s = 0;
                        for (int i = 0; i < p.kernelH(); i++)
                            for (int j = 0; j < p.kernelW(); j++) {
                                int iy = y * p.strideH() - p.padH() + i, ix = xx * p.strideW() - p.padW() + j;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) s += x.get(b, ch, iy, ix);
                            }
                        out.storage().setDouble(((b * c + ch) * oh + y) * ow + xx, s / (p.kernelH() * p.kernelW()));
                    }
        return out;
    }

    @Override
    public ValuesIndices maxPool2d(Tensor x, Pool2dParams p) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), oh = p.outH(h), ow = p.outW(w);
        Tensor out = zeros(x.dtype(), n, c, oh, ow), idx = zeros(DType.I64, n, c, oh, ow);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++) {
                        double best = Double.NEGATIVE_INFINITY;
                        int at = -1;
                        for (int i = 0; i < p.kernelH(); i++)
                            for (int j = 0; j < p.kernelW(); j++) {
                                int iy = y * p.strideH() - p.padH() + i, ix = xx * p.strideW() - p.padW() + j;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                double v = x.get(b, ch, iy, ix);
                                if (at < 0 || v > best || Double.isNaN(v) && !Double.isNaN(best)) { best = v; at = iy * w + ix; }
                            }
                        int o = ((b * c + ch) * oh + y) * ow + xx;
                        out.storage().setDouble(o, best);
                        idx.storage().setDouble(o, at);
                    }
        return new ValuesIndices(out, idx);
    }

    /** Source index of PyTorch's 'nearest' mode (float arithmetic, as PyTorch computes it). */
    public static int nearestSource(int dst, int in, int out) {
        if (in == out) return dst;
        float scale = (float) in / out;
        return Math.min((int) Math.floor(dst * scale), in - 1);
    }

    /** Fractional source coordinate of bilinear resizing (PyTorch's area_pixel_compute_source_index). */
    public static double bilinearSource(int dst, int in, int out, boolean alignCorners) {
        if (alignCorners) return out > 1 ? dst * (double) (in - 1) / (out - 1) : 0;
        double s = (dst + 0.5) * ((double) in / out) - 0.5;
        return Math.max(s, 0);
    }

    @Override
    public Tensor upsample2d(Tensor x, int outH, int outW, boolean bilinear, boolean alignCorners) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        Tensor out = zeros(x.dtype(), n, c, outH, outW);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < outH; y++)
                    for (int xx = 0; xx < outW; xx++) {
                        double v;
                        if (!bilinear) {
                            v = x.get(b, ch, nearestSource(y, h, outH), nearestSource(xx, w, outW));
                        } else {
                            double sy = bilinearSource(y, h, outH, alignCorners), sx = bilinearSource(xx, w, outW, alignCorners);
                            int y0 = (int) sy, x0 = (int) sx, y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
                            double ly = sy - y0, lx = sx - x0;
                            v = (1 - ly) * ((1 - lx) * x.get(b, ch, y0, x0) + lx * x.get(b, ch, y0, x1))
                                    + ly * ((1 - lx) * x.get(b, ch, y1, x0) + lx * x.get(b, ch, y1, x1));
                        }
                        out.storage().setDouble(((b * c + ch) * outH + y) * outW + xx, v);
                    }
        return out;
    }

    /** Iterates the 1-D lines of {@code shape} along {@code dim}: calls body(start storage index) per line. */
    private static void forEachLine(Tensor x, int dim, java.util.function.IntConsumer body) {
        int[] shape = x.shape(), st = x.strides();
        int lines = x.numel() / Math.max(1, shape[dim]);
        if (shape[dim] == 0) return;
        int[] coord = new int[shape.length];
        for (int l = 0; l < lines; l++) {
            int rem = l, idx = x.offset();
            for (int d = shape.length - 1; d >= 0; d--) {
                if (d == dim) continue;
                coord[d] = rem % shape[d];
                rem /= shape[d];
                idx += coord[d] * st[d];
            }
            body.accept(idx);
        }
    }

    @Override
    public Tensor softmax(Tensor x, int dim, boolean log) {
        Tensor xc = x.contiguous();
        Tensor out = zeros(x.dtype(), x.shape());
        int len = x.size(dim), stride = xc.stride(dim);
        forEachLine(xc, dim, start -> {
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < len; i++) m = Math.max(m, xc.storage().getDouble(start + i * stride));
            double s = 0;
            for (int i = 0; i < len; i++) s += Math.exp(xc.storage().getDouble(start + i * stride) - m);
            for (int i = 0; i < len; i++) {
                double v = xc.storage().getDouble(start + i * stride) - m;
                // out is contiguous with xc's layout, so the same storage index addresses it.
                out.storage().setDouble(start - xc.offset() + i * stride, log ? v - Math.log(s) : Math.exp(v) / s);
            }
        });
        return out;
    }

    @Override
    public Tensor softmaxBackward(Tensor output, Tensor gradOut, int dim, boolean log) {
        Tensor y = output.contiguous(), g = gradOut.contiguous();
        Tensor out = zeros(output.dtype(), output.shape());
        int len = y.size(dim), stride = y.stride(dim);
        forEachLine(y, dim, start -> {
            int base = start - y.offset();
            double s = 0;
            for (int i = 0; i < len; i++) {
                double gi = g.storage().getDouble(g.offset() + base + i * stride);
                s += log ? gi : gi * y.storage().getDouble(start + i * stride);
            }
            for (int i = 0; i < len; i++) {
                double yi = y.storage().getDouble(start + i * stride), gi = g.storage().getDouble(g.offset() + base + i * stride);
                out.storage().setDouble(base + i * stride, log ? gi - Math.exp(yi) * s : yi * (gi - s));
            }
        });
        return out;
    }

    @Override
    public NormResult layerNorm(Tensor x, Tensor weight, Tensor bias, int normSize, double eps) {
        Tensor xc = x.contiguous();
        int rows = x.numel() / Math.max(1, normSize);
        double[] xs = xc.toDoubleArray();
        Tensor out = zeros(x.dtype(), x.shape()), mean = zeros(x.dtype(), rows), rstd = zeros(x.dtype(), rows);
        double[] w = weight == null ? null : weight.toDoubleArray(), b = bias == null ? null : bias.toDoubleArray();
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int i = 0; i < normSize; i++) m += xs[r * normSize + i];
            m /= normSize;
            for (int i = 0; i < normSize; i++) v += (xs[r * normSize + i] - m) * (xs[r * normSize + i] - m);
            double rs = 1 / Math.sqrt(v / normSize + eps);
            for (int i = 0; i < normSize; i++) {
                double y = (xs[r * normSize + i] - m) * rs;
                if (w != null) y *= w[i];
                if (b != null) y += b[i];
                out.storage().setDouble(r * normSize + i, y);
            }
            mean.storage().setDouble(r, m);
            rstd.storage().setDouble(r, rs);
        }
        return new NormResult(out, mean, rstd);
    }

    @Override
    public NormResult groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps, boolean silu) {
        int n = x.size(0), c = x.size(1), spatial = x.numel() / Math.max(1, n * c), cpg = c / groups, len = cpg * spatial;
        double[] xs = x.contiguous().toDoubleArray();
        double[] w = weight == null ? null : weight.toDoubleArray(), b = bias == null ? null : bias.toDoubleArray();
        Tensor out = zeros(x.dtype(), x.shape()), mean = zeros(x.dtype(), n, groups), rstd = zeros(x.dtype(), n, groups);
        for (int bi = 0; bi < n; bi++)
            for (int g = 0; g < groups; g++) {
                int base = (bi * c + g * cpg) * spatial;
                double m = 0, v = 0;
                for (int i = 0; i < len; i++) m += xs[base + i];
                m /= len;
                for (int i = 0; i < len; i++) v += (xs[base + i] - m) * (xs[base + i] - m);
                double rs = 1 / Math.sqrt(v / len + eps);
                for (int i = 0; i < len; i++) {
                    int ch = g * cpg + i / spatial;
                    double y = (xs[base + i] - m) * rs;
                    if (w != null) y *= w[ch];
                    if (b != null) y += b[ch];
                    out.storage().setDouble(base + i, silu ? unary(UnaryOp.SILU, y, 0, 0) : y);
                }
                mean.storage().setDouble(bi * groups + g, m);
                rstd.storage().setDouble(bi * groups + g, rs);
            }
        return new NormResult(out, mean, rstd);
    }

    @Override
    public NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize, boolean affineGrads) {
        int rows = x.numel() / Math.max(1, normSize);
        return normBackward(gradOut, x, mean, rstd, weight, rows, normSize, normSize, (r, j) -> j, affineGrads);
    }

    @Override
    public NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                           boolean silu, boolean affineGrads) {
        int n = x.size(0), c = x.size(1), spatial = x.numel() / Math.max(1, n * c), cpg = c / groups;
        Tensor g = silu ? siluGradientAtNorm(gradOut, x, mean, rstd, weight, bias, groups) : gradOut;
        return normBackward(g, x, mean, rstd, weight, n * groups, cpg * spatial, c, (r, j) -> r % groups * cpg + j / spatial, affineGrads);
    }

    /** g silu'(y) with y = (x - mean) rstd weight + bias per (sample, group) and channel: through a fused activation. */
    private static Tensor siluGradientAtNorm(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups) {
        int n = x.size(0), c = x.size(1), spatial = x.numel() / Math.max(1, n * c), cpg = c / groups;
        double[] xs = x.contiguous().toDoubleArray(), gs = gradOut.contiguous().toDoubleArray();
        double[] ms = mean.contiguous().toDoubleArray(), rs = rstd.contiguous().toDoubleArray();
        double[] w = weight == null ? null : weight.contiguous().toDoubleArray(), b = bias == null ? null : bias.contiguous().toDoubleArray();
        double[] out = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            int ch = i / spatial % c, row = i / spatial / c * groups + ch / cpg;
            double y = (xs[i] - ms[row]) * rs[row];
            if (w != null) y *= w[ch];
            if (b != null) y += b[ch];
            out[i] = gs[i] * unaryDerivative(UnaryOp.SILU, y, 0, 0);
        }
        return Tensor.of(out, x.shape());
    }

    /**
     * Both norms' backward over x as [rows, len] (row-major, which is how group norm's (sample, group) blocks lie
     * too); {@code param(row, j)} is the affine parameter of element j of a row.
     */
    private NormGradients normBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int rows, int len, int params,
                                       java.util.function.IntBinaryOperator param, boolean affineGrads) {
        double[] xs = x.contiguous().toDoubleArray(), gs = gradOut.contiguous().toDoubleArray();
        double[] ms = mean.contiguous().toDoubleArray(), rs = rstd.contiguous().toDoubleArray();
        double[] w = weight == null ? null : weight.contiguous().toDoubleArray();
        double[] dx = new double[xs.length], dw = new double[params], db = new double[params];
        for (int r = 0; r < rows; r++) {
            double sumGw = 0, sumGwXhat = 0;
            for (int j = 0; j < len; j++) {
                int i = r * len + j, p = param.applyAsInt(r, j);
                double xhat = (xs[i] - ms[r]) * rs[r], gw = w == null ? gs[i] : gs[i] * w[p];
                sumGw += gw;
                sumGwXhat += gw * xhat;
                dw[p] += gs[i] * xhat;
                db[p] += gs[i];
            }
            for (int j = 0; j < len; j++) {
                int i = r * len + j;
                double xhat = (xs[i] - ms[r]) * rs[r], gw = w == null ? gs[i] : gs[i] * w[param.applyAsInt(r, j)];
                dx[i] = rs[r] * (gw - sumGw / len - xhat * sumGwXhat / len);
            }
        }
        Tensor input = Tensor.of(dx, x.shape()).to(x.dtype());
        if (!affineGrads) return new NormGradients(input, null, null);
        return new NormGradients(input, Tensor.of(dw, params).to(x.dtype()), Tensor.of(db, params).to(x.dtype()));
    }

    @Override
    public Tensor concat(List<Tensor> parts, int dim) {
        int[] shape = parts.get(0).shape();
        shape[dim] = 0;
        for (Tensor t : parts) shape[dim] += t.size(dim);
        Tensor out = zeros(parts.get(0).dtype(), shape);
        int at = 0;
        for (Tensor t : parts) {
            copyInto(t, out.narrow(dim, at, t.size(dim)));
            at += t.size(dim);
        }
        return out;
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        long[] idx = index.toLongArray();
        int[] shape = x.shape();
        shape[dim] = idx.length;
        Tensor out = zeros(x.dtype(), shape);
        for (int i = 0; i < idx.length; i++) copyInto(x.select(dim, (int) idx[i]), out.select(dim, i));
        return out;
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        int[] shape = index.shape();
        Tensor out = zeros(x.dtype(), shape);
        int[] coord = new int[shape.length];
        for (int o = 0; o < out.numel(); o++) {
            int rem = o;
            for (int d = shape.length - 1; d >= 0; d--) { coord[d] = rem % shape[d]; rem /= shape[d]; }
            long src = (long) get(index, o);
            int[] c2 = coord.clone();
            c2[dim] = (int) src;
            set(out, o, x.get(c2));
        }
        return out;
    }

    @Override
    public Tensor pad(Tensor x, int[] pads, PadMode mode, double value) {
        int[] shape = x.shape(), outShape = new int[shape.length];
        for (int d = 0; d < shape.length; d++) outShape[d] = shape[d] + pads[2 * d] + pads[2 * d + 1];
        Tensor out = zeros(x.dtype(), outShape);
        int[] coord = new int[shape.length];
        for (int o = 0; o < out.numel(); o++) {
            int rem = o;
            boolean inside = true;
            for (int d = shape.length - 1; d >= 0; d--) {
                int c = rem % outShape[d] - pads[2 * d];
                rem /= outShape[d];
                if (c < 0 || c >= shape[d]) {
                    switch (mode) {
                        case CONSTANT -> inside = false;
                        case REFLECT -> c = c < 0 ? -c : 2 * (shape[d] - 1) - c;
                        case REPLICATE -> c = c < 0 ? 0 : shape[d] - 1;
                    }
                }
                coord[d] = c;
            }
            out.storage().setDouble(o, inside ? x.get(coord) : value);
        }
        return out;
    }

    @Override
    public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1) {
        Tensor out = zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) set(out, i, get(gradOut, i) * unaryDerivative(op, get(x, i), p0, p1));
        return out;
    }

    @Override
    public Tensor scatterAdd(Tensor index, Tensor src, int dim, int[] outShape) {
        int[] shape = src.shape();
        double[] acc = new double[Shapes.numel(outShape)];
        int[] outStrides = Shapes.contiguousStrides(outShape);
        int[] coord = new int[shape.length];
        for (int i = 0; i < src.numel(); i++) {
            int rem = i;
            for (int d = shape.length - 1; d >= 0; d--) { coord[d] = rem % shape[d]; rem /= shape[d]; }
            coord[dim] = (int) get(index, i);
            int o = 0;
            for (int d = 0; d < shape.length; d++) o += coord[d] * outStrides[d];
            acc[o] += get(src, i);
        }
        Tensor out = zeros(src.dtype(), outShape);
        for (int i = 0; i < acc.length; i++) out.storage().setDouble(i, acc[i]);
        return out;
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, double lr, double beta1, double beta2, double eps,
                         double weightDecay, boolean decoupled, long step) {
        double bc1 = 1 - Math.pow(beta1, step), bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        for (int i = 0; i < param.numel(); i++) {
            double p = get(param, i), g = get(grad, i);
            if (weightDecay != 0) {
                if (decoupled) p *= 1 - lr * weightDecay;
                else g += weightDecay * p;
            }
            double m = beta1 * get(expAvg, i) + (1 - beta1) * g;
            double v = beta2 * get(expAvgSq, i) + (1 - beta2) * g * g;
            set(expAvg, i, m);
            set(expAvgSq, i, v);
            set(param, i, p - (lr / bc1) * m / (Math.sqrt(v) / bc2Sqrt + eps));
        }
    }

    /** The value of random draw {@code counter}: shared by every backend so they agree bit for bit. */
    public static double randomValue(RandomKind kind, double a, double b, long seed, long counter) {
        return kind == RandomKind.UNIFORM ? a + (b - a) * Rng.uniform(seed, counter) : a + b * Rng.normal(seed, counter);
    }

    @Override
    public void fillRandom(Tensor dst, RandomKind kind, double a, double b, long seed, long offset) {
        for (int i = 0; i < dst.numel(); i++) set(dst, i, randomValue(kind, a, b, seed, offset + i));
    }

    @Override
    public String toString() {
        return name();
    }
}
