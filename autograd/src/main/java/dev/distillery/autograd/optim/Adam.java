package dev.distillery.autograd.optim;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.AdamTensors;
import dev.distillery.tensor.backend.Backends;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam and AdamW, as {@code torch.optim.Adam} / {@code AdamW} (no amsgrad). With t the step count:
 * <pre>
 *   AdamW: p = p (1 - lr wd)              Adam: g = g + wd p
 *   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
 *   p = p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 * Any betas are allowed, including b1 = 0 (no momentum, as DMD2-style generators use).
 */
public final class Adam extends Optimizer {
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled;

    private Adam(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(params, lr);
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1)
            throw new IllegalArgumentException("Adam: betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        if (!(eps > 0)) throw new IllegalArgumentException("Adam: eps must be > 0, got " + eps);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** L2-regularised Adam ({@code torch.optim.Adam}). */
    public static Adam adam(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        return new Adam(params, lr, beta1, beta2, eps, weightDecay, false);
    }

    /** Decoupled weight decay ({@code torch.optim.AdamW}; PyTorch's default decay is 0.01). */
    public static Adam adamW(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        return new Adam(params, lr, beta1, beta2, eps, weightDecay, true);
    }

    @Override
    protected void update(String name, Parameter p, Tensor grad, Map<String, Tensor> s) {
        update(List.of(new Update(name, p, grad, s)));
    }

    /**
     * Fused in-place passes in PyTorch's order of operations ({@link dev.distillery.tensor.backend.Backend#adamSteps}),
     * all parameters of a device at once: one launch on a GPU instead of one per parameter.
     */
    @Override
    protected void update(List<Update> updates) {
        Map<Device, List<AdamTensors>> byDevice = new LinkedHashMap<>();
        for (Update u : updates) {
            Parameter p = u.param();
            Tensor m = slot(u.state(), "exp_avg", p), v = slot(u.state(), "exp_avg_sq", p);
            byDevice.computeIfAbsent(p.device(), d -> new ArrayList<>()).add(new AdamTensors(p.value(), u.grad().contiguous(), m, v));
        }
        byDevice.forEach((device, tensors) ->
                Backends.forDevice(device).adamSteps(tensors, lr, beta1, beta2, eps, weightDecay, decoupled, step));
    }
}
