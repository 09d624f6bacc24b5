package dev.distillery.autograd.optim;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.Tensor;

import java.util.Map;

/**
 * SGD with optional momentum and weight decay, as {@code torch.optim.SGD} (dampening 0, no Nesterov):
 * g' = g + wd p; b = mu b + g' (b = g' on the first step); p = p - lr b.
 */
public final class Sgd extends Optimizer {
    private final double momentum, weightDecay;

    public Sgd(Map<String, Parameter> params, double lr, double momentum, double weightDecay) {
        super(params, lr);
        if (momentum < 0) throw new IllegalArgumentException("Sgd: momentum must be >= 0, got " + momentum);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    @Override
    protected void update(String name, Parameter p, Tensor grad, Map<String, Tensor> s) {
        Tensor w = p.value();
        Tensor g = weightDecay != 0 ? grad.add(w.mul(weightDecay)) : grad;
        if (momentum != 0) {
            boolean first = !s.containsKey("momentum_buffer");
            Tensor buf = slot(s, "momentum_buffer", p);
            assign(buf, first ? g : buf.mul(momentum).add(g));
            g = buf;
        }
        assign(w, w.sub(g.mul(lr)));
    }
}
