package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.NormResult;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.backend.ValuesIndices;

import java.util.Arrays;
import java.util.List;

/**
 * The closed set of differentiable primitives. Each record holds the parameters of one op application and computes
 * its forward pass from input values; every backward rule lives in {@link Backprop}, in one exhaustive switch, so a
 * new op without a rule does not compile. Composite ops (attention, dropout, losses) are built from these in
 * {@link Variable} and need no rules of their own.
 *
 * <p>Inputs that carry no gradient (indices, masks, conditions) are passed as constant {@link Variable}s.
 */
public sealed interface Op {
    /** The op's output from its inputs' values. */
    Tensor forward(Tensor[] in);

    /**
     * The output followed by extra tensors the backward pass needs (max-pool indices, normalisation statistics);
     * ops that need none return just the output.
     */
    default Tensor[] forwardSaving(Tensor[] in) {
        return new Tensor[]{forward(in)};
    }

    /** A short name for error messages and the coverage ledger. */
    default String opName() {
        return getClass().getSimpleName();
    }

    // ----------------------------------------------------------------------------------------- elementwise

    /** Every elementwise op of one input ({@link UnaryOp}), with its scalar parameters. */
    record Unary(UnaryOp kind, double p0, double p1) implements Op {
        public Tensor forward(Tensor[] in) {
            Tensor x = in[0];
            return switch (kind) {
                case NEG -> x.neg();
                case EXP -> x.exp();
                case LOG -> x.log();
                case SQRT -> x.sqrt();
                case RSQRT -> x.rsqrt();
                case ABS -> x.abs();
                case TANH -> x.tanh();
                case SIGMOID -> x.sigmoid();
                case SILU -> x.silu();
                case GELU_TANH -> x.geluTanh();
                case GELU_ERF -> x.gelu();
                case RELU -> x.relu();
                case SQUARE -> x.square();
                case SIN -> x.sin();
                case COS -> x.cos();
                case RECIPROCAL -> x.reciprocal();
                case SIGN -> x.sign();
                case ADD_SCALAR -> x.add(p0);
                case MUL_SCALAR -> x.mul(p0);
                case POW_SCALAR -> x.pow(p0);
                case RSUB_SCALAR -> x.rsub(p0);
                case CLAMP -> x.clamp(p0, p1);
                case LEAKY_RELU -> x.leakyRelu(p0);
            };
        }

        public String opName() {
            return "Unary." + kind;
        }
    }

    /** Every elementwise op of two broadcast inputs ({@link BinaryOp}). */
    record Binary(BinaryOp kind) implements Op {
        public Tensor forward(Tensor[] in) {
            return switch (kind) {
                case ADD -> in[0].add(in[1]);
                case SUB -> in[0].sub(in[1]);
                case MUL -> in[0].mul(in[1]);
                case DIV -> in[0].div(in[1]);
                case POW -> in[0].pow(in[1]);
                case MAXIMUM -> in[0].maximum(in[1]);
                case MINIMUM -> in[0].minimum(in[1]);
            };
        }

        public String opName() {
            return "Binary." + kind;
        }
    }

    /** {@code cond ? a : b}; inputs (cond, a, b), cond constant. */
    record Where() implements Op {
        public Tensor forward(Tensor[] in) {
            return Tensor.where(in[0], in[1], in[2]);
        }
    }

    // ----------------------------------------------------------------------------------------- reductions

