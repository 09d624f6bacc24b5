package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Graph recording, NoGrad, detach, gradient accumulation and graph freeing. */
class VariableTest {
    private static Tensor t(float... v) {
        return Tensor.of(v, v.length);
    }

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Variable x = Variable.leaf(t(1, 2, 3));
        x.mul(2).sum().backward();
        assertArrayEquals(new float[]{2, 2, 2}, x.grad().toFloatArray());
        x.square().sum().backward();
        assertArrayEquals(new float[]{4, 6, 8}, x.grad().toFloatArray());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void noGradRecordsNothing() {
        Variable x = Variable.leaf(t(1, 2));
        Variable y;
        try (var s = NoGrad.enter()) {
            assertFalse(NoGrad.isGradEnabled());
            y = x.mul(3);
        }
        assertTrue(NoGrad.isGradEnabled());
        assertFalse(y.requiresGrad());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("does not require a gradient"), e.getMessage());
    }

    @Test
    void detachStopsTheGradient() {
        Variable x = Variable.leaf(t(2, 3));
        // d/dx [x * detach(x)] = detach(x): the detached factor is a constant.
        x.mul(x.detach()).sum().backward();
        assertArrayEquals(new float[]{2, 3}, x.grad().toFloatArray());
    }

    @Test
    void gradientWithRespectToANonParameterInput() {
        // Score distillation pushes gradients into generated images: any leaf can receive one.
        Variable image = Variable.leaf(Tensor.arange(6, DType.F32).view(1, 1, 2, 3));
        Variable loss = image.sub(1).square().mean();
        loss.backward();
        float[] g = image.grad().toFloatArray();
        for (int i = 0; i < 6; i++) assertEquals(2 * (i - 1) / 6f, g[i], 1e-6);
    }

    @Test
    void graphIsFreedAfterBackwardUnlessRetained() {
        Variable x = Variable.leaf(t(1, 2));
        Variable y = x.exp().sum();
        y.backward(Tensor.full(1, DType.F32), true);
        y.backward(Tensor.full(1, DType.F32), false);
        assertEquals(2 * Math.E, x.grad().toFloatArray()[0], 1e-5);
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("freed"), e.getMessage());
    }

    @Test
    void backwardChecksUpstreamShapeAndScalarness() {
        Variable x = Variable.leaf(t(1, 2));
        Variable y = x.mul(2);
        assertThrows(IllegalStateException.class, y::backward);
        assertThrows(IllegalArgumentException.class, () -> y.backward(Tensor.zeros(DType.F32, 3)));
    }

    @Test
    void diamondGraphSumsBothPaths() {
        Variable x = Variable.leaf(t(3));
        Variable a = x.mul(2), b = x.square();
        a.add(b).mul(a).sum().backward(); // f = (2x + x^2) 2x = 4x^2 + 2x^3; f' = 8x + 6x^2 = 78 at 3
        assertEquals(78, x.grad().toFloatArray()[0], 1e-4);
    }

    @Test
    void frozenLeavesGetNoGradient() {
        var lin = new dev.distillery.autograd.nn.Linear(3, 2, true, new dev.distillery.tensor.Rng(1));
        lin.bias.setFrozen(true);
        lin.forward(Variable.constant(Tensor.ones(DType.F32, 4, 3))).sum().backward();
        assertNotNull(lin.weight.grad());
        assertNull(lin.bias.grad());
    }
}
