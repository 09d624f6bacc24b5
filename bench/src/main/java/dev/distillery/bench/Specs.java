package dev.distillery.bench;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.Conv2dParams;

/**
 * The benchmark cases as {@link Spec} records, and the op sequences they time. Every case's inputs come from
 * {@link Tensor#randn} with a fixed seed; outputs are returned to the caller (never discarded).
 *
 * <p>The PyTorch twins of these sequences live in {@code bench/peers/torch_cases.py}; keep the two doing the same
 * work (same shapes, same number of passes over memory where it matters).
 */
public final class Specs {
    private Specs() {}

    private static final int F32_BYTES = 4;

    // ------------------------------------------------------------------------------------------ matmul

    /**
     * Batched matmul [batch, m, k] x [batch, k, n]. With {@code transposedB} the right operand is stored [batch, n, k]
     * and passed as its {@code mT()} view (attention's q k^T reads k that way).
     */
    public record Gemm(int batch, int m, int k, int n, boolean transposedB) implements Spec {
        public static Gemm square(int size) {
            return new Gemm(1, size, size, size, false);
        }

        @Override public double flops() { return 2.0 * batch * m * k * n; }
        @Override public double bytes() { return 0; }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            Tensor a = BenchDevice.put(batch == 1 ? Tensor.randn(rng, dtype, m, k) : Tensor.randn(rng, dtype, batch, m, k));
            Tensor b;
            if (transposedB) b = BenchDevice.put(batch == 1 ? Tensor.randn(rng, dtype, n, k) : Tensor.randn(rng, dtype, batch, n, k)).mT();
            else b = BenchDevice.put(batch == 1 ? Tensor.randn(rng, dtype, k, n) : Tensor.randn(rng, dtype, batch, k, n));
            return () -> a.matmul(b);
        }
    }

    // ------------------------------------------------------------------------------------------ conv2d

    /** Which passes of a convolution a {@link Conv} case runs. */
    public enum ConvPass {
        /** y = conv2d(x, w, b). */
        FORWARD(1),
        /** dx = conv2dBackwardInput(dy, w). */
        BACKWARD_INPUT(1),
        /** dw = conv2dBackwardWeight(dy, x). */
        BACKWARD_WEIGHT(1),
        /** Forward, both backward passes and the bias gradient dy.sum(0, 2, 3): one training step of the layer. */
        FORWARD_BACKWARD(3);

        final int convs;

        ConvPass(int convs) {
            this.convs = convs;
        }

        /** Parses JMH-style names: forward, backwardInput, backwardWeight, forwardBackward. */
        public static ConvPass parse(String s) {
            return switch (s) {
                case "forward", "fwd" -> FORWARD;
                case "backwardInput", "bwd-input" -> BACKWARD_INPUT;
                case "backwardWeight", "bwd-weight" -> BACKWARD_WEIGHT;
                case "forwardBackward", "fwdbwd" -> FORWARD_BACKWARD;
                default -> throw new IllegalArgumentException("unknown conv pass '" + s + "'");
            };
        }
    }

    /** Square-kernel conv2d, stride 1, [n, c, h, w] with weight [o, c, kernel, kernel] and a bias. */
    public record Conv(int n, int c, int o, int h, int w, int kernel, int pad, ConvPass pass) implements Spec {
        /** The UNet's 3x3 "same" conv: batch 32, {@code channels} to {@code channels} at {@code size}x{@code size}. */
        public static Conv same3x3(int batch, int channels, int size, ConvPass pass) {
            return new Conv(batch, channels, channels, size, size, 3, 1, pass);
        }

        public int outH() { return Conv2dParams.convOut(h, kernel, 1, pad, 1); }
        public int outW() { return Conv2dParams.convOut(w, kernel, 1, pad, 1); }

        @Override
        public double flops() {
            return pass.convs * 2.0 * n * o * outH() * outW() * c * kernel * kernel;
        }

        @Override public double bytes() { return 0; }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            double fanIn = (double) c * kernel * kernel;
            Tensor x = BenchDevice.put(Tensor.randn(rng, dtype, n, c, h, w));
            Tensor wt = BenchDevice.put(Tensor.randn(rng, dtype, o, c, kernel, kernel).mul(1.0 / Math.sqrt(fanIn)));
            Tensor bias = BenchDevice.put(Tensor.randn(rng, dtype, o));
            Tensor gy = BenchDevice.put(Tensor.randn(rng, dtype, n, o, outH(), outW()));
            Conv2dParams p = Conv2dParams.of(1, pad);
            int[] xShape = x.shape(), wShape = wt.shape();
            Backend be = Backends.forDevice(x.device());
            return switch (pass) {
                case FORWARD -> () -> x.conv2d(wt, bias, p);
                case BACKWARD_INPUT -> () -> be.conv2dBackwardInput(gy, wt, xShape, p);
                case BACKWARD_WEIGHT -> () -> be.conv2dBackwardWeight(gy, x, wShape, p);
                case FORWARD_BACKWARD -> () -> new Tensor[]{
                        x.conv2d(wt, bias, p),
                        be.conv2dBackwardInput(gy, wt, xShape, p),
                        be.conv2dBackwardWeight(gy, x, wShape, p),
                        gy.sum(0, 2, 3)};
            };
        }
    }

    // ------------------------------------------------------------------------------------------ group norm

    /** Group norm forward of [n, c, h, w] with affine weight and bias, eps 1e-5. */
    public record GroupNorm(int n, int c, int h, int w, int groups) implements Spec {
        @Override public double flops() { return 0; }
        @Override public double bytes() { return 2.0 * F32_BYTES * n * c * h * w; }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            Tensor x = Tensor.randn(rng, dtype, n, c, h, w);
            Tensor weight = Tensor.randn(rng, dtype, c);
            Tensor bias = Tensor.randn(rng, dtype, c);
            return () -> x.groupNorm(groups, weight, bias, 1e-5);
        }
    }

    // ------------------------------------------------------------------------------------------ attention

    /**
     * Softmax attention over q, k, v [batch, heads, seq, dim]: o = softmax(q k^T / sqrt(dim)) v, and with
     * {@code backward} also dq, dk, dv for a given do, written out with matmuls and the softmax backward formula.
     */
    public record Attention(int batch, int heads, int seq, int dim, boolean backward) implements Spec {
        @Override
        public double flops() {
            double one = 2.0 * batch * heads * seq * seq * dim; // one [seq, dim] x [dim, seq]-sized matmul
            return (backward ? 6 : 2) * one;
        }

        @Override
        public double bytes() {
            return 0;
        }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            Tensor q = Tensor.randn(rng, dtype, batch, heads, seq, dim);
            Tensor k = Tensor.randn(rng, dtype, batch, heads, seq, dim);
            Tensor v = Tensor.randn(rng, dtype, batch, heads, seq, dim);
            Tensor gOut = Tensor.randn(rng, dtype, batch, heads, seq, dim);
            double scale = 1.0 / Math.sqrt(dim);
            if (!backward) return () -> attentionForward(q, k, v, scale).out();
            return () -> {
                Fwd f = attentionForward(q, k, v, scale);
                return new Object[]{f.out(), attentionBackward(q, k, v, f.probs(), gOut, scale)};
            };
        }
    }

    /** Attention forward result: the output and the probabilities the backward pass needs. */
    public record Fwd(Tensor out, Tensor probs) {}

    /** Attention input gradients. */
    public record Grads(Tensor dq, Tensor dk, Tensor dv) {}

    /** o = softmax(q k^T * scale) v over the last two dims. */
    public static Fwd attentionForward(Tensor q, Tensor k, Tensor v, double scale) {
        Tensor scores = q.matmul(k.mT()).mul(scale);
        Tensor p = scores.softmax(-1);
        return new Fwd(p.matmul(v), p);
    }

    /**
     * Gradients of {@link #attentionForward} given {@code dOut}: dv = p^T do; dp = do v^T;
     * ds = p * (dp - sum(dp * p, -1)) * scale; dq = ds k; dk = ds^T q.
     */
    public static Grads attentionBackward(Tensor q, Tensor k, Tensor v, Tensor p, Tensor dOut, double scale) {
        Tensor dv = p.mT().matmul(dOut);
        Tensor dp = dOut.matmul(v.mT());
        Tensor ds = p.mul(dp.sub(dp.mul(p).sum(new int[]{-1}, true))).mul(scale);
        Tensor dq = ds.matmul(k);
        Tensor dk = ds.mT().matmul(q);
        return new Grads(dq, dk, dv);
    }

    // ------------------------------------------------------------------------------------------ elementwise

    /** y = silu(x) over a flat tensor of {@code n} elements. */
    /**
     * {@code ops} small elementwise ops in a chain (alternately x * 0.999 and x + 0.001 on n floats), each one kernel
     * launch on a device: the time per op is what a device backend pays per launch, whatever the kernel does, and what
     * a small model pays hundreds of times per training step ({@code bench/device-compare launch-overhead}; PyTorch's
     * twin runs the same chain, so the ratio compares the two per-op costs).
     */
    public record LaunchChain(int ops, int n) implements Spec {
        @Override public double flops() { return 0; }
        @Override public double bytes() { return 2.0 * F32_BYTES * n * ops; }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Tensor x = BenchDevice.put(Tensor.randn(new Rng(seed), dtype, n));
            return () -> {
                Tensor y = x;
                for (int i = 0; i < ops; i++) y = i % 2 == 0 ? y.mul(0.999) : y.add(0.001);
                return y;
            };
        }
    }

    public record Silu(int n) implements Spec {
        @Override public double flops() { return 0; }
        @Override public double bytes() { return 2.0 * F32_BYTES * n; }

        @Override
        public Workload prepare(DType dtype, long seed) {
            Tensor x = Tensor.randn(new Rng(seed), dtype, n);
            return x::silu;
        }
    }
}
