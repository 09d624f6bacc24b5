package dev.distillery.autograd.optim;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates named parameters in place from their gradients. State (moments, step count) is kept per parameter
 * name, saved and restored with {@link #stateDict()} / {@link #loadStateDict} (as safetensors alongside the model), so
 * a resumed run continues bit for bit. Frozen parameters and parameters without a gradient are skipped.
 * State tensors live on each parameter's device; they are created at the first step, so an optimiser built before
 * {@link dev.distillery.autograd.nn.Module#to} and stepped only after it keeps everything on the device.
 */
public abstract class Optimizer {
    protected final Map<String, Parameter> params;
    protected final Map<String, Map<String, Tensor>> state = new LinkedHashMap<>();
    protected long step;
    protected double lr;

    protected Optimizer(Map<String, Parameter> params, double lr) {
        if (params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimise");
        if (!(lr >= 0)) throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be >= 0, got " + lr);
        this.params = new LinkedHashMap<>(params);
        this.lr = lr;
    }

    public double learningRate() {
        return lr;
    }

    /** Sets the rate for the next steps (learning-rate schedules call this before each step). */
    public void setLearningRate(double lr) {
        this.lr = lr;
    }

    /** Number of steps taken. */
    public long stepCount() {
        return step;
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        step++;
        List<Update> updates = new ArrayList<>();
        for (var e : params.entrySet()) {
            Parameter p = e.getValue();
            if (p.isFrozen() || p.grad() == null) continue;
            updates.add(new Update(e.getKey(), p, p.grad(), state.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>())));
        }
        update(updates);
    }

    /** One parameter to update: its name, the parameter, its gradient and its state tensors by name. */
    protected record Update(String name, Parameter param, Tensor grad, Map<String, Tensor> state) {}

    /**
     * Updates the parameters of one step in place, in order; by default one {@link #update(String, Parameter, Tensor, Map)}
     * each. Optimisers that can update many tensors at once (one device launch) override this.
     */
    protected void update(List<Update> updates) {
        for (Update u : updates) update(u.name(), u.param(), u.grad(), u.state());
    }

    /** Updates one parameter's tensor in place; {@code s} holds this parameter's state tensors by name. */
    protected abstract void update(String name, Parameter p, Tensor grad, Map<String, Tensor> s);

    public void zeroGrad() {
        params.values().forEach(Parameter::zeroGrad);
    }

    /**
     * A zero tensor like the parameter (on its device), created once and then reused (updated in place). A slot
     * left on another device by {@link dev.distillery.autograd.nn.Module#to} after earlier steps is moved to the
     * parameter's device here, once.
     */
    protected static Tensor slot(Map<String, Tensor> s, String key, Parameter p) {
        Tensor t = s.computeIfAbsent(key, k -> Tensor.zeros(p.dtype(), p.device(), p.shape()));
        if (!t.device().equals(p.device())) s.put(key, t = t.to(p.device()));
        return t;
    }

    /** State as flat tensors: {@code <param>.<slot>} plus {@code step}. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("step", Tensor.ofLongs(new long[]{step}, 1));
        state.forEach((p, slots) -> slots.forEach((k, t) -> out.put(p + "." + k, t)));
        return out;
    }

    /** Restores {@link #stateDict()}; fails naming the key when a tensor belongs to no parameter or has the wrong shape. */
    public void loadStateDict(Map<String, Tensor> saved) {
        Tensor s = saved.get("step");
        if (s == null) throw new IllegalArgumentException(getClass().getSimpleName() + " state: missing 'step'");
        Map<String, Map<String, Tensor>> restored = new LinkedHashMap<>();
        for (var e : saved.entrySet()) {
            if (e.getKey().equals("step")) continue;
            int dot = e.getKey().lastIndexOf('.');
            String pname = dot < 0 ? "" : e.getKey().substring(0, dot), slot = e.getKey().substring(dot + 1);
            Parameter p = params.get(pname);
            if (p == null) throw new IllegalArgumentException(getClass().getSimpleName() + " state: '" + e.getKey() + "' belongs to no parameter of this optimiser");
            if (!java.util.Arrays.equals(p.shape(), e.getValue().shape()))
                throw new IllegalArgumentException(getClass().getSimpleName() + " state: '" + e.getKey() + "' has shape " + java.util.Arrays.toString(e.getValue().shape())
                        + ", parameter has " + java.util.Arrays.toString(p.shape()));
            restored.computeIfAbsent(pname, k -> new LinkedHashMap<>()).put(slot, e.getValue().to(p.dtype()).copy().to(p.device()));
        }
        state.clear();
        state.putAll(restored);
        step = (long) s.item();
    }

    /** Writes {@code value} into {@code target}'s storage (the in-place update every optimiser ends with). */
    protected static void assign(Tensor target, Tensor value) {
        target.copyFrom(value);
    }
}
