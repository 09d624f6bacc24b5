package dev.distillery.autograd;

import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.BufferPool;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.TensorScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Early release of backward storages ({@link BackwardRelease}) inside a whole-step {@link TensorScope}: gradients are
 * bit for bit those of the same backward with release off (and unscoped), tensors the caller holds (the loss, the
 * model output, intermediates, the upstream gradient, leaf gradients) stay valid, and the scope holds fewer storages
 * at the end of backward. The suite runs with {@code -Ddistillery.pool.poison=true} and minLength 0, so every tensor
 * is pooled and a storage released too early reads as an exception (or NaN, if its array was handed out again).
 */
class BackwardReleaseTest {
    private final boolean initial = BackwardRelease.enabled();

    @AfterEach
    void restore() {
        BackwardRelease.setEnabled(initial);
    }

    /** What one scoped step computed, copied out before its scope closed. */
    private record Result(List<float[]> grads, List<float[]> held, int ownedAfterBackward) {}

    /**
     * One "training step": {@code step} builds the graph from fresh leaves and returns the tensors to read after
     * backward (result first, which is what backward starts from); grads of {@code leaves} are read after backward.
     */
    private interface Step {
        /** Returns {loss, then any variables the caller holds}; leaves are added to the list passed in. */
        List<Variable> build(List<Variable> leaves);
    }

    private static Result run(boolean release, boolean scoped, Step step) {
        BackwardRelease.setEnabled(release);
        TensorScope scope = scoped ? TensorScope.open() : null;
        try {
            List<Variable> leaves = new ArrayList<>();
            List<Variable> out = step.build(leaves);
            out.getFirst().backward();
            int owned = scope == null ? -1 : scope.ownedCount();
            List<float[]> grads = new ArrayList<>();
            for (Variable l : leaves) grads.add(l.grad() == null ? null : l.grad().toFloatArray());
            List<float[]> held = new ArrayList<>();
            for (Variable v : out) held.add(v.value().toFloatArray());
            return new Result(grads, held, owned);
        } finally {
            if (scope != null) scope.close();
        }
    }

    private static void assertSame(Result expected, Result actual) {
        assertEquals(expected.grads().size(), actual.grads().size());
        for (int i = 0; i < expected.grads().size(); i++) {
            assertTrue(expected.grads().get(i) != null, "leaf " + i + " got a gradient");
            assertArrayEquals(expected.grads().get(i), actual.grads().get(i), "gradient of leaf " + i);
            for (float f : actual.grads().get(i)) assertTrue(Float.isFinite(f), "gradient of leaf " + i + " is finite");
        }
        for (int i = 0; i < expected.held().size(); i++) assertArrayEquals(expected.held().get(i), actual.held().get(i), "held tensor " + i);
    }

    /** Off and unscoped, off and scoped, on and scoped: identical; returns {off scoped, on scoped}. */
    private static Result[] compare(Step step) {
        Result plain = run(false, false, step);
        Result off = run(false, true, step);
        Result on = run(true, true, step);
        assertSame(plain, off);
        assertSame(plain, on);
        return new Result[]{off, on};
    }

    private static Step mlp() {
        return leaves -> {
            Rng rng = new Rng(11);
            Linear l1 = new Linear(24, 48, true, rng), l2 = new Linear(48, 48, true, rng), l3 = new Linear(48, 8, true, rng);
            Variable x = Variable.leaf(Tensor.randn(rng, DType.F32, 16, 24));
            Tensor target = Tensor.randn(rng, DType.F32, 16, 8);
            for (Linear l : List.of(l1, l2, l3)) leaves.addAll(l.parameters());
            leaves.add(x);
            Variable h1 = l1.forward(x).gelu();
            Variable h2 = l2.forward(h1).silu().add(h1); // a residual: h1 is used twice
            Variable y = l3.forward(h2.tanh());
            Variable loss = y.mseLoss(Variable.constant(target));
            return List.of(loss, y, h1);
        };
    }

    /** Conv, GroupNorm, SiLU, self-attention over the pixels, residual: the shape of a diffusion UNet block. */
    private static Step convNormAttention() {
        return leaves -> {
            Rng rng = new Rng(12);
            int b = 2, c = 8, s = 6;
            Conv2d conv = new Conv2d(c, c, 3, 1, 1, true, rng);
            GroupNorm norm = new GroupNorm(4, c, 1e-5, true);
            Attention attn = new Attention(c, c, 2, 4, true, rng);
            Variable x = Variable.leaf(Tensor.randn(rng, DType.F32, b, c, s, s));
            Tensor target = Tensor.randn(rng, DType.F32, b, c, s, s);
            leaves.addAll(conv.parameters());
            leaves.addAll(norm.parameters());
            leaves.addAll(attn.parameters());
            leaves.add(x);
            Variable h = norm.forward(conv.forward(x)).silu();
            Variable seq = h.reshape(b, c, s * s).permute(0, 2, 1);
            Variable a = attn.forward(seq, null, false).permute(0, 2, 1).reshape(b, c, s, s);
            Variable y = a.add(x);
            Variable loss = y.mseLoss(Variable.constant(target));
            return List.of(loss, y, h);
        };
    }

