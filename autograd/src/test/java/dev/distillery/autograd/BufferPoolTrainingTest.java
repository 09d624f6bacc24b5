package dev.distillery.autograd;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.tensor.BufferPool;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.TensorScope;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training loop whose steps run in {@link TensorScope}s (each step's activations, gradients and temporaries go back
 * to the {@link BufferPool}) computes bit for bit what the same loop computes without scopes.
 */
class BufferPoolTrainingTest {
    private record Run(List<Double> losses, List<float[]> params, Tensor lastOutput) {}

    /** The golden test's diffusers ResBlock at a size whose activations are pooled at the default minLength (x: 4 x 8 x 32 x 32). */
    private static Run train(boolean scoped, int steps) {
        Rng rng = new Rng(7);
        var block = new AutogradGoldenTest.ResBlock(8, 12, 16, 4, rng);
        Optimizer opt = Adam.adamW(block.namedParameters(), 1e-2, 0.9, 0.999, 1e-8, 0.01);
        Tensor x = Tensor.randn(rng, DType.F32, 4, 8, 32, 32), t = Tensor.randn(rng, DType.F32, 4, 16);
        Tensor target = Tensor.randn(rng, DType.F32, 4, 12, 32, 32);
        List<Double> losses = new ArrayList<>();
        Tensor lastOutput = null;
        for (int i = 0; i < steps; i++) {
            TensorScope scope = scoped ? TensorScope.open() : null;
            try {
                opt.zeroGrad();
                Variable out = block.forward(Variable.constant(x), Variable.constant(t));
                Variable loss = out.mseLoss(Variable.constant(target));
                lastOutput = out.value();
                loss.backward();
                opt.step();
                losses.add(loss.value().item());
            } finally {
                if (scope != null) scope.close();
            }
        }
        List<float[]> params = new ArrayList<>();
        for (Parameter p : block.namedParameters().values()) params.add(p.value().toFloatArray());
        return new Run(losses, params, lastOutput);
    }

    @Test
    void scopedTrainingStepsGiveIdenticalLossesAndParameters() {
        Run plain = train(false, 4);
        long hits = BufferPool.stats().hits();
        Run scoped = train(true, 4);
        assertEquals(plain.losses(), scoped.losses());
        assertTrue(plain.losses().get(3) < plain.losses().get(0), "the loop trains: " + plain.losses());
        for (int i = 0; i < plain.params().size(); i++) assertArrayEquals(plain.params().get(i), scoped.params().get(i), "parameter " + i);
        if (BufferPool.enabled()) {
            assertTrue(BufferPool.stats().hits() > hits, "steps after the first reuse the previous step's arrays");
            // The last step's activations belonged to its scope: reading one afterwards fails instead of reading recycled data.
            assertThrows(IllegalStateException.class, () -> scoped.lastOutput().toFloatArray());
        }
        assertEquals(4 * 12 * 32 * 32, plain.lastOutput().toFloatArray().length, "unscoped: the output stays valid");
    }

}
