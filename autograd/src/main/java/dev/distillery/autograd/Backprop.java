package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.NormGradients;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.ParamGradients;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.ReferenceBackend;

import java.util.Arrays;

/**
 * Every backward rule, in one exhaustive switch over {@link Op}: given the inputs' values, the output, the tensors the
 * op saved and the gradient of the output, returns the gradient of each input (null where an input takes none, such
 * as an index or a condition). Broadcast inputs get gradients summed back to their own shape ({@link #sumTo}).
 */
final class Backprop {
    private Backprop() {}

    static Tensor[] backward(Op op, Tensor[] in, Tensor out, Tensor[] saved, Tensor g) {
        return backward(op, in, out, saved, g, new Tensor[in.length]);
    }

    /**
     * {@link #backward(Op, Tensor[], Tensor, Tensor[], Tensor)} where {@code pending[k]}, when not null, is the gradient
     * already summed for input k (of its shape, any layout) from its other uses. A rule that can add it in the same
     * backend call (unary ops, Linear's and conv2d's input gradients, layer and group norm's) returns gradient k with it included and sets
     * {@code pending[k]} to null; the caller adds the pending gradients that are left. On a device this saves the add's
     * launch, which small models pay at every variable with several uses (residual inputs, shared embeddings).
     */
    static Tensor[] backward(Op op, Tensor[] in, Tensor out, Tensor[] saved, Tensor g, Tensor[] pending) {
        return switch (op) {
            case Op.Unary u -> new Tensor[]{in[0].unaryBackward(u.kind(), g, u.p0(), u.p1(), take(pending, 0))};
            case Op.Binary b -> binary(b, in[0], in[1], out, g);
            case Op.Where w -> {
                Tensor zero = Tensor.zeros(g.dtype(), g.device(), 1);
                yield new Tensor[]{null, sumTo(Tensor.where(in[0], g, zero), in[1].shape()), sumTo(Tensor.where(in[0], zero, g), in[2].shape())};
            }
            case Op.Sum s -> new Tensor[]{unreduce(g, in[0].shape(), s.dims(), s.keepDim())};
            case Op.Mean m -> {
                int n = in[0].numel() / Math.max(1, out.numel());
                yield new Tensor[]{unreduce(g, in[0].shape(), m.dims(), m.keepDim()).div(n)};
            }
            case Op.MaxMin m -> {
                int[] shape = in[0].shape();
                Tensor mask = in[0].eq(unreduce(out, shape, m.dims(), m.keepDim())).to(in[0].dtype());
                Tensor count = mask.sum(dimsOrAll(m.dims(), shape.length), true);
                yield new Tensor[]{mask.mul(unreduce(g, shape, m.dims(), m.keepDim())).div(count)};
            }
            case Op.Var v -> {
                int[] shape = in[0].shape();
                int[] dims = dimsOrAll(v.dims(), shape.length);
                int n = in[0].numel() / Math.max(1, out.numel());
                Tensor centered = in[0].sub(in[0].mean(dims, true));
                yield new Tensor[]{centered.mul(unreduce(g, shape, v.dims(), v.keepDim())).mul(2.0 / (n - v.correction()))};
            }
            case Op.LogSumExp l -> {
                int[] shape = in[0].shape();
                Tensor p = in[0].sub(unreduce(out, shape, l.dims(), l.keepDim())).exp();
                yield new Tensor[]{p.mul(unreduce(g, shape, l.dims(), l.keepDim()))};
            }
            case Op.MatMul mm -> {
                if (isLinear(in[0], in[1], g)) {
                    Tensor gx = pending[0] == null ? g.matmul(in[1].mT()) : g.matmulAdd(in[1].mT(), take(pending, 0));
                    // W and b of x W^T + b in one backend call, dW in the weight's layout (no copy when it becomes weight.grad)
                    ParamGradients p = Tensor.linearParamGrads(g, in[0], in.length > 2);
                    yield in.length > 2 ? new Tensor[]{gx, p.weight().mT(), p.bias()} : new Tensor[]{gx, p.weight().mT()};
                }
                Tensor gx = productInLayoutOf(g, in[1].mT(), in[0]);
                Tensor gb = productInLayoutOf(in[0].mT(), g, in[1]);
                yield in.length > 2 ? new Tensor[]{gx, gb, sumTo(g, in[2].shape())} : new Tensor[]{gx, gb};
            }
            case Op.Conv2d c -> {
                Conv2dParams p = c.params();
                Tensor gx = Tensor.conv2dInputGrad(g, in[1], in[0].shape(), p, take(pending, 0));
                ParamGradients pg = Tensor.conv2dParamGrads(g, in[0], in[1].shape(), p, in.length > 2);
                yield in.length > 2 ? new Tensor[]{gx, pg.weight(), pg.bias()} : new Tensor[]{gx, pg.weight()};
            }
            case Op.Conv2dAdd c -> {
                Conv2dParams p = c.params();
                boolean bias = in.length > 3;
                Tensor gx = Tensor.conv2dInputGrad(g, in[1], in[0].shape(), p, take(pending, 0));
                ParamGradients pg = Tensor.conv2dParamGrads(g, in[0], in[1].shape(), p, bias);
                Tensor gAddend = sumTo(g, in[in.length - 1].shape());
                yield bias ? new Tensor[]{gx, pg.weight(), pg.bias(), gAddend} : new Tensor[]{gx, pg.weight(), gAddend};
            }
            case Op.ConvTranspose2d c -> {
                // y = A^T x with A the conv2d of the same weight; so dx = A g and dW comes from conv2d's weight
                // gradient with the roles of input and output gradient swapped.
                Conv2dParams p = c.params();
                Conv2dParams plain = new Conv2dParams(p.strideH(), p.strideW(), p.padH(), p.padW(), p.dilationH(), p.dilationW(), p.groups(), 0, 0);
                Tensor gx = g.conv2d(in[1], null, plain);
                Tensor gw = Tensor.conv2dWeightGrad(in[0], g, in[1].shape(), plain);
                yield in.length > 2 ? new Tensor[]{gx, gw, g.sum(0, 2, 3)} : new Tensor[]{gx, gw};
            }
            case Op.AvgPool2d a -> {
                // Average pooling (padded zeros counted) is a depthwise convolution with a constant kernel.
                Pool2dParams p = a.params();
                int c = in[0].size(1);
                Tensor k = Tensor.full(1.0 / (p.kernelH() * p.kernelW()), g.dtype(), g.device(), c, 1, p.kernelH(), p.kernelW());
                Conv2dParams cp = new Conv2dParams(p.strideH(), p.strideW(), p.padH(), p.padW(), 1, 1, c, 0, 0);
                yield new Tensor[]{Tensor.conv2dInputGrad(g, k, in[0].shape(), cp)};
            }
            case Op.MaxPool2d m -> {
                int[] s = in[0].shape();
                Tensor idx = saved[0].flatten(2, 3);
                yield new Tensor[]{g.contiguous().flatten(2, 3).scatterAdd(2, idx, new int[]{s[0], s[1], s[2] * s[3]}).view(s)};
            }
            case Op.Upsample2d u -> {
                // Both modes are separable linear maps y = A_h x A_w^T, so dx = A_h^T g A_w.
                int h = in[0].size(2), w = in[0].size(3);
                Tensor ah = resizeMatrix(h, u.outH(), u.bilinear(), u.alignCorners(), g.dtype()).to(g.device());
                Tensor aw = resizeMatrix(w, u.outW(), u.bilinear(), u.alignCorners(), g.dtype()).to(g.device());
                yield new Tensor[]{ah.mT().matmul(g).matmul(aw)};
            }
            case Op.Softmax s -> new Tensor[]{Tensor.softmaxBackward(out, g, s.dim(), s.log())};
            case Op.LayerNorm l -> layerNorm(l, in, saved, g, take(pending, 0));
            case Op.GroupNorm gn -> groupNorm(gn, in, saved, g, take(pending, 0));
            case Op.Concat c -> {
                Tensor[] r = new Tensor[in.length];
                int at = 0;
                for (int i = 0; i < in.length; i++) {
                    int len = in[i].size(c.dim());
                    r[i] = g.narrow(c.dim(), at, len);
                    at += len;
                }
                yield r;
            }
            case Op.IndexSelect s -> {
                int d = s.dim();
                int[] view = new int[g.dim()];
                Arrays.fill(view, 1);
                view[d] = (int) in[1].numel();
                Tensor idx = in[1].view(view).expand(g.shape()).contiguous();
                yield new Tensor[]{g.scatterAdd(d, idx, in[0].shape()), null};
            }
            case Op.Gather ga -> new Tensor[]{g.scatterAdd(ga.dim(), in[1], in[0].shape()), null};
            case Op.Pad p -> new Tensor[]{padBackward(p, in[0].shape(), g)};
            case Op.Reshape r -> new Tensor[]{g.reshape(in[0].shape())};
            case Op.Permute p -> {
                int[] inverse = new int[p.order().length];
                for (int i = 0; i < inverse.length; i++) inverse[Math.floorMod(p.order()[i], inverse.length)] = i;
                yield new Tensor[]{g.permute(inverse)};
            }
            case Op.Expand e -> new Tensor[]{sumTo(g, in[0].shape())};
            case Op.Slice s -> {
                Tensor gx = Tensor.zeros(g.dtype(), g.device(), in[0].shape());
                gx.slice(s.dim(), s.start(), s.end(), s.step()).copyFrom(g);
                yield new Tensor[]{gx};
            }
            case Op.Contiguous c -> new Tensor[]{g};
            case Op.Cast c -> new Tensor[]{g.to(in[0].dtype())};
        };
    }

