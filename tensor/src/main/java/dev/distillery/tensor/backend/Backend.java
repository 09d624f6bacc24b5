package dev.distillery.tensor.backend;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;

import java.util.List;

/**
 * The op interface every device implements. {@link Tensor} validates shapes and dtypes and resolves
 * broadcasting before it calls a backend, so implementations may assume well-formed arguments:
 * inputs share the backend's device, elementwise inputs share one shape (possibly through stride-0 views) and
 * one dtype. Inputs may have any strides. Every method returns a new contiguous tensor unless it says otherwise.
 *
 * <p>Compute dtypes are F32 and F64; F16/BF16 reach kernels only through {@link #copyInto} conversions.
 */
public interface Backend {
    String name();

    Device device();

    /** A zero-filled contiguous tensor on this device. */
    Tensor zeros(DType dtype, int... shape);

    /**
     * A contiguous tensor whose contents are unspecified, for a caller that writes every element before reading any
     * (the CPU backend may hand out a recycled array, see {@link dev.distillery.tensor.BufferPool}). Zeros unless a
     * backend does better.
     */
    default Tensor uninitialized(DType dtype, int... shape) {
        return zeros(dtype, shape);
    }

    /** Copies {@code src} into {@code dst} (same shape; any layouts; converts between any dtypes). */
    void copyInto(Tensor src, Tensor dst);

    /**
     * A new contiguous tensor on this device holding host tensor {@code host}'s values in {@code dtype}, owned like
     * {@link #zeros} (by no scope): {@link Tensor#to(Device)}'s upload. A device backend writes it once, without
     * zeroing it first. By default, {@link #zeros} then {@link #copyInto}.
     */
    default Tensor fromHost(Tensor host, DType dtype) {
        Tensor out = zeros(dtype, host.shape());
        copyInto(host, out);
        return out;
    }

    /**
     * Kernel launches so far (transfers included), for a backend that launches kernels on a device, where each launch
     * has a fixed cost that small models pay thousands of times per step; -1 for backends that compute in the calling
     * threads.
     */
    default long launches() {
        return -1;
    }

    /** {@code op(x)} elementwise; see {@link UnaryOp} for the scalar parameters. */
    Tensor unary(UnaryOp op, Tensor x, double p0, double p1);

    /** {@code a op b} elementwise, same shape and dtype. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** {@code a op b} elementwise into a BOOL tensor. */
    Tensor compare(CompareOp op, Tensor a, Tensor b);

    /** {@code cond ? a : b} elementwise; {@code cond} is BOOL. */
    Tensor where(Tensor cond, Tensor a, Tensor b);

