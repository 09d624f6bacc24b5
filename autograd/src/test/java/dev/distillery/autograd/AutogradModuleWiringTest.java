package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The module builds against the tensor module and its tests run with the Vector API flags. */
class AutogradModuleWiringTest {
    @Test
    void tensorOpsRunFromThisModule() {
        Tensor x = Tensor.arange(4, DType.F32).view(2, 2);
        // [[0,1],[2,3]] @ itself = [[2,3],[6,11]], whose sum is 22.
        assertEquals(22, x.matmul(x).sum().item(), 1e-6);
        assertEquals(true, ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
    }
}