    private static Tensor[] binary(Op.Binary b, Tensor x, Tensor y, Tensor out, Tensor g) {
        int[] xs = x.shape(), ys = y.shape();
        return switch (b.kind()) {
            case ADD -> new Tensor[]{sumTo(g, xs), sumTo(g, ys)};
            case SUB -> new Tensor[]{sumTo(g, xs), sumTo(g.neg(), ys)};
            case MUL -> new Tensor[]{sumTo(g.mul(y), xs), sumTo(g.mul(x), ys)};
            case DIV -> new Tensor[]{sumTo(g.div(y), xs), sumTo(g.mul(out).div(y).neg(), ys)};
            case POW -> new Tensor[]{
                    sumTo(g.mul(y).mul(x.pow(y.sub(1))), xs),
                    sumTo(g.mul(out).mul(x.log()), ys)};
            case MAXIMUM, MINIMUM -> {
                // Ties split the gradient in half, as PyTorch does.
                boolean max = b.kind() == dev.distillery.tensor.backend.BinaryOp.MAXIMUM;
                Tensor win = (max ? x.gt(y) : x.lt(y)).to(g.dtype());
                Tensor tie = x.eq(y).to(g.dtype()).mul(0.5);
                Tensor wx = win.add(tie);
                Tensor wy = wx.rsub(1);
                yield new Tensor[]{sumTo(g.mul(wx), xs), sumTo(g.mul(wy), ys)};
            }
        };
    }

