package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.testing.TensorAsserts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A float64 finite-difference gradient check for every op in {@link Op} (each enum member of Unary and Binary
 * counted separately), with broadcasting, strided views, conv stride/padding/dilation/groups, and composites.
 * {@link #everyOpHasAGradCheck()} is the coverage ledger: a new op without a case here fails it.
 */
class OpGradCheckTest {
    record Case(String op, String name, Function<Variable[], Variable> f, Tensor[] inputs, boolean[] diff, GradCheck.Tolerance tol) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Case> CASES = new ArrayList<>();
    private static long seed = 100;

    private static Tensor rn(int... shape) {
        return TensorAsserts.randn(seed++, DType.F64, shape);
    }

    /** Random values kept at least 0.1 away from zero (kinks of abs, relu, sign). */
    private static Tensor awayFromZero(int... shape) {
        Tensor x = rn(shape);
        return x.sign().mul(x.abs().add(0.1));
    }

    private static Tensor positive(int... shape) {
        return rn(shape).abs().add(0.5);
    }

    private static void add(String op, String name, Function<Variable[], Variable> f, Tensor... inputs) {
        boolean[] d = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) d[i] = inputs[i].dtype() == DType.F64;
        CASES.add(new Case(op, name, f, inputs, d, GradCheck.Tolerance.DEFAULT));
    }

    private static void add(String op, Function<Variable[], Variable> f, Tensor... inputs) {
        add(op, op, f, inputs);
    }

    static {
        for (UnaryOp u : UnaryOp.values()) {
            Tensor x = switch (u) {
                case LOG, SQRT, RSQRT, RECIPROCAL, POW_SCALAR -> positive(3, 5);
                case ABS, RELU, SIGN, LEAKY_RELU -> awayFromZero(3, 5);
                default -> rn(3, 5);
            };
            double p0 = switch (u) {
                case ADD_SCALAR -> 0.3;
                case MUL_SCALAR -> -1.7;
                case POW_SCALAR -> 2.5;
                case RSUB_SCALAR -> 2;
                case CLAMP -> -0.5;
                case LEAKY_RELU -> 0.1;
                default -> 0;
            };
            double p1 = u == UnaryOp.CLAMP ? 0.7 : 0;
            // The strided form reads a transposed view, so kernels see non-unit strides.
            add("Unary." + u, "Unary." + u, v -> Variable.apply(new Op.Unary(u, p0, p1), v[0].mT()), x);
        }
        for (BinaryOp b : BinaryOp.values()) {
            Tensor a = b == BinaryOp.POW ? positive(3, 1, 4) : rn(3, 1, 4);
            Tensor c = b == BinaryOp.DIV ? positive(2, 1) : rn(2, 1);
            add("Binary." + b, v -> Variable.apply(new Op.Binary(b), v[0], v[1]), a, c);
        }
        // The condition is an F32 input (so not differentiated); the op reads it through gt(0).
        add("Where", v -> Variable.where(v[0].value().gt(0), v[1], v[2]), rn(2, 3).to(DType.F32), rn(2, 3), rn(1, 3));
        add("Sum", "Sum dims (0, 2) keepDim", v -> v[0].sum(new int[]{0, 2}, true), rn(3, 4, 2));
        add("Sum", "Sum all", v -> v[0].sum(), rn(3, 4));
        add("Mean", v -> v[0].mean(1), rn(3, 4, 2));
        add("MaxMin", "MaxMin max", v -> v[0].max(new int[]{1}, false), rn(3, 5));
        add("MaxMin", "MaxMin min keepDim", v -> v[0].min(new int[]{0}, true), rn(3, 5));
        add("Var", v -> v[0].var(new int[]{1}, 1, false), rn(3, 5));
        add("LogSumExp", v -> v[0].logsumexp(new int[]{-1}, true), rn(3, 5));
        add("MatMul", "MatMul batched broadcast", v -> v[0].matmul(v[1]), rn(2, 3, 4), rn(4, 5));
        add("MatMul", "MatMul transposed operands", v -> v[0].mT().matmul(v[1].mT()), rn(4, 3), rn(5, 4));
        add("MatMul", "MatMul batched input, transposed weight (Linear)", v -> v[0].matmul(v[1].mT()), rn(2, 3, 4), rn(5, 4));
        add("MatMul", "MatMul with bias (Linear's addmm)", v -> v[0].matmul(v[1].mT(), v[2]), rn(2, 3, 4), rn(5, 4), rn(5));
        add("MatMul", "MatMul vector with bias", v -> v[0].matmul(v[1], v[2]), rn(4), rn(4, 3), rn(3));
        add("MatMul", "MatMul permuted input, transposed weight", v -> v[0].transpose(0, 1).matmul(v[1].mT()), rn(3, 2, 4), rn(5, 4));
        add("MatMul", "MatMul vector", v -> v[0].matmul(v[1]), rn(4), rn(4, 3));
        add("MatMul", "MatMul per-head permuted operands (gradients written in the inputs' layouts)",
                v -> v[0].permute(0, 2, 1, 3).matmul(v[1].permute(0, 2, 3, 1)), rn(2, 3, 2, 4), rn(2, 5, 2, 4));
        add("MatMul", "MatMul 4-D permuted input with bias (Linear over leading dims that do not merge)",
                v -> v[0].permute(0, 2, 1, 3).matmul(v[1].mT(), v[2]), rn(2, 3, 2, 4), rn(5, 4), rn(5));
        add("Conv2d", "Conv2d stride/pad/dilation/groups + bias",
                v -> v[0].conv2d(v[1], v[2], new Conv2dParams(2, 1, 1, 2, 1, 2, 2, 0, 0)), rn(2, 4, 6, 5), rn(6, 2, 3, 3), rn(6));
        add("Conv2d", "Conv2d 1x1 no bias", v -> v[0].conv2d(v[1], null, Conv2dParams.of(1, 0)), rn(2, 3, 4, 4), rn(5, 3, 1, 1));
        add("Conv2dAdd", "Conv2dAdd + bias, per-channel addend (a time embedding)",
                v -> v[0].conv2dAdd(v[1], v[2], Conv2dParams.of(1, 1), v[3]), rn(2, 3, 4, 5), rn(4, 3, 3, 3), rn(4), rn(2, 4, 1, 1));
        add("Conv2dAdd", "Conv2dAdd stride 2 groups 2 no bias, full addend (a residual)",
                v -> v[0].conv2dAdd(v[1], null, new Conv2dParams(2, 2, 1, 1, 1, 1, 2, 0, 0), v[2]), rn(2, 4, 5, 5), rn(6, 2, 3, 3), rn(2, 6, 3, 3));
        add("ConvTranspose2d", "ConvTranspose2d stride 2 output padding + bias",
                v -> v[0].convTranspose2d(v[1], v[2], Conv2dParams.of(2, 1).withOutputPadding(1, 1)), rn(2, 4, 3, 4), rn(4, 3, 3, 3), rn(3));
        add("ConvTranspose2d", "ConvTranspose2d groups 2",
                v -> v[0].convTranspose2d(v[1], null, Conv2dParams.of(1, 0, 1, 2)), rn(1, 4, 3, 3), rn(4, 1, 2, 2));
        add("AvgPool2d", v -> v[0].avgPool2d(Pool2dParams.of(3, 2, 1)), rn(2, 3, 7, 6));
        add("MaxPool2d", v -> v[0].maxPool2d(Pool2dParams.of(3, 2, 1)), rn(2, 3, 7, 6));
        add("Upsample2d", "Upsample2d nearest", v -> v[0].upsampleNearest(7, 5), rn(2, 2, 3, 4));
        add("Upsample2d", "Upsample2d bilinear", v -> v[0].upsampleBilinear(7, 5, false), rn(2, 2, 3, 4));
        add("Upsample2d", "Upsample2d bilinear align corners", v -> v[0].upsampleBilinear(5, 9, true), rn(1, 2, 3, 4));
        add("Softmax", "Softmax dim 1", v -> v[0].softmax(1), rn(3, 5, 2));
        add("Softmax", "LogSoftmax last dim", v -> v[0].logSoftmax(-1), rn(3, 5));
        add("LayerNorm", "LayerNorm with affine", v -> v[0].layerNorm(new int[]{3, 4}, v[1], v[2], 1e-5), rn(2, 3, 4), rn(3, 4), rn(3, 4));
        add("LayerNorm", "LayerNorm without affine", v -> v[0].layerNorm(new int[]{5}, null, null, 1e-5), rn(4, 5));
        add("GroupNorm", "GroupNorm with affine", v -> v[0].groupNorm(2, v[1], v[2], 1e-5), rn(2, 4, 3, 2), rn(4), rn(4));
        add("GroupNorm", "GroupNorm weight only", v -> v[0].groupNorm(3, v[1], null, 1e-5), rn(2, 6, 5), rn(6));
        add("GroupNorm", "GroupNorm with affine, fused silu", v -> v[0].groupNorm(2, v[1], v[2], 1e-5, true), rn(2, 4, 3, 2), rn(4), rn(4));
        add("GroupNorm", "GroupNorm bias only, fused silu", v -> v[0].groupNorm(3, null, v[1], 1e-5, true), rn(2, 6, 5), rn(6));
        add("Concat", v -> Variable.concat(List.of(v[0], v[1]), 1), rn(2, 3), rn(2, 4));
        add("IndexSelect", "IndexSelect repeated indices", v -> v[0].indexSelect(0, Tensor.ofLongs(new long[]{2, 0, 2}, 3)), rn(4, 3));
        add("IndexSelect", "Embedding", v -> Variable.embedding(v[0], Tensor.ofLongs(new long[]{1, 1, 3, 0}, 2, 2)), rn(5, 3));
        add("Gather", v -> v[0].gather(1, Tensor.ofLongs(new long[]{0, 2, 2, 1, 1, 0}, 2, 3)), rn(2, 4));
        for (PadMode m : PadMode.values())
            add("Pad", "Pad " + m, v -> v[0].pad(new int[]{2, 1, 1, 2}, m, 0.5), rn(2, 3, 4));
        add("Reshape", v -> v[0].reshape(4, 3).mul(v[0].reshape(4, 3)), rn(2, 6));
        add("Permute", v -> v[0].permute(2, 0, 1), rn(2, 3, 4));
        add("Expand", v -> v[0].expand(2, 3, 4), rn(3, 1));
        add("Slice", v -> v[0].slice(1, 1, 6, 2).select(0, 1), rn(3, 7));
        add("Contiguous", v -> v[0].mT().contiguous(), rn(3, 4));
        CASES.add(new Case("Cast", "Cast through F32", v -> v[0].to(DType.F32).mul(3).to(DType.F64), new Tensor[]{rn(3, 2)}, new boolean[]{true},
                new GradCheck.Tolerance(1e-2, 1e-4, 1e-3)));
        add("composite", "attention (causal)", v -> Variable.attention(v[0], v[1], v[2], true, 0.5), rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 3));
        add("composite", "dropout", v -> v[0].dropout(0.3, new Rng(9)), rn(4, 5));
        add("composite", "mse loss", v -> v[0].tanh().mseLoss(v[1]), rn(3, 4), rn(3, 4));
        add("composite", "shared input used twice (gradient accumulation)", v -> v[0].mul(v[0].exp()).sum(new int[]{1}).add(v[0].sum(new int[]{1})), rn(3, 4));
        // x feeds silu, Linear, group norm, layer norm and x * x: the rules that can fold x's pending gradient into
        // their own (all but the product, where x appears twice) get one, whichever runs last
        add("composite", "shared input folded into unary, Linear and norm gradients",
                v -> v[0].matmul(v[1].mT(), v[2]).sum(new int[]{2})
                        .add(v[0].groupNorm(2, null, null, 1e-5).mul(v[0].silu()).sum(new int[]{2}))
                        .add(v[0].layerNorm(new int[]{3}, null, null, 1e-5).mul(v[0].mul(v[0])).sum(new int[]{2})),
                rn(2, 4, 3), rn(5, 3), rn(5));
        add("composite", "shared input folded into a conv input gradient, and one node taking x twice (conv and its addend)",
                v -> v[0].conv2d(v[1], null, Conv2dParams.of(1, 1)).mul(v[0].tanh()).add(v[0].conv2dAdd(v[1], null, Conv2dParams.of(1, 1), v[0])),
                rn(2, 3, 4, 5), rn(3, 3, 3, 3));
    }

    static Stream<Case> cases() {
        return CASES.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientMatchesFiniteDifferences(Case c) {
        GradCheck.check(c.name(), c.f(), c.inputs(), c.diff(), c.tol(), 11);
    }

    @Test
    void everyOpHasAGradCheck() {
        Map<String, Integer> covered = new LinkedHashMap<>();
        for (Case c : CASES) covered.merge(c.op(), 1, Integer::sum);
        List<String> missing = new ArrayList<>();
        for (String op : Op.allOpNames()) if (!covered.containsKey(op)) missing.add(op);
        assertTrue(missing.isEmpty(), "ops without a gradient check: " + missing);
    }
}
