package dev.distillery.autograd;

import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.autograd.optim.GradClip;
import dev.distillery.autograd.optim.LrSchedule;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.autograd.nn.TimestepEmbedding;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import dev.distillery.tensor.testing.TensorAsserts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ModuleAndOptimTest {
    static final class Net extends Module {
        final ModuleList<Module> blocks = child("down_blocks", new ModuleList<>());
        final Linear head;

        Net(Rng rng) {
            Module b0 = blocks.add(new Block(rng));
            blocks.add(new Block(rng));
            head = child("head", new Linear(4, 2, true, rng));
        }

        Variable forward(Variable x) {
            for (Module b : blocks) x = ((Block) b).forward(x);
            return head.forward(x.mean(new int[]{2, 3}, false));
        }
    }

    static final class Block extends Module {
        final GroupNorm norm1 = child("norm1", new GroupNorm(2, 4, 1e-5, true));
        final Conv2d conv1;

        Block(Rng rng) {
            conv1 = child("conv1", new Conv2d(4, 4, 3, 1, 1, true, rng));
        }

        Variable forward(Variable x) {
            return conv1.forward(norm1.forward(x).silu());
        }
    }

    @Test
    void moduleToTheDeviceItIsOnKeepsEveryParameterAndTensor() {
        Net net = new Net(new Rng(3));
        Map<String, dev.distillery.autograd.nn.Parameter> before = net.namedParameters();
        Map<String, Tensor> values = new LinkedHashMap<>();
        before.forEach((k, p) -> values.put(k, p.value()));
        Variable x = Variable.constant(Tensor.randn(new Rng(4), DType.F32, 2, 4, 5, 5));
        net.forward(x).square().mean().backward();
        Map<String, Tensor> grads = new LinkedHashMap<>();
        before.forEach((k, p) -> grads.put(k, p.grad()));

        assertSame(net, net.to(Device.CPU));
        Map<String, dev.distillery.autograd.nn.Parameter> after = net.namedParameters();
        assertEquals(before.keySet(), after.keySet());
        after.forEach((k, p) -> {
            assertSame(before.get(k), p, k + ": the same Parameter object");
            assertSame(values.get(k), p.value(), k + ": no copy when already on the device");
            assertSame(grads.get(k), p.grad(), k + ": the gradient stays");
            assertEquals(Device.CPU, p.device());
        });
        // An optimiser built after the move trains as before; its state lives on the parameters' device.
        Optimizer opt = Adam.adamW(after, 1e-2, 0.9, 0.99, 1e-8, 0.01);
        opt.step();
        opt.stateDict().forEach((k, t) -> assertEquals(Device.CPU, t.device(), k));
    }

    @Test
    void linearWeightGradientIsComputedInTheWeightsLayout() {
        Linear lin = new Linear(4, 3, true, new Rng(7));
        Tensor x = Tensor.randn(new Rng(8), DType.F32, 2, 5, 4), g = Tensor.randn(new Rng(9), DType.F32, 2, 5, 3);
        Tensor wT = lin.weight.value().mT();
        Tensor gradWT = Backprop.backward(new Op.MatMul(), new Tensor[]{x, wT}, x.matmul(wT), new Tensor[0], g)[1];
        // the gradient of weight.mT() is the transpose of a contiguous [out, in] matrix, so the weight receives it
        // without a copy (a device launch per Linear per step)
        assertTrue(gradWT.mT().isContiguous(), "gradient of weight.mT() is not laid out as weight");
        TensorAsserts.assertClose(x.reshape(10, 4).mT().matmul(g.reshape(10, 3)), gradWT, 1e-5, 1e-6, "dL/dW^T = x^T g summed over the batch");
        // a strided input (attention's transposed hidden states): batched on its strides, the same layout
        Tensor xt = x.transpose(0, 1).contiguous().transpose(0, 1);
        Tensor gradStrided = Backprop.backward(new Op.MatMul(), new Tensor[]{xt, wT}, xt.matmul(wT), new Tensor[0], g)[1];
        assertTrue(gradStrided.mT().isContiguous(), "gradient of weight.mT() for a strided input is not laid out as weight");
        TensorAsserts.assertClose(gradWT, gradStrided, 1e-5, 1e-6, "strided input");
    }

    @Test
    void fusedGroupNormSiluEqualsGroupNormThenSilu() {
        GroupNorm norm = new GroupNorm(4, 8, 1e-6, true);
        norm.weight.value().copyFrom(Tensor.randn(new Rng(11), DType.F32, 8));
        norm.bias.value().copyFrom(Tensor.randn(new Rng(12), DType.F32, 8));
        Tensor x = Tensor.randn(new Rng(13), DType.F32, 3, 8, 5, 7).mul(2).add(1), g = Tensor.randn(new Rng(14), DType.F32, 3, 8, 5, 7);
        Tensor[] fused = normOutputAndGradients(norm, x, g, true), composite = normOutputAndGradients(norm, x, g, false);
        String[] what = {"output", "input gradient", "weight gradient", "bias gradient"};
        for (int i = 0; i < 4; i++) TensorAsserts.assertClose(composite[i], fused[i], 1e-5, 1e-5, "fused vs composite " + what[i]);
    }

    private static Tensor[] normOutputAndGradients(GroupNorm norm, Tensor x, Tensor g, boolean fused) {
        norm.zeroGrad();
        Variable xv = Variable.leaf(x.copy());
        Variable y = fused ? norm.forwardSilu(xv) : norm.forward(xv).silu();
        y.mul(Variable.constant(g)).sum().backward();
        return new Tensor[]{y.value(), xv.grad(), norm.weight.grad(), norm.bias.grad()};
    }

    @Test
    void stateDictUsesDottedStateDictKeys() {
        Net n = new Net(new Rng(0));
        assertEquals(List.of("down_blocks.0.norm1.weight", "down_blocks.0.norm1.bias", "down_blocks.0.conv1.weight", "down_blocks.0.conv1.bias",
                "down_blocks.1.norm1.weight", "down_blocks.1.norm1.bias", "down_blocks.1.conv1.weight", "down_blocks.1.conv1.bias",
                "head.weight", "head.bias"), List.copyOf(n.stateDict().keySet()));
        assertEquals(2 * (4 + 4 + 4 * 4 * 9 + 4) + 8 + 2, n.parameterCount());
    }

    @Test
    void strictLoadReportsMissingUnexpectedAndMisshapedKeys() {
        Net n = new Net(new Rng(0));
        Map<String, Tensor> sd = new LinkedHashMap<>(new Net(new Rng(1)).stateDict());
        sd.remove("head.bias");
        sd.put("head.extra", Tensor.zeros(DType.F32, 1));
        sd.put("head.weight", Tensor.zeros(DType.F32, 3, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> n.loadStateDict(sd, true));
        assertTrue(e.getMessage().contains("head.bias") && e.getMessage().contains("head.extra") && e.getMessage().contains("[3, 4]"), e.getMessage());
        // Nothing changed by the failed strict load.
        assertNotEquals(0, n.head.weight.value().abs().sum().item());
        Module.LoadReport r = n.loadStateDict(sd, false);
        assertEquals(List.of("head.bias"), r.missing());
        assertEquals(List.of("head.extra"), r.unexpected());
        TensorAsserts.assertIdentical(sd.get("down_blocks.1.conv1.weight"), n.stateDict().get("down_blocks.1.conv1.weight"), "loaded");
    }

    private static double trainSteps(Net net, Optimizer opt, Rng data, int steps) {
        double loss = 0;
        for (int i = 0; i < steps; i++) {
            Tensor x = Tensor.randn(data, DType.F32, 3, 4, 5, 5), y = Tensor.randn(data, DType.F32, 3, 2);
            opt.zeroGrad();
            Variable l = net.forward(Variable.constant(x)).sub(Variable.constant(y)).square().mean();
            l.backward();
            GradClip.clipGradNorm(net.parameters(), 1.0);
            opt.step();
            loss = l.item();
        }
        return loss;
    }

    @Test
    void optimizerStateRoundTripsThroughSafetensorsBitForBit(@TempDir Path dir) throws Exception {
        Net a = new Net(new Rng(5));
        Optimizer oa = Adam.adamW(a.namedParameters(), 1e-2, 0.9, 0.99, 1e-8, 0.01);
        Rng dataA = new Rng(77);
        trainSteps(a, oa, dataA, 6);

        Net b = new Net(new Rng(5));
        Optimizer ob = Adam.adamW(b.namedParameters(), 1e-2, 0.9, 0.99, 1e-8, 0.01);
        Rng dataB = new Rng(77);
        trainSteps(b, ob, dataB, 3);
        Safetensors.write(dir.resolve("model.safetensors"), b.stateDict(), Map.of());
        Safetensors.write(dir.resolve("optim.safetensors"), ob.stateDict(), Map.of());
        long dataOffset = dataB.offset();

        Net c = new Net(new Rng(123));
        c.loadStateDict(Safetensors.read(dir.resolve("model.safetensors")), true);
        Optimizer oc = Adam.adamW(c.namedParameters(), 1e-2, 0.9, 0.99, 1e-8, 0.01);
        oc.loadStateDict(Safetensors.read(dir.resolve("optim.safetensors")));
        assertEquals(3, oc.stepCount());
        trainSteps(c, oc, new Rng(77, dataOffset), 3);

        for (var e : a.stateDict().entrySet())
            TensorAsserts.assertIdentical(e.getValue(), c.stateDict().get(e.getKey()), "resumed " + e.getKey());
    }

    @Test
    void trainingReducesTheLoss() {
        Net n = new Net(new Rng(2));
        Optimizer o = Adam.adam(n.namedParameters(), 3e-3, 0, 0.99, 1e-8, 0); // beta1 = 0 is allowed
        Tensor x = Tensor.randn(new Rng(3), DType.F32, 8, 4, 5, 5), y = Tensor.randn(new Rng(4), DType.F32, 8, 2);
        double first = 0, last = 0;
        for (int i = 0; i < 60; i++) {
            o.zeroGrad();
            Variable l = n.forward(Variable.constant(x)).sub(Variable.constant(y)).square().mean();
            l.backward();
            o.step();
            if (i == 0) first = l.item();
            last = l.item();
        }
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
    }

    @Test
    void emaAndSchedulesAndClipping() {
        Net n = new Net(new Rng(0));
        Ema ema = new Ema(n, 0.9);
        Tensor before = n.head.bias.value().copy();
        n.head.bias.value().copyFrom(before.add(1));
        ema.update();
        TensorAsserts.assertClose(before.add(0.1), ema.stateDict().get("head.bias"), 1e-6, 1e-6, "ema");

        LrSchedule warm = LrSchedule.constantWithWarmup(1e-3, 10);
        assertEquals(5e-4, warm.at(5), 1e-15);
        assertEquals(1e-3, warm.at(50), 0);
        LrSchedule cos = LrSchedule.cosine(1.0, 0.1, 0, 100);
        assertEquals(1.0, cos.at(0), 1e-12);
        assertEquals(0.55, cos.at(50), 1e-12);
        assertEquals(0.1, cos.at(100), 1e-12);

        n.head.weight.setGrad(Tensor.full(3, DType.F32, 2, 4));
        n.head.bias.setGrad(Tensor.full(4, DType.F32, 2));
        double norm = GradClip.clipGradNorm(List.of(n.head.weight, n.head.bias), 1.0);
        assertEquals(Math.sqrt(8 * 9 + 2 * 16), norm, 1e-5);
        double after = Math.sqrt(n.head.weight.grad().square().sum().item() + n.head.bias.grad().square().sum().item());
        assertEquals(1.0, after, 1e-5);
    }

    @Test
    void sinusoidalTimestepEmbeddingMatchesDiffusersFormula() {
        Tensor emb = TimestepEmbedding.sinusoidal(Tensor.of(new float[]{0, 10}, 2), 6, true, 1, 1, 10000);
        // half = 3, exponent_i = -ln(1e4) i / (3 - 1): freqs 1, 0.01, 1e-4; flip puts cos first.
        assertArrayEquals(new int[]{2, 6}, emb.shape());
        assertEquals(Math.cos(10), emb.get(1, 0), 1e-6);
        assertEquals(Math.cos(0.1), emb.get(1, 1), 1e-6);
        assertEquals(Math.sin(1e-3), emb.get(1, 5), 1e-6);
        assertEquals(1, emb.get(0, 2), 1e-6);
    }
}