    /**
     * Reduces {@code dims} (sorted, distinct, non-empty). ARGMAX/ARGMIN take exactly one dim and return I64.
     * {@code correction} is used by VAR only.
     */
    Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, double correction);

    /** Batched matmul: a [B, M, K] times b [B, K, N] (any strides, stride-0 batch allowed) gives [B, M, N]. */
    Tensor matmul(Tensor a, Tensor b);

    /**
     * {@link #matmul(Tensor, Tensor)} plus {@code bias} [N] added to every row (Linear's x W^T + b, PyTorch's addmm),
     * or without it when bias is null: a device backend adds it as it stores the product, saving a launch. By default,
     * the product and then an add.
     */
    default Tensor matmul(Tensor a, Tensor b, Tensor bias) {
        Tensor out = matmul(a, b);
        if (bias == null) return out;
        return binary(BinaryOp.ADD, out, bias.unsqueeze(0).unsqueeze(0).expand(out.shape()));
    }

    /**
     * {@link #matmul(Tensor, Tensor)} plus {@code addend} [B, M, N] (contiguous): a product folded into a gradient that
     * is already pending (Linear's input gradient for an input with several uses); a device backend adds it as it
     * stores. By default, the product and then an add.
     */
    default Tensor matmulAdd(Tensor a, Tensor b, Tensor addend) {
        return binary(BinaryOp.ADD, matmul(a, b), addend);
    }

    /** x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] or null: output [N, O, outH, outW]. */
    Tensor conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dParams p);

    /**
     * {@link #conv2d} plus {@code addend} of the output's shape (any strides: a residual, or a per-channel time
     * embedding expanded over height and width), added after the bias: a device backend adds it as it stores the
     * output, saving the add's launch and a pass over the output. By default, conv2d and then an add.
     */
    default Tensor conv2dAdd(Tensor x, Tensor weight, Tensor bias, Conv2dParams p, Tensor addend) {
        return binary(BinaryOp.ADD, conv2d(x, weight, bias, p), addend);
    }

    /** Gradient of conv2d w.r.t. its input, of shape {@code inputShape}; also conv_transpose2d's forward. */
    Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p);

    /**
     * {@link #conv2dBackwardInput} plus {@code addend} of {@code inputShape} (any strides): the input gradient folded
     * into a gradient already pending for the input; a device backend adds it as it stores. By default, an add.
     */
    default Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p, Tensor addend) {
        return binary(BinaryOp.ADD, conv2dBackwardInput(gradOut, weight, inputShape, p), addend);
    }

    /** Gradient of conv2d w.r.t. its weight, of shape {@code weightShape}. */
    Tensor conv2dBackwardWeight(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p);

    /**
     * conv2d's weight gradient ({@link #conv2dBackwardWeight}) and, with {@code withBias}, its bias gradient
     * {@code gradOut} summed over batch, height and width ([O]). A device backend computes both in one launch: the bias
     * gradient is one more column of the weight gradient's implicit GEMM, against a column of ones. By default, the
     * weight gradient and then a reduction.
     */
    default ParamGradients conv2dParamGradients(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p, boolean withBias) {
        Tensor weight = conv2dBackwardWeight(gradOut, x, weightShape, p);
        return new ParamGradients(weight, withBias ? reduce(ReduceOp.SUM, gradOut, new int[]{0, 2, 3}, false, 0) : null);
    }

    /**
     * Linear's parameter gradients, for y = x W^T + b, from the output gradient g [P, M, N] and the input x [P, M, C]
     * (any strides): the weight gradient, sum over p and m of g[p, m]^T x[p, m], as a contiguous [N, C] (the weight's
     * own layout) and, with {@code withBias}, the bias gradient, g summed over p and m ([N]). A device backend computes
     * both in one launch: one GEMM whose reduction walks both leading dims (no copy where they do not merge, no batch
     * of partial products to sum), with the bias gradient as one more output column, against a column of ones. By
     * default, the leading dims flattened (a copy where they do not merge), one GEMM, then a reduction.
     */
    default ParamGradients linearParamGradients(Tensor gradOut, Tensor x, boolean withBias) {
        int[] gs = gradOut.shape(), xs = x.shape();
        Tensor g2 = gradOut.reshape(1, gs[0] * gs[1], gs[2]), x2 = x.reshape(1, xs[0] * xs[1], xs[2]);
        Tensor weight = matmul(g2.mT(), x2).view(gs[2], xs[2]);
        return new ParamGradients(weight, withBias ? reduce(ReduceOp.SUM, gradOut, new int[]{0, 1}, false, 0) : null);
    }

    /** Average pool over [N, C, H, W]. */
    Tensor avgPool2d(Tensor x, Pool2dParams p);

    /** Max pool over [N, C, H, W]; indices are flat positions in each input H*W plane (as PyTorch's). */
    ValuesIndices maxPool2d(Tensor x, Pool2dParams p);

    /**
     * Resizes [N, C, H, W] to [N, C, outH, outW]: nearest (PyTorch's 'nearest': src = floor(dst * in/out)) or
     * bilinear with or without align_corners.
     */
    Tensor upsample2d(Tensor x, int outH, int outW, boolean bilinear, boolean alignCorners);

    /** Softmax (or log-softmax) along {@code dim}. */
    Tensor softmax(Tensor x, int dim, boolean log);

    /**
     * Layer norm over the last dims whose product is {@code normSize}; weight and bias (or null) have
     * {@code normSize} elements.
     */
    NormResult layerNorm(Tensor x, Tensor weight, Tensor bias, int normSize, double eps);

    /**
     * Batched matmul over two batch dims: a [B1, B2, M, K] times b [B1, B2, K, N] (any strides) gives [B1 B2, M, N],
     * plus {@code bias} [N] or null. For operands whose two batch dims one stride cannot walk (attention's heads of a
     * permuted projection), a device backend indexes both instead of copying. By default, each operand reshaped to
     * [B1 B2, ...] (a copy where the dims do not merge), then {@link #matmul(Tensor, Tensor, Tensor)}.
     */
    default Tensor matmulTwoBatchDims(Tensor a, Tensor b, Tensor bias) {
        int[] as = a.shape(), bs = b.shape();
        return matmul(a.reshape(as[0] * as[1], as[2], as[3]), b.reshape(bs[0] * bs[1], bs[2], bs[3]), bias);
    }

    /**
     * a [B1, B2, M, K] times b [B1, B2, K, N] (any strides) written into {@code out} [B1, B2, M, N], whose strides may be
     * any non-overlapping layout: a gradient produced in its input's layout (attention's per-head q, k, v are permuted
     * views), so that undoing the permutation and reshape needs no copy. A device backend stores on out's strides; by
     * default, the product and then a copy into out.
     */
    default void matmulInto(Tensor a, Tensor b, Tensor out) {
        copyInto(matmulTwoBatchDims(a, b, null).view(out.shape()), out);
    }

    /**
     * Group norm of [N, C, ...] with {@code groups} groups; weight and bias (or null) have C elements. With
     * {@code silu} the output is silu of the normalised values: the UNet's norm-then-activation in one pass.
     */
    NormResult groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps, boolean silu);

    /** {@link #groupNorm(Tensor, int, Tensor, Tensor, double, boolean)} without the activation. */
    default NormResult groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps) {
        return groupNorm(x, groups, weight, bias, eps, false);
    }

    /**
     * The backward pass of {@link #layerNorm}, from its input x, its statistics ({@code mean}, {@code rstd}: [rows])
     * and the output gradient g. Per row, with xhat = (x - mean) rstd and gw = g weight (g without a weight):
     * <pre>
     *   dx = rstd (gw - mean(gw) - xhat mean(gw xhat))
     *   dweight = sum over rows of g xhat;   dbias = sum over rows of g      (only when affineGrads)
     * </pre>
     * One pass per row instead of a dozen whole-tensor ops.
     */
    NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize, boolean affineGrads);

    /**
     * {@link #layerNormBackward} with {@code inputAddend} (x's shape, any layout) added to the input gradient: folded
     * into a gradient already pending for x from its other uses (a residual stream). By default, an add.
     */
    default NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize, boolean affineGrads,
                                            Tensor inputAddend) {
        return withInputAddend(layerNormBackward(gradOut, x, mean, rstd, weight, normSize, affineGrads), inputAddend);
    }

    /**
     * The backward pass of {@link #groupNorm}: the {@link #layerNormBackward} formula within each (sample, group) of
     * [N, C, ...] with statistics [N, groups], a per-channel weight, and dweight, dbias summed per channel. With
     * {@code silu} (the forward's activation), g is first multiplied by silu'(y) at the normalised value y = xhat
     * weight + bias, recomputed from x and the statistics (so the forward need not keep y).
     */
    NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups, boolean silu,
                                    boolean affineGrads);

    /** {@link #groupNormBackward} with {@code inputAddend} added to the input gradient (see {@link #layerNormBackward}'s). */
    default NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups, boolean silu,
                                            boolean affineGrads, Tensor inputAddend) {
        return withInputAddend(groupNormBackward(gradOut, x, mean, rstd, weight, bias, groups, silu, affineGrads), inputAddend);
    }

    private NormGradients withInputAddend(NormGradients r, Tensor inputAddend) {
        return inputAddend == null ? r : new NormGradients(binary(BinaryOp.ADD, r.input(), inputAddend), r.weight(), r.bias());
    }

    /** Concatenates along {@code dim}; parts share dtype and all other dims. */
    Tensor concat(List<Tensor> parts, int dim);

    /** Picks slices along {@code dim} by a 1-D I64 index (in range). */
    Tensor indexSelect(Tensor x, int dim, Tensor index);

    /** out[i][j][k] = x[i][index[i][j][k]][k] for dim 1, etc.; index is I64 of the output's shape (in range). */
    Tensor gather(Tensor x, int dim, Tensor index);

    /**
     * Pads every dim: {@code pads[2*d]} before and {@code pads[2*d+1]} after dim d (non-negative; REFLECT needs
     * pads smaller than the dim).
     */
    Tensor pad(Tensor x, int[] pads, PadMode mode, double value);

    /**
     * Fills {@code dst} (contiguous, floating point) with draws that depend only on (seed, offset + element index),
     * so results are the same for any thread count and any backend. See {@link dev.distillery.tensor.Rng}.
     */
    void fillRandom(Tensor dst, RandomKind kind, double a, double b, long seed, long offset);

    /** {@code gradOut * d op(x) / dx} elementwise: the backward pass of {@link #unary}. */
    Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1);

    /**
     * {@link #unaryBackward} plus {@code addend} (x's shape, any layout): the gradient folded into the one already
     * pending for x, as autograd sums a variable's gradient over its uses; one launch on a device instead of two. By
     * default, the gradient and then an add.
     */
    default Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1, Tensor addend) {
        return binary(BinaryOp.ADD, unaryBackward(op, x, gradOut, p0, p1), addend);
    }

    /**
     * A zero tensor of {@code outShape} to which each {@code src} element is added at its own coordinates, except
     * along {@code dim} where the coordinate is taken from {@code index} ({@code torch.Tensor.scatter_add}); index is
     * I64 with src's shape, in range. The backward pass of gather, index_select, max pooling and padding.
     */
    Tensor scatterAdd(Tensor index, Tensor src, int dim, int[] outShape);

    /**
     * One Adam/AdamW update, in place on {@code param}, {@code expAvg} and {@code expAvgSq} (contiguous, same shape and
     * dtype as {@code grad}), in {@code torch.optim.Adam/AdamW}'s order of operations, with t = {@code step}:
     * <pre>
     *   decoupled (AdamW): p = p (1 - lr wd)          else (Adam): g = g + wd p
     *   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
     *   p = p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
     * </pre>
     * One pass over the four tensors instead of a dozen whole-tensor ops, with no temporaries.
     */
    void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, double lr, double beta1, double beta2, double eps,
                  double weightDecay, boolean decoupled, long step);

    /**
     * {@link #adamStep} for several parameters with the same hyperparameters and step count, in list order (PyTorch's
     * foreach Adam): a device backend updates them all in one launch instead of one per parameter. By default, one
     * {@link #adamStep} each.
     */
    default void adamSteps(List<AdamTensors> tensors, double lr, double beta1, double beta2, double eps, double weightDecay,
                           boolean decoupled, long step) {
        for (AdamTensors t : tensors)
            adamStep(t.param(), t.grad(), t.expAvg(), t.expAvgSq(), lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    /**
     * The sum of the squares of every element of every tensor, in double: the squared global norm of gradient clipping
     * ({@code torch.nn.utils.clip_grad_norm_}). A device backend reads one value back instead of one per tensor. By
     * default, each tensor's {@code square().sum()} read to the host and added.
     */
    default double sumOfSquares(List<Tensor> tensors) {
        double sum = 0;
        for (Tensor t : tensors) if (t.numel() > 0) sum += t.square().sum().item();
        return sum;
    }

    /** Each tensor times {@code factor}, as new tensors (gradient clipping's rescale): one launch on a device. */
    default List<Tensor> scaled(List<Tensor> tensors, double factor) {
        return tensors.stream().map(t -> t.mul(factor)).toList();
    }

    /**
     * One step of an exponential moving average, in place on each shadow: {@code shadow = shadow decay + param (1 -
     * decay)} (shadow and param of a pair: same shape, shadow contiguous): one launch on a device for all pairs.
     */
    default void emaUpdate(List<Tensor> shadows, List<Tensor> params, double decay) {
        for (int i = 0; i < shadows.size(); i++) {
            Tensor s = shadows.get(i);
            s.copyFrom(s.mul(decay).add(params.get(i).mul(1 - decay)));
        }
    }

    /**
     * The backward pass of {@link #softmax}: from the softmax output y (or log-softmax output) and the output gradient
     * g, along {@code dim}: softmax {@code y (g - sum(g y))}; log-softmax {@code g - exp(y) sum(g)}. Both have y's shape.
     */
    Tensor softmaxBackward(Tensor output, Tensor gradOut, int dim, boolean log);
}
