package dev.distillery.autograd;

import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.testing.Golden;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward half of the coverage ledger (the gradient half is {@link OpGradCheckTest#everyOpHasAGradCheck}): every
 * op kind names the PyTorch golden forward case that tests it (tensor module, fixture ops_forward.safetensors) or,
 * for pure layout ops, the test class that checks them element by element. Adding an op without naming its forward
 * test fails here.
 */
class OpCoverageTest {
    private static final String VIEWS = "view:TensorViewTest";

    static final Map<String, String> FORWARD_TESTS = Map.ofEntries(
            entry("Unary.NEG", "unary_neg"), entry("Unary.EXP", "unary_exp"), entry("Unary.LOG", "unary_log"),
            entry("Unary.SQRT", "unary_sqrt"), entry("Unary.RSQRT", "unary_rsqrt"), entry("Unary.ABS", "unary_abs"),
            entry("Unary.TANH", "unary_tanh"), entry("Unary.SIGMOID", "unary_sigmoid"), entry("Unary.SILU", "unary_silu"),
            entry("Unary.GELU_TANH", "unary_gelu_tanh"), entry("Unary.GELU_ERF", "unary_gelu"), entry("Unary.RELU", "unary_relu"),
            entry("Unary.SQUARE", "unary_square"), entry("Unary.SIN", "unary_sin"), entry("Unary.COS", "unary_cos"),
            entry("Unary.RECIPROCAL", "unary_reciprocal"), entry("Unary.SIGN", "unary_sign"),
            entry("Unary.ADD_SCALAR", "autograd:var_mean"), entry("Unary.MUL_SCALAR", "autograd:upsample"),
            entry("Unary.POW_SCALAR", "unary_pow_scalar"), entry("Unary.RSUB_SCALAR", "unary_neg"),
            entry("Unary.CLAMP", "unary_clamp"), entry("Unary.LEAKY_RELU", "unary_leaky_relu"),
            entry("Binary.ADD", "binary_add"), entry("Binary.SUB", "binary_sub"), entry("Binary.MUL", "binary_mul"),
            entry("Binary.DIV", "binary_div"), entry("Binary.POW", "binary_pow"), entry("Binary.MAXIMUM", "binary_maximum"),
            entry("Binary.MINIMUM", "binary_minimum"), entry("Where", "where"),
            entry("Sum", "sum_02_keep"), entry("Mean", "mean_1"), entry("MaxMin", "max_last"), entry("Var", "var_1"),
            entry("LogSumExp", "logsumexp_2"), entry("MatMul", "matmul_batched"), entry("Conv2d", "conv2d"), entry("Conv2dAdd", "autograd:resblock"),
            entry("ConvTranspose2d", "conv_transpose2d"), entry("AvgPool2d", "avg_pool2d"), entry("MaxPool2d", "max_pool2d"),
            entry("Upsample2d", "bilinear"), entry("Softmax", "softmax_1"), entry("LayerNorm", "layer_norm"),
            entry("GroupNorm", "group_norm"), entry("Concat", "autograd:transformer"), entry("IndexSelect", "index_select_0"),
            entry("Gather", "gather_1"), entry("Pad", "pad_reflect"),
            entry("Reshape", VIEWS), entry("Permute", VIEWS), entry("Expand", VIEWS), entry("Slice", VIEWS),
            entry("Contiguous", VIEWS), entry("Cast", VIEWS));

    @Test
    void everyOpHasAForwardTest() {
        Map<String, Tensor> ops = Golden.load("ops_forward.safetensors"), blocks = Golden.load("autograd.safetensors");
        List<String> problems = new ArrayList<>();
        for (String op : Op.allOpNames()) {
            String test = FORWARD_TESTS.get(op);
            if (test == null) problems.add(op + ": no forward test named");
            else if (test.startsWith("autograd:")) {
                if (!blocks.containsKey(test.substring(9) + ".out")) problems.add(op + ": autograd fixture case " + test + " missing");
            } else if (!test.startsWith("view:") && !ops.containsKey(test + ".out")) problems.add(op + ": forward fixture case " + test + " missing");
        }
        for (String named : FORWARD_TESTS.keySet()) if (!Op.allOpNames().contains(named)) problems.add(named + ": names no op");
        assertTrue(problems.isEmpty(), String.join("; ", problems));
    }
}
