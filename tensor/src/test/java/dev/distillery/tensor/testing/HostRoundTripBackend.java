package dev.distillery.tensor.testing;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.AdamTensors;
import dev.distillery.tensor.backend.Backend;
import dev.distillery.tensor.backend.Backends;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.CompareOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.NormGradients;
import dev.distillery.tensor.backend.NormResult;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.ParamGradients;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.RandomKind;
import dev.distillery.tensor.backend.ReduceOp;
import dev.distillery.tensor.backend.UnaryOp;
import dev.distillery.tensor.backend.ValuesIndices;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A host ({@link Device#CPU}) backend whose every op runs on another device's backend: inputs are uploaded with
 * their layout kept (the whole storage goes up and the same shape, strides and offset are rebuilt over it, so strided,
 * permuted, offset and expanded views reach the device kernels as views), the device op runs, and results are
 * downloaded; in-place ops ({@link #copyInto}, {@link #fillRandom}, {@link #adamStep}) write the device result back
 * into the host storage. This lets the CPU backend's tests, which build host tensors and run ops under
 * {@link Backends#using}, run unchanged against a device backend (the parity suite; see {@link BackendUnderTest}).
 *
 * <p>Transfers use the real CPU backend (the override is rebound to it), so uploads and downloads never recurse into
 * this adapter. Dtypes outside {@link #deviceDtypes} cannot be computed on the device: tests ask
 * {@link BackendUnderTest#supports} and skip those cases.
 */
public final class HostRoundTripBackend implements Backend {
    private final Backend device;
    private final Set<DType> deviceDtypes;

    /**
     * @param device       the backend under test (its tensors live on its device)
     * @param deviceDtypes the storage types it holds (for TornadoVM: F32, I64, BOOL)
     */
    public HostRoundTripBackend(Backend device, Set<DType> deviceDtypes) {
        this.device = device;
        this.deviceDtypes = Set.copyOf(deviceDtypes);
    }

    public Set<DType> deviceDtypes() {
        return deviceDtypes;
    }

    @Override public String name() { return device.name() + " (host round trip)"; }
    @Override public Device device() { return Device.CPU; }

    private static <T> T onHost(Supplier<T> body) {
        return Backends.using(Backends.cpu(), body);
    }

    /** The device copy of host tensor {@code t}, same shape/strides/offset over an uploaded copy of its whole storage. */
    private Tensor up(Tensor t) {
        if (t == null) return null;
        if (!deviceDtypes.contains(t.dtype()))
            throw new UnsupportedOperationException(device.name() + " holds no " + t.dtype() + " tensors (test should skip this dtype)");
        return onHost(() -> {
            int n = t.storage().length();
            if (n == 0) return t.to(device.device());
            Tensor whole = Tensor.of(t.storage(), n).to(device.device());
            return Tensor.of(whole.storage(), t.shape(), t.strides(), t.offset());
        });
    }

    private static Tensor down(Tensor t) {
        return t == null ? null : onHost(() -> t.to(Device.CPU));
    }

    /** Writes the device storage under {@code dev} (made by {@link #up}) back into {@code host}'s storage. */
    private static void writeBack(Tensor dev, Tensor host) {
        onHost(() -> {
            int n = host.storage().length();
            if (n == 0) return null;
            Tensor whole = Tensor.of(dev.storage(), n).to(Device.CPU);
            Tensor.of(host.storage(), n).copyFrom(whole);
            return null;
        });
    }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        return onHost(() -> Tensor.zeros(dtype, shape));
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        Tensor d = up(dst);
        device.copyInto(up(src), d);
        writeBack(d, dst);
    }

    @Override public Tensor unary(UnaryOp op, Tensor x, double p0, double p1) { return down(device.unary(op, up(x), p0, p1)); }
    @Override public Tensor binary(BinaryOp op, Tensor a, Tensor b) { return down(device.binary(op, up(a), up(b))); }
    @Override public Tensor compare(CompareOp op, Tensor a, Tensor b) { return down(device.compare(op, up(a), up(b))); }
    @Override public Tensor where(Tensor cond, Tensor a, Tensor b) { return down(device.where(up(cond), up(a), up(b))); }

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim, double correction) {
        return down(device.reduce(op, up(x), dims, keepDim, correction));
    }

    @Override public Tensor matmul(Tensor a, Tensor b) { return down(device.matmul(up(a), up(b))); }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dParams p) {
        return down(device.conv2d(up(x), up(weight), up(bias), p));
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p, Tensor addend) {
        return down(device.conv2dBackwardInput(up(gradOut), up(weight), inputShape, p, up(addend)));
    }

    @Override
    public Tensor conv2dAdd(Tensor x, Tensor weight, Tensor bias, Conv2dParams p, Tensor addend) {
        return down(device.conv2dAdd(up(x), up(weight), up(bias), p, up(addend)));
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, int[] inputShape, Conv2dParams p) {
        return down(device.conv2dBackwardInput(up(gradOut), up(weight), inputShape, p));
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p) {
        return down(device.conv2dBackwardWeight(up(gradOut), up(x), weightShape, p));
    }

    @Override
    public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1, Tensor addend) {
        return down(device.unaryBackward(op, up(x), up(gradOut), p0, p1, up(addend)));
    }

    @Override
    public Tensor matmulAdd(Tensor a, Tensor b, Tensor addend) {
        return down(device.matmulAdd(up(a), up(b), up(addend)));
    }

    @Override
    public NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize, boolean affineGrads,
                                           Tensor inputAddend) {
        return downAll(device.layerNormBackward(up(gradOut), up(x), up(mean), up(rstd), up(weight), normSize, affineGrads, up(inputAddend)));
    }

    @Override
    public NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                           boolean silu, boolean affineGrads, Tensor inputAddend) {
        return downAll(device.groupNormBackward(up(gradOut), up(x), up(mean), up(rstd), up(weight), up(bias), groups, silu, affineGrads,
                up(inputAddend)));
    }

    @Override
    public ParamGradients conv2dParamGradients(Tensor gradOut, Tensor x, int[] weightShape, Conv2dParams p, boolean withBias) {
        ParamGradients r = device.conv2dParamGradients(up(gradOut), up(x), weightShape, p, withBias);
        return new ParamGradients(down(r.weight()), down(r.bias()));
    }

    @Override
    public ParamGradients linearParamGradients(Tensor gradOut, Tensor x, boolean withBias) {
        ParamGradients r = device.linearParamGradients(up(gradOut), up(x), withBias);
        return new ParamGradients(down(r.weight()), down(r.bias()));
    }

    @Override public Tensor avgPool2d(Tensor x, Pool2dParams p) { return down(device.avgPool2d(up(x), p)); }

    @Override
    public ValuesIndices maxPool2d(Tensor x, Pool2dParams p) {
        ValuesIndices r = device.maxPool2d(up(x), p);
        return new ValuesIndices(down(r.values()), down(r.indices()));
    }

    @Override
    public Tensor upsample2d(Tensor x, int outH, int outW, boolean bilinear, boolean alignCorners) {
        return down(device.upsample2d(up(x), outH, outW, bilinear, alignCorners));
    }

    @Override public Tensor softmax(Tensor x, int dim, boolean log) { return down(device.softmax(up(x), dim, log)); }

    @Override
    public NormResult layerNorm(Tensor x, Tensor weight, Tensor bias, int normSize, double eps) {
        return downAll(device.layerNorm(up(x), up(weight), up(bias), normSize, eps));
    }

    @Override
    public NormResult groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps, boolean silu) {
        return downAll(device.groupNorm(up(x), groups, up(weight), up(bias), eps, silu));
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b, Tensor bias) {
        return down(device.matmul(up(a), up(b), up(bias)));
    }

    @Override
    public void matmulInto(Tensor a, Tensor b, Tensor out) {
        Tensor d = up(out);
        device.matmulInto(up(a), up(b), d);
        writeBack(d, out);
    }

    @Override
    public Tensor matmulTwoBatchDims(Tensor a, Tensor b, Tensor bias) {
        return down(device.matmulTwoBatchDims(up(a), up(b), up(bias)));
    }

    @Override
    public NormGradients layerNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, int normSize, boolean affineGrads) {
        return downAll(device.layerNormBackward(up(gradOut), up(x), up(mean), up(rstd), up(weight), normSize, affineGrads));
    }

    @Override
    public NormGradients groupNormBackward(Tensor gradOut, Tensor x, Tensor mean, Tensor rstd, Tensor weight, Tensor bias, int groups,
                                           boolean silu, boolean affineGrads) {
        return downAll(device.groupNormBackward(up(gradOut), up(x), up(mean), up(rstd), up(weight), up(bias), groups, silu, affineGrads));
    }

    private static NormGradients downAll(NormGradients r) {
        return new NormGradients(down(r.input()), down(r.weight()), down(r.bias()));
    }

    private static NormResult downAll(NormResult r) {
        return new NormResult(down(r.output()), down(r.mean()), down(r.rstd()));
    }

    @Override
    public Tensor concat(List<Tensor> parts, int dim) {
        List<Tensor> ups = new ArrayList<>();
        for (Tensor t : parts) ups.add(up(t));
        return down(device.concat(ups, dim));
    }

    @Override public Tensor indexSelect(Tensor x, int dim, Tensor index) { return down(device.indexSelect(up(x), dim, up(index))); }
    @Override public Tensor gather(Tensor x, int dim, Tensor index) { return down(device.gather(up(x), dim, up(index))); }
    @Override public Tensor pad(Tensor x, int[] pads, PadMode mode, double value) { return down(device.pad(up(x), pads, mode, value)); }

    @Override
    public void fillRandom(Tensor dst, RandomKind kind, double a, double b, long seed, long offset) {
        Tensor d = up(dst);
        device.fillRandom(d, kind, a, b, seed, offset);
        writeBack(d, dst);
    }

    @Override
    public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, double p0, double p1) {
        return down(device.unaryBackward(op, up(x), up(gradOut), p0, p1));
    }

    @Override
    public Tensor scatterAdd(Tensor index, Tensor src, int dim, int[] outShape) {
        return down(device.scatterAdd(up(index), up(src), dim, outShape));
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, double lr, double beta1, double beta2, double eps,
                         double weightDecay, boolean decoupled, long step) {
        Tensor p = up(param), m = up(expAvg), v = up(expAvgSq);
        device.adamStep(p, up(grad), m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        writeBack(p, param);
        writeBack(m, expAvg);
        writeBack(v, expAvgSq);
    }

    @Override
    public void adamSteps(List<AdamTensors> tensors, double lr, double beta1, double beta2, double eps, double weightDecay,
                          boolean decoupled, long step) {
        List<AdamTensors> onDevice = new java.util.ArrayList<>();
        for (AdamTensors t : tensors) onDevice.add(new AdamTensors(up(t.param()), up(t.grad()), up(t.expAvg()), up(t.expAvgSq())));
        device.adamSteps(onDevice, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        for (int i = 0; i < tensors.size(); i++) {
            writeBack(onDevice.get(i).param(), tensors.get(i).param());
            writeBack(onDevice.get(i).expAvg(), tensors.get(i).expAvg());
            writeBack(onDevice.get(i).expAvgSq(), tensors.get(i).expAvgSq());
        }
    }

    @Override
    public double sumOfSquares(List<Tensor> tensors) {
        return device.sumOfSquares(tensors.stream().map(this::up).toList());
    }

    @Override
    public List<Tensor> scaled(List<Tensor> tensors, double factor) {
        return device.scaled(tensors.stream().map(this::up).toList(), factor).stream().map(HostRoundTripBackend::down).toList();
    }

    @Override
    public void emaUpdate(List<Tensor> shadows, List<Tensor> params, double decay) {
        List<Tensor> onDevice = shadows.stream().map(this::up).toList();
        device.emaUpdate(onDevice, params.stream().map(this::up).toList(), decay);
        for (int i = 0; i < shadows.size(); i++) writeBack(onDevice.get(i), shadows.get(i));
    }

    @Override
    public Tensor softmaxBackward(Tensor output, Tensor gradOut, int dim, boolean log) {
        return down(device.softmaxBackward(up(output), up(gradOut), dim, log));
    }
}
