package dev.distillery.autograd.optim;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backends;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Gradient clipping by global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales every gradient by {@code min(1, maxNorm / (norm + 1e-6))} where norm is the L2 norm of all gradients
     * together; returns that norm (before clipping), so callers can log it and detect NaN.
     */
    public static double clipGradNorm(Collection<Parameter> params, double maxNorm) {
        // Per device, all gradients at once (Backend.sumOfSquares, Backend.scaled): on a GPU one value read back and
        // one launch for the rescale, instead of a read and launches per parameter.
        Map<Device, List<Parameter>> byDevice = new LinkedHashMap<>();
        for (Parameter p : params) if (p.grad() != null) byDevice.computeIfAbsent(p.grad().device(), d -> new ArrayList<>()).add(p);
        double sq = 0;
        for (var e : byDevice.entrySet()) sq += Backends.forDevice(e.getKey()).sumOfSquares(grads(e.getValue()));
        double norm = Math.sqrt(sq);
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
            for (var e : byDevice.entrySet()) {
                List<Tensor> scaled = Backends.forDevice(e.getKey()).scaled(grads(e.getValue()), scale);
                for (int i = 0; i < scaled.size(); i++) e.getValue().get(i).setGrad(scaled.get(i));
            }
        return norm;
    }

    private static List<Tensor> grads(List<Parameter> params) {
        return params.stream().map(Parameter::grad).toList();
    }
}