    record Sum(int[] dims, boolean keepDim) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].sum(dims, keepDim);
        }
    }

    record Mean(int[] dims, boolean keepDim) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].mean(dims, keepDim);
        }
    }

    /** Max or min over dims; the gradient is shared equally among tied extrema (as PyTorch's amax/amin). */
    record MaxMin(int[] dims, boolean keepDim, boolean max) implements Op {
        public Tensor forward(Tensor[] in) {
            return max ? in[0].max(dims, keepDim) : in[0].min(dims, keepDim);
        }
    }

    record Var(int[] dims, double correction, boolean keepDim) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].var(dims, correction, keepDim);
        }
    }

    record LogSumExp(int[] dims, boolean keepDim) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].logsumexp(dims, keepDim);
        }
    }

    // ----------------------------------------------------------------------------------------- linear algebra, convolution

    /** Matrix product of operands of rank >= 2 with broadcast batch dims. */
    /** Inputs (a, b) or (a, b, bias): a @ b, plus bias [N] over the rows (Linear's addmm) when given. */
    record MatMul() implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].matmul(in[1], in.length > 2 ? in[2] : null);
        }
    }

    /** Inputs (x, weight) or (x, weight, bias). */
    record Conv2d(Conv2dParams params) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].conv2d(in[1], in.length > 2 ? in[2] : null, params);
        }
    }

    /**
     * conv2d plus an addend, in one backend call ({@link Tensor#conv2dAdd}): inputs (x, weight, addend) or (x, weight,
     * bias, addend); the addend broadcasts to the output (a residual, or [N, O, 1, 1] time embedding).
     */
    record Conv2dAdd(Conv2dParams params) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].conv2dAdd(in[1], in.length > 3 ? in[2] : null, params, in[in.length - 1]);
        }
    }

    /** Inputs (x, weight) or (x, weight, bias); weight [C_in, C_out/groups, kH, kW]. */
    record ConvTranspose2d(Conv2dParams params) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].convTranspose2d(in[1], in.length > 2 ? in[2] : null, params);
        }
    }

    // ----------------------------------------------------------------------------------------- pooling, resizing

    record AvgPool2d(Pool2dParams params) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].avgPool2d(params);
        }
    }

    /** Saves the argmax indices. */
    record MaxPool2d(Pool2dParams params) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].maxPool2d(params).values();
        }

        public Tensor[] forwardSaving(Tensor[] in) {
            ValuesIndices r = in[0].maxPool2d(params);
            return new Tensor[]{r.values(), r.indices()};
        }
    }

    /** Nearest or bilinear resize of [N, C, H, W]. */
    record Upsample2d(int outH, int outW, boolean bilinear, boolean alignCorners) implements Op {
        public Tensor forward(Tensor[] in) {
            return bilinear ? in[0].upsampleBilinear(outH, outW, alignCorners) : in[0].upsampleNearest(outH, outW);
        }
    }

    // ----------------------------------------------------------------------------------------- normalisation

    record Softmax(int dim, boolean log) implements Op {
        public Tensor forward(Tensor[] in) {
            return log ? in[0].logSoftmax(dim) : in[0].softmax(dim);
        }
    }

    /** Inputs (x), (x, weight) or (x, weight, bias); saves mean and rstd. */
    record LayerNorm(int[] normalizedShape, double eps, boolean hasWeight, boolean hasBias) implements Op {
        public Tensor forward(Tensor[] in) {
            return forwardSaving(in)[0];
        }

        public Tensor[] forwardSaving(Tensor[] in) {
            NormResult r = in[0].layerNorm(normalizedShape, hasWeight ? in[1] : null, hasBias ? in[hasWeight ? 2 : 1] : null, eps);
            return new Tensor[]{r.output(), r.mean(), r.rstd()};
        }
    }

    /** Inputs (x), (x, weight) or (x, weight, bias); saves mean and rstd per (sample, group); silu: then silu, fused. */
    record GroupNorm(int groups, double eps, boolean hasWeight, boolean hasBias, boolean silu) implements Op {
        public Tensor forward(Tensor[] in) {
            return forwardSaving(in)[0];
        }

        public Tensor[] forwardSaving(Tensor[] in) {
            NormResult r = in[0].groupNorm(groups, hasWeight ? in[1] : null, hasBias ? in[hasWeight ? 2 : 1] : null, eps, silu);
            return new Tensor[]{r.output(), r.mean(), r.rstd()};
        }
    }

    // ----------------------------------------------------------------------------------------- joining, indexing

    record Concat(int dim) implements Op {
        public Tensor forward(Tensor[] in) {
            return Tensor.concat(Arrays.asList(in), dim);
        }
    }

    /** Inputs (x, index); index constant I64, 1-D. */
    record IndexSelect(int dim) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].indexSelect(dim, in[1]);
        }
    }

    /** Inputs (x, index); index constant I64 of the output's shape. */
    record Gather(int dim) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].gather(dim, in[1]);
        }
    }

    /** {@code torch.nn.functional.pad} convention: (before, after) pairs from the last dim. */
    record Pad(int[] pads, PadMode mode, double value) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].pad(pads, mode, value);
        }
    }

    // ----------------------------------------------------------------------------------------- views and conversions

    record Reshape(int[] shape) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].reshape(shape);
        }
    }

    record Permute(int[] order) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].permute(order);
        }
    }

    record Expand(int[] shape) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].expand(shape);
        }
    }

    /** Python-style {@code [start:end:step]} along one dim. */
    record Slice(int dim, int start, int end, int step) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].slice(dim, start, end, step);
        }
    }

    /** A contiguous copy (values unchanged; the gradient passes through). */
    record Contiguous() implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].contiguous();
        }
    }

    record Cast(DType to) implements Op {
        public Tensor forward(Tensor[] in) {
            return in[0].to(to);
        }
    }

    /** Every op kind, including each enum member of {@link Unary} and {@link Binary}: the coverage ledger's universe. */
    static List<String> allOpNames() {
        var names = new java.util.ArrayList<String>();
        for (Class<?> c : Op.class.getPermittedSubclasses()) {
            if (c == Unary.class) for (UnaryOp u : UnaryOp.values()) names.add("Unary." + u);
            else if (c == Binary.class) for (BinaryOp b : BinaryOp.values()) names.add("Binary." + b);
            else names.add(c.getSimpleName());
        }
        return names;
    }
}