    /** dims, or every dim when {@code dims} is empty (the reductions' convention). */
    static int[] dimsOrAll(int[] dims, int rank) {
        if (dims.length > 0) return dims;
        int[] all = new int[rank];
        for (int i = 0; i < rank; i++) all[i] = i;
        return all;
    }

    /** Broadcasts a reduced tensor back over the reduced dims of {@code shape}. */
    static Tensor unreduce(Tensor reduced, int[] shape, int[] dims, boolean keepDim) {
        Tensor t = reduced;
        if (!keepDim) {
            int[] d = dimsOrAll(dims, shape.length).clone();
            for (int i = 0; i < d.length; i++) d[i] = Math.floorMod(d[i], shape.length);
            Arrays.sort(d);
            for (int x : d) t = t.unsqueeze(x);
        }
        return t.expand(shape);
    }

    /** {@code pending[k]}, handed over to the rule (null in the array from now on: the rule includes it). */
    private static Tensor take(Tensor[] pending, int k) {
        Tensor t = pending[k];
        pending[k] = null;
        return t;
    }

    /**
     * Whether a @ b is Linear's x W^T: b a 2-D transposed view of a contiguous weight, a at least 2-D with g of the
     * same rank (no broadcast batch). Its parameter gradients then come from {@link Tensor#linearParamGrads}, the
     * weight's in its own layout, so the transpose's backward hands the weight a contiguous gradient.
     */
    private static boolean isLinear(Tensor a, Tensor b, Tensor g) {
        return b.dim() == 2 && a.dim() >= 2 && g.dim() == a.dim() && b.mT().isContiguous();
    }

    /**
     * x @ y summed back to {@code like}'s shape: a matmul operand's gradient. Where {@code like} is a permuted view of
     * a dense tensor with two batch dims and the product's shape (attention's per-head q, k and v), the product is
     * written in like's own layout ({@link Tensor#matmulInto}), so undoing the permute and the head split that made
     * like needs no copy.
     */
    private static Tensor productInLayoutOf(Tensor x, Tensor y, Tensor like) {
        if (like.dim() == 4 && x.dim() == 4 && y.dim() == 4 && !like.isContiguous()
                && x.size(0) == like.size(0) && x.size(1) == like.size(1) && y.size(0) == like.size(0) && y.size(1) == like.size(1)) {
            Tensor out = Tensor.uninitializedLike(like);
            if (out != null) {
                Tensor.matmulInto(x, y, out);
                return out;
            }
        }
        return sumTo(x.matmul(y), like.shape());
    }

