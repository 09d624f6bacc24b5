package dev.distillery.autograd.optim;

import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backends;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An exponential moving average of a module's parameters: shadow = decay shadow + (1 - decay) param after each
 * {@link #update()}. The shadow is a state dict with the module's keys, so it saves, loads and copies into a twin
 * module directly.
 */
public final class Ema {
    private final Map<String, Parameter> params;
    private final Map<String, Tensor> shadow = new LinkedHashMap<>();
    private final double decay;

    public Ema(Module module, double decay) {
        if (decay < 0 || decay > 1) throw new IllegalArgumentException("Ema: decay must be in [0, 1], got " + decay);
        this.params = module.namedParameters();
        this.decay = decay;
        params.forEach((k, p) -> shadow.put(k, p.value().copy()));
    }

    /** One averaging step for every parameter: per device one {@link dev.distillery.tensor.backend.Backend#emaUpdate} (one launch on a GPU). */
    public void update() {
        Map<Device, List<Tensor[]>> byDevice = new LinkedHashMap<>();
        params.forEach((k, p) -> {
            Tensor s = shadow.get(k);
            if (!s.device().equals(p.device())) shadow.put(k, s = s.to(p.device())); // the module moved since
            byDevice.computeIfAbsent(p.device(), d -> new ArrayList<>()).add(new Tensor[]{s, p.value()});
        });
        byDevice.forEach((device, pairs) -> Backends.forDevice(device).emaUpdate(
                pairs.stream().map(pair -> pair[0]).toList(), pairs.stream().map(pair -> pair[1]).toList(), decay));
    }

    /** The averaged weights by parameter name (live tensors; copy before mutating). */
    public Map<String, Tensor> stateDict() {
        return shadow;
    }

    public void loadStateDict(Map<String, Tensor> saved) {
        for (var e : shadow.entrySet()) {
            Tensor t = saved.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("Ema state: missing '" + e.getKey() + "'");
            e.getValue().copyFrom(t);
        }
    }

    /** Writes the averaged weights into {@code target} (a module with the same keys, e.g. an eval copy). */
    public void copyTo(Module target) {
        target.loadStateDict(shadow, false);
    }
}
