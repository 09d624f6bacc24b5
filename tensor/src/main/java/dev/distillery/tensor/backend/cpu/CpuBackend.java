package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.CompareOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.NormGradients;
import dev.distillery.tensor.backend.NormResult;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.RandomKind;
import dev.distillery.tensor.backend.ReduceOp;
import dev.distillery.tensor.backend.ReferenceBackend;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.backend.ValuesIndices;

import java.util.List;

/**
 * The fast CPU backend: Vector API kernels on heap arrays, parallel over the {@link Parallel} pool.
 * Ops without a fast kernel yet (matmul, conv2d and its gradients) fall back to {@link ReferenceBackend}; the
 * kernels live in {@link Copy}, {@link Elementwise}, {@link Reductions}, {@link Norms}, {@link Pooling} and
 * {@link Indexing}.
 */
public final class CpuBackend implements Backend {
    private static final System.Logger LOG = System.getLogger(CpuBackend.class.getName());
    private static final ReferenceBackend REF = ReferenceBackend.INSTANCE;

    private CpuBackend() {}

    /**
     * Creates the backend after checking that the Vector API module is readable (touching a vector class without it
     * fails deep inside a kernel with NoClassDefFoundError), and logs the species once.
     */
    public static CpuBackend create() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            throw new IllegalStateException("Distillery's CPU backend needs the Vector API: run java with --add-modules jdk.incubator.vector "
                    + "(or set JDK_JAVA_OPTIONS=\"--add-modules jdk.incubator.vector\"); use -Ddistillery.backend=reference for the slow scalar backend");
        LOG.log(System.Logger.Level.INFO, "CPU backend: {0} ({1} threads)", VectorInfo.describe(), Parallel.threads());
        return new CpuBackend();
    }

    @Override public String name() { return "cpu"; }

    @Override public Device device() { return Device.CPU; }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        return Tensor.of(Storage.allocate(dtype, Shapes.numel(shape)), shape);
    }

    @Override
    public Tensor uninitialized(DType dtype, int... shape) {
        return Tensor.of(Storage.allocateUninitialized(dtype, Shapes.numel(shape)), shape);
    }

    @Override public void copyInto(Tensor src, Tensor dst) { Copy.copyInto(src, dst); }
    @Override public Tensor unary(UnaryOp op, Tensor x, double p0, double p1) { return Elementwise.unary(op, x, p0, p1); }
    @Override public Tensor binary(BinaryOp op, Tensor a, Tensor b) { return Elementwise.binary(op, a, b); }
    @Override public Tensor compare(CompareOp op, Tensor a, Tensor b) { return Elementwise.compare(op, a, b); }
    @Override public Tensor where(Tensor cond, Tensor a, Tensor b) { return Elementwise.where(cond, a, b); }
    @Override public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, double correction) { return Reductions.reduce(op, x, dims, keepDim, correction); }
    @Override public Tensor matmul(Tensor a, Tensor b) { return LinearAlgebra.matmul(a, b); }
    @Override public Tensor conv2d(Tensor x, Tensor w, Tensor bias, Conv2dParams p) { return LinearAlgebra.conv2d(x, w, bias, p); }
    @Override public Tensor conv2dBackwardInput(Tensor gy, Tensor w, int[] inputShape, Conv2dParams p) { return LinearAlgebra.conv2dBackwardInput(gy, w, inputShape, p); }
    @Override public Tensor conv2dBackwardWeight(Tensor gy, Tensor x, int[] weightShape, Conv2dParams p) { return LinearAlgebra.conv2dBackwardWeight(gy, x, weightShape, p); }
    @Override public Tensor avgPool2d(Tensor x, Pool2dParams p) { return Pooling.avgPool2d(x, p); }
    @Override public ValuesIndices maxPool2d(Tensor x, Pool2dParams p) { return Pooling.maxPool2d(x, p); }
    @Override public Tensor upsample2d(Tensor x, int outH, int outW, boolean bilinear, boolean alignCorners) { return Pooling.upsample2d(x, outH, outW, bilinear, alignCorners); }
    @Override public Tensor softmax(Tensor x, int dim, boolean log) { return Norms.softmax(x, dim, log); }
    @Override public Tensor softmaxBackward(Tensor y, Tensor g, int dim, boolean log) { return Norms.softmaxBackward(y, g, dim, log); }
    @Override public NormResult layerNorm(Tensor x, Tensor w, Tensor b, int normSize, double eps) { return Norms.layerNorm(x, w, b, normSize, eps); }
    @Override public NormResult groupNorm(Tensor x, int groups, Tensor w, Tensor b, double eps, boolean silu) { return Norms.groupNorm(x, groups, w, b, eps, silu); }
    @Override public NormGradients layerNormBackward(Tensor g, Tensor x, Tensor mean, Tensor rstd, Tensor w, int normSize, boolean affineGrads) {
        return Norms.layerNormBackward(g, x, mean, rstd, w, normSize, affineGrads);
    }
    @Override public NormGradients groupNormBackward(Tensor g, Tensor x, Tensor mean, Tensor rstd, Tensor w, Tensor b, int groups, boolean silu,
                                                     boolean affineGrads) {
        return Norms.groupNormBackward(g, x, mean, rstd, w, b, groups, silu, affineGrads);
    }
    @Override public Tensor concat(List<Tensor> parts, int dim) { return Indexing.concat(parts, dim); }
    @Override public Tensor indexSelect(Tensor x, int dim, Tensor index) { return Indexing.indexSelect(x, dim, index); }
    @Override public Tensor gather(Tensor x, int dim, Tensor index) { return Indexing.gather(x, dim, index); }
    @Override public Tensor pad(Tensor x, int[] pads, PadMode mode, double value) { return Indexing.pad(x, pads, mode, value); }
    @Override public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1) { return Gradients.unaryBackward(op, x, gradOut, p0, p1); }
    @Override public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled, long step) {
        OptimizerKernels.adamStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }
    @Override public Tensor scatterAdd(Tensor index, Tensor src, int dim, int[] outShape) { return Gradients.scatterAdd(index, src, dim, outShape); }

    @Override
    public void fillRandom(Tensor dst, RandomKind kind, double a, double b, long seed, long offset) {
        if (!Elementwise.fillRandom(dst, kind, a, b, seed, offset)) REF.fillRandom(dst, kind, a, b, seed, offset);
    }

    @Override
    public String toString() {
        return name();
    }
}