    /** Sums a broadcast gradient back to {@code shape} (leading dims and dims of size 1). */
    static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        int[] dims = new int[gs.length];
        int k = 0;
        for (int i = 0; i < gs.length; i++)
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) dims[k++] = i;
        Tensor s = k == 0 ? g : g.sum(Arrays.copyOf(dims, k), true);
        return s.reshape(shape);
    }

    /** The [out, in] matrix of a 1-D nearest or bilinear resize, with PyTorch's source-index rules. */
    static Tensor resizeMatrix(int in, int out, boolean bilinear, boolean alignCorners, DType dtype) {
        double[] m = new double[out * in];
        for (int o = 0; o < out; o++) {
            if (!bilinear) {
                m[o * in + ReferenceBackend.nearestSource(o, in, out)] = 1;
            } else {
                double s = ReferenceBackend.bilinearSource(o, in, out, alignCorners);
                int i0 = (int) s, i1 = Math.min(i0 + 1, in - 1);
                double l = s - i0;
                m[o * in + i0] += 1 - l;
                m[o * in + i1] += l;
            }
        }
        return Tensor.of(m, out, in).to(dtype);
    }

    /**
     * LayerNorm backward with xhat = (x - mean) rstd over the normalised dims:
     * dx = rstd (gw - mean(gw) - xhat mean(gw xhat)) with gw = g * weight; dweight = sum(g xhat); dbias = sum(g),
     * in one backend pass ({@link dev.distillery.tensor.backend.Backend#layerNormBackward}), with the input's pending
     * gradient (or null) added to dx there.
     */
    private static Tensor[] layerNorm(Op.LayerNorm l, Tensor[] in, Tensor[] saved, Tensor g, Tensor pending) {
        boolean affine = l.hasWeight() || l.hasBias();
        NormGradients grads = Tensor.layerNormBackward(g, in[0], saved[0], saved[1], l.hasWeight() ? in[1] : null, l.normalizedShape(), affine, pending);
        return normGradients(grads, in.length, l.hasWeight(), l.hasBias(), l.normalizedShape());
    }

    /**
     * GroupNorm backward: the LayerNorm formula within each (sample, group), with a per-channel affine (and through
     * the fused silu, whose input the backend recomputes).
     */
    private static Tensor[] groupNorm(Op.GroupNorm gn, Tensor[] in, Tensor[] saved, Tensor g, Tensor pending) {
        boolean affine = gn.hasWeight() || gn.hasBias();
        NormGradients grads = Tensor.groupNormBackward(g, in[0], saved[0], saved[1], gn.hasWeight() ? in[1] : null,
                gn.hasBias() ? in[gn.hasWeight() ? 2 : 1] : null, gn.groups(), gn.silu(), affine, pending);
        return normGradients(grads, in.length, gn.hasWeight(), gn.hasBias(), new int[]{in[0].size(1)});
    }

    private static Tensor[] normGradients(NormGradients grads, int inputs, boolean hasWeight, boolean hasBias, int[] affineShape) {
        Tensor[] r = new Tensor[inputs];
        r[0] = grads.input();
        if (hasWeight) r[1] = grads.weight().reshape(affineShape);
        if (hasBias) r[hasWeight ? 2 : 1] = grads.bias().reshape(affineShape);
        return r;
    }

    /** Pad backward: each padded dim maps output positions to source positions; scatter-add them back per dim. */
    private static Tensor padBackward(Op.Pad p, int[] inShape, Tensor g) {
        int[] pads = p.pads();
        Tensor cur = g;
        for (int i = 0; i < pads.length / 2; i++) {
            int d = inShape.length - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
            if (before == 0 && after == 0) continue;
            int n = inShape[d];
            if (p.mode() == PadMode.CONSTANT) {
                cur = cur.narrow(d, before, n);
                continue;
            }
            int outLen = cur.size(d);
            long[] src = new long[outLen];
            for (int o = 0; o < outLen; o++) {
                int c = o - before;
                if (c < 0) c = p.mode() == PadMode.REFLECT ? -c : 0;
                else if (c >= n) c = p.mode() == PadMode.REFLECT ? 2 * (n - 1) - c : n - 1;
                src[o] = c;
            }
            int[] view = new int[cur.dim()];
            Arrays.fill(view, 1);
            view[d] = outLen;
            Tensor idx = Tensor.ofLongs(src, outLen).to(cur.device()).view(view).expand(cur.shape()).contiguous();
            int[] outShape = cur.shape();
            outShape[d] = n;
            cur = cur.contiguous().scatterAdd(d, idx, outShape);
        }
        return cur;
    }
}
