package dev.distillery.autograd;

import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.GroupNorm;
import dev.distillery.autograd.nn.LayerNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.autograd.optim.Sgd;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.testing.Golden;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static dev.distillery.tensor.testing.TensorAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forward outputs, input gradients and parameter gradients against PyTorch 1.13 (fixtures:
 * src/test/resources/golden/gen_autograd.py), in float32 on the default backend. Tolerance: rtol 1e-4, atol 1e-5
 * for ops; rtol 1e-4, atol 5e-5 for blocks (float32 sums over a few hundred terms in another order).
 */
class AutogradGoldenTest {
    private static final Map<String, Tensor> FX = Golden.load("autograd.safetensors");

    private static Tensor fx(String key) {
        Tensor t = FX.get(key);
        if (t == null) throw new IllegalStateException("fixture key " + key + " missing");
        return t;
    }

    private static void checkOp(String name, Function<Variable[], Variable> f, double rtol, double atol) {
        int n = 0;
        while (FX.containsKey(name + ".in" + n)) n++;
        Variable[] in = new Variable[n];
        for (int i = 0; i < n; i++) in[i] = Variable.leaf(fx(name + ".in" + i));
        Variable out = f.apply(in);
        assertClose(fx(name + ".out"), out.value(), rtol, atol, name + " output");
        out.backward(fx(name + ".up"));
        for (int i = 0; i < n; i++) assertClose(fx(name + ".grad" + i), in[i].grad(), rtol, atol, name + " gradient of input " + i);
    }

    @Test
    void opsMatchPyTorch() {
        checkOp("silu_mul_broadcast", v -> v[0].silu().mul(v[1]), 1e-4, 1e-5);
        checkOp("conv2d", v -> v[0].conv2d(v[1], v[2], Conv2dParams.of(2, 1, 1, 2)), 1e-4, 1e-5);
        checkOp("conv_transpose2d", v -> v[0].convTranspose2d(v[1], null, Conv2dParams.of(2, 1).withOutputPadding(1, 1)), 1e-4, 1e-5);
        checkOp("group_norm", v -> v[0].groupNorm(2, v[1], v[2], 1e-5), 1e-4, 1e-5);
        checkOp("layer_norm", v -> v[0].layerNorm(new int[]{6}, v[1], v[2], 1e-5), 1e-4, 1e-5);
        checkOp("softmax_matmul", v -> v[0].matmul(v[1].mT()).div(2).softmax(-1), 1e-4, 1e-5);
        checkOp("avg_max_pool", v -> v[0].avgPool2d(Pool2dParams.of(2, 2, 0)).add(v[0].maxPool2d(Pool2dParams.of(2, 2, 0))), 1e-4, 1e-5);
        checkOp("upsample", v -> v[0].upsampleNearest(8, 6).mul(0.5).add(v[0].upsampleBilinear(8, 6, false)), 1e-4, 1e-5);
        checkOp("gelu_logsumexp", v -> v[0].gelu().logsumexp(new int[]{1}, false), 1e-4, 1e-5);
        checkOp("var_mean", v -> v[0].var(new int[]{0}, 1, false).add(v[0].mean(new int[]{1}, true)), 1e-4, 1e-5);
    }

    /** diffusers ResnetBlock2D with the fixture's sizes. */
    static final class ResBlock extends Module {
        final GroupNorm norm1, norm2;
        final Conv2d conv1, conv2, shortcut;
        final Linear timeEmbProj;

        ResBlock(int cin, int cout, int temb, int groups, Rng rng) {
            norm1 = child("norm1", new GroupNorm(groups, cin, 1e-6, true));
            conv1 = child("conv1", new Conv2d(cin, cout, 3, 1, 1, true, rng));
            timeEmbProj = child("time_emb_proj", new Linear(temb, cout, true, rng));
            norm2 = child("norm2", new GroupNorm(groups, cout, 1e-6, true));
            conv2 = child("conv2", new Conv2d(cout, cout, 3, 1, 1, true, rng));
            shortcut = cin != cout ? child("conv_shortcut", new Conv2d(cin, cout, 1, 1, 0, true, rng)) : null;
        }

        /** The time embedding and the residual added by the convolutions ({@link Conv2d#forward(Variable, Variable)}), as ResnetBlock2D does. */
        Variable forward(Variable x, Variable t) {
            Variable h = conv1.forward(norm1.forward(x).silu(), timeEmbProj.forward(t.silu()).unsqueeze(-1).unsqueeze(-1));
            return conv2.forward(norm2.forward(h).silu(), shortcut != null ? shortcut.forward(x) : x);
        }
    }

    /** Spatial self-attention over [B, C, H, W] with diffusers' names. */
    static final class AttnBlock extends Module {
        final GroupNorm norm;
        final Attention attn;

        AttnBlock(int c, int heads, int groups, Rng rng) {
            norm = child("group_norm", new GroupNorm(groups, c, 1e-6, true));
            attn = new Attention(c, c, heads, c / heads, true, rng);
            // diffusers' Attention keeps group_norm beside to_q/to_k/to_v/to_out at the same level.
            attn.children().forEach((name, m) -> child(name, m));
        }