    /** Views of one storage everywhere: reshape, expand, narrow, permute chains, a tensor used twice, x.add(x). */
    private static Step views() {
        return leaves -> {
            Rng rng = new Rng(13);
            Variable a = Variable.leaf(Tensor.randn(rng, DType.F32, 4, 6, 8));
            Variable bias = Variable.leaf(Tensor.randn(rng, DType.F32, 1, 6, 1));
            leaves.add(a);
            leaves.add(bias);
            Variable r = a.reshape(24, 8);
            Variable n1 = r.narrow(0, 2, 10), n2 = r.narrow(0, 12, 10);
            Variable e = bias.expand(4, 6, 8).add(a); // expand: the gradient to bias is a sum over a broadcast view
            Variable twice = n1.mul(n1).add(n1.add(n1)).sub(n2); // n1 used four times, x.add(x)
            Variable p = e.permute(2, 0, 1).reshape(8, 24).mT(); // [24, 8]
            Variable z = p.narrow(0, 2, 10).mul(twice).sum().add(e.square().mean());
            return List.of(z, e, r);
        };
    }

    @Test
    void mlpGradientsAreBitIdentical() {
        compare(mlp());
    }

    @Test
    void convGroupNormAttentionGradientsAreBitIdentical() {
        compare(convNormAttention());
    }

    @Test
    void viewSharingGraphGradientsAreBitIdentical() {
        compare(views());
    }

    @Test
    void retainGraphThenSecondBackwardAccumulatesIdentically() {
        Function<Boolean, List<float[]>> run = release -> {
            BackwardRelease.setEnabled(release);
            try (TensorScope scope = TensorScope.open()) {
                List<Variable> leaves = new ArrayList<>();
                List<Variable> out = views().build(leaves);
                Variable z = out.getFirst();
                Tensor upstream = Tensor.full(1, DType.F32, z.shape()).mul(0.5); // made in the scope: the caller's, must survive
                z.backward(upstream, true);
                List<float[]> r = new ArrayList<>();
                for (Variable l : leaves) r.add(l.grad().toFloatArray());
                z.backward(upstream, false); // walks the kept graph again; accumulates into the grads of the first
                for (Variable l : leaves) r.add(l.grad().toFloatArray());
                for (Variable v : out) r.add(v.value().toFloatArray());
                r.add(upstream.toFloatArray());
                // Mixed: also holds across the released storages of the second pass.
                r.add(out.get(1).value().add(out.get(1).value()).toFloatArray());
                return r;
            }
        };
        List<float[]> off = run.apply(false), on = run.apply(true);
        assertEquals(off.size(), on.size());
        for (int i = 0; i < off.size(); i++) assertArrayEquals(off.get(i), on.get(i), "tensor " + i);
        // The second backward doubled the first one's gradients (the graph is the same).
        int leaves = 2;
        for (int i = 0; i < leaves; i++) {
            float[] first = on.get(i), second = on.get(leaves + i);
            for (int j = 0; j < first.length; j++) assertEquals(2 * first[j], second[j], 1e-5f * Math.max(1, Math.abs(second[j])));
        }
    }

    @Test
    void gradientsAccumulatedOverTwoGraphsInOneScopeSurvive() {
        // Two losses on the same parameters in one scope: the first backward's leaf grads (scope-owned) must survive
        // the second backward, which adds into them.
        Function<Boolean, List<float[]>> run = release -> {
            BackwardRelease.setEnabled(release);
            try (TensorScope scope = TensorScope.open()) {
                Rng rng = new Rng(14);
                Linear l = new Linear(16, 16, true, rng);
                Tensor x = Tensor.randn(rng, DType.F32, 8, 16);
                Variable y1 = l.forward(Variable.constant(x)).silu();
                y1.sum().backward();
                Tensor firstGrad = l.weight.grad();
                float[] first = firstGrad.toFloatArray();
                l.forward(y1.detach()).square().mean().backward();
                List<float[]> r = new ArrayList<>(List.of(first, firstGrad.toFloatArray(), l.weight.grad().toFloatArray(), l.bias.grad().toFloatArray(), y1.value().toFloatArray()));
                return r;
            }
        };
        List<float[]> off = run.apply(false), on = run.apply(true);
        for (int i = 0; i < off.size(); i++) assertArrayEquals(off.get(i), on.get(i), "tensor " + i);
    }

    @Test
    void aWholeStepScopeHoldsFewerStoragesAfterBackward() {
        assumeTrue(BufferPool.enabled(), "the pool is off: scopes own nothing");
        for (Step step : List.of(mlp(), convNormAttention())) {
            Result[] r = compare(step);
            int off = r[0].ownedAfterBackward(), on = r[1].ownedAfterBackward();
            assertTrue(off > 0, "off: the scope owns the step's storages");
            assertTrue(on < off, "on: " + on + " storages, off: " + off);
            assertTrue(on < 0.8 * off, "release frees a good share of the backward's storages: " + on + " vs " + off);
        }
    }

    @Test
    void outsideAScopeNothingChanges() {
        BackwardRelease.setEnabled(true);
        assertTrue(TensorScope.current() == null);
        assertTrue(BackwardRelease.begin() == null, "no scope: no tracker");
        try (TensorScope scope = TensorScope.open()) {
            BackwardRelease.setEnabled(false);
            assertTrue(BackwardRelease.begin() == null, "switched off: no tracker");
            BackwardRelease.setEnabled(true);
            assertEquals(BufferPool.enabled(), BackwardRelease.begin() != null);
        }
    }

    @Test
    void parametersAreNotOwnedByTheScopeAndStayValid() {
        BackwardRelease.setEnabled(true);
        Rng rng = new Rng(15);
        Linear l = new Linear(8, 8, true, rng);
        float[] w = l.weight.value().toFloatArray();
        try (TensorScope scope = TensorScope.open()) {
            l.forward(Variable.constant(Tensor.randn(rng, DType.F32, 4, 8))).sum().backward();
            for (Parameter p : l.parameters()) assertTrue(Double.isFinite(p.grad().sum().item()));
        }
        assertArrayEquals(w, l.weight.value().toFloatArray());
    }
}
