package dev.distillery.autograd;

import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The README's two code examples, kept compiling and running (smaller batch; files in a temp dir). */
class ReadmeExampleTest {
    @Test
    void readmeExamplesRun(@TempDir Path dir) throws Exception {
        Rng rng = new Rng(0);
        Tensor x = Tensor.randn(rng, DType.F32, 2, 64, 8, 8);
        Tensor w = Tensor.randn(rng, DType.F32, 64, 64, 3, 3).mul(0.05);
        Tensor y = x.conv2d(w, null, Conv2dParams.of(1, 1))
                .groupNorm(32, null, null, 1e-5).output()
                .silu();
        Tensor pooled = y.mean(2, 3);
        Tensor attn = pooled.matmul(pooled.mT()).div(8).softmax(-1);
        assertArrayEquals(new int[]{2, 2}, attn.shape());
        assertEquals(2, attn.sum().item(), 1e-5);
        Safetensors.write(dir.resolve("out.safetensors"), Map.of("attn", attn), Map.of());

        Linear layer = new Linear(64, 10, true, new Rng(1));
        Adam opt = Adam.adamW(layer.namedParameters(), 1e-3, 0.9, 0.999, 1e-8, 0.01);
        Variable loss = layer.forward(Variable.constant(pooled)).logSoftmax(-1).mean().neg();
        loss.backward();
        assertNotNull(layer.weight.grad());
        opt.step();
        Safetensors.write(dir.resolve("layer.safetensors"), layer.stateDict(), Map.of());
        assertEquals(layer.stateDict().keySet(), Safetensors.read(dir.resolve("layer.safetensors")).keySet());
    }
}