        Variable forward(Variable x) {
            int b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
            Variable s = norm.forward(x).reshape(b, c, h * w).transpose(1, 2);
            Variable a = attn.forward(s, null, false);
            return x.add(a.transpose(1, 2).reshape(b, c, h, w));
        }
    }

    /** Pre-LN transformer block with a causal self-attention and a GELU MLP. */
    static final class Block extends Module {
        final LayerNorm ln1, ln2;
        final Attention attn;
        final Linear fc1, fc2;

        Block(int d, int heads, Rng rng) {
            ln1 = child("ln_1", new LayerNorm(d, 1e-5, true));
            attn = new Attention(d, d, heads, d / heads, false, rng);
            attn.children().forEach((name, m) -> child(name, m));
            ln2 = child("ln_2", new LayerNorm(d, 1e-5, true));
            fc1 = child("fc1", new Linear(d, 4 * d, true, rng));
            fc2 = child("fc2", new Linear(4 * d, d, true, rng));
        }

        Variable forward(Variable x) {
            x = x.add(attn.forward(ln1.forward(x), null, true));
            return x.add(fc2.forward(fc1.forward(ln2.forward(x)).gelu()));
        }
    }

    static final class Transformer extends Module {
        final ModuleList<Block> layers = child("layers", new ModuleList<>());
        final LayerNorm finalNorm;

        Transformer(int d, int heads, Rng rng) {
            layers.add(new Block(d, heads, rng));
            layers.add(new Block(d, heads, rng));
            finalNorm = child("final_layer_norm", new LayerNorm(d, 1e-5, true));
        }

        Variable forward(Variable x) {
            for (Block b : layers) x = b.forward(x);
            return finalNorm.forward(x);
        }
    }

    private static Map<String, Tensor> withPrefix(String prefix) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        FX.forEach((k, v) -> {
            if (k.startsWith(prefix)) m.put(k.substring(prefix.length()), v);
        });
        return m;
    }

    private static void checkBlock(String name, Module block, Function<Variable[], Variable> forward) {
        var report = block.loadStateDict(withPrefix(name + ".param."), true);
        assertTrue(report.isClean(), report.toString());
        int n = 0;
        while (FX.containsKey(name + ".in" + n)) n++;
        Variable[] in = new Variable[n];
        for (int i = 0; i < n; i++) in[i] = Variable.leaf(fx(name + ".in" + i));
        Variable out = forward.apply(in);
        assertClose(fx(name + ".out"), out.value(), 1e-4, 5e-5, name + " output");
        out.backward(fx(name + ".up"));
        for (int i = 0; i < n; i++) assertClose(fx(name + ".grad" + i), in[i].grad(), 1e-4, 5e-5, name + " gradient of input " + i);
        Map<String, Tensor> pgrads = withPrefix(name + ".pgrad.");
        for (var e : block.namedParameters().entrySet())
            assertClose(pgrads.get(e.getKey()), e.getValue().grad(), 1e-4, 5e-5, name + " gradient of " + e.getKey());
        assertTrue(pgrads.keySet().equals(block.namedParameters().keySet()), "parameter names " + block.namedParameters().keySet() + " vs PyTorch " + pgrads.keySet());
    }

    @Test
    void resBlockMatchesPyTorch() {
        ResBlock b = new ResBlock(8, 12, 16, 4, new Rng(1));
        checkBlock("resblock", b, v -> b.forward(v[0], v[1]));
    }

    @Test
    void attentionBlockMatchesPyTorch() {
        AttnBlock b = new AttnBlock(8, 2, 4, new Rng(2));
        checkBlock("attnblock", b, v -> b.forward(v[0]));
    }

    @Test
    void twoLayerTransformerMatchesPyTorch() {
        Transformer t = new Transformer(16, 2, new Rng(3));
        checkBlock("transformer", t, v -> t.forward(v[0]));
    }

    private static void checkOptimizer(String name, Function<Map<String, Parameter>, Optimizer> make) {
        Linear lin = new Linear(5, 3, true, new Rng(0));
        lin.loadStateDict(withPrefix("opt_" + name + ".param."), true);
        Optimizer opt = make.apply(lin.namedParameters());
        Tensor x = fx("opt_" + name + ".x"), y = fx("opt_" + name + ".y");
        for (int i = 0; i < 3; i++) {
            opt.zeroGrad();
            lin.forward(Variable.constant(x)).sub(Variable.constant(y)).square().sum().backward();
            opt.step();
        }
        assertClose(fx("opt_" + name + ".final.weight"), lin.weight.value(), 1e-5, 1e-6, name + " weight after 3 steps");
        assertClose(fx("opt_" + name + ".final.bias"), lin.bias.value(), 1e-5, 1e-6, name + " bias after 3 steps");
    }

    @Test
    void optimizersMatchPyTorch() {
        checkOptimizer("adamw", p -> Adam.adamW(p, 0.05, 0.8, 0.95, 1e-8, 0.1));
        checkOptimizer("sgd", p -> new Sgd(p, 0.05, 0.9, 0.01));
    }
}
