package dev.distillery.autograd.nn;

import dev.distillery.tensor.Device;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tree of named parameters, buffers and child modules. Names join with dots into the state-dict keys that
 * diffusers and transformers use ({@code down_blocks.0.resnets.1.norm1.weight}), so real checkpoints load as they
 * are. Subclasses register what they own in their constructor with {@link #parameter}, {@link #buffer} and
 * {@link #child}, in the order PyTorch would, so state dicts list keys in the same order.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    protected final Parameter parameter(String name, Tensor init) {
        checkName(name);
        Parameter p = new Parameter(init);
        parameters.put(name, p);
        return p;
    }

    /** A non-trainable tensor saved with the state dict (running statistics, fixed tables). */
    protected final Tensor buffer(String name, Tensor value) {
        checkName(name);
        buffers.put(name, value);
        return value;
    }

    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains("."))
            throw new IllegalArgumentException(getClass().getSimpleName() + ": bad member name '" + name + "' (non-empty, no dots)");
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name))
            throw new IllegalArgumentException(getClass().getSimpleName() + ": member '" + name + "' registered twice");
    }

    /** Direct children by name. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter below this module by dotted name, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collectParameters(prefix + n + ".", out));
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Trainable (not frozen) parameters. */
    public List<Parameter> trainableParameters() {
        List<Parameter> l = new ArrayList<>();
        for (Parameter p : parameters()) if (!p.isFrozen()) l.add(p);
        return l;
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.value().numel();
        return n;
    }

    /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p.value()));
        buffers.forEach((n, b) -> out.put(prefix + n, b));
        children.forEach((n, c) -> c.collectState(prefix + n + ".", out));
    }

    /** What {@link #loadStateDict} found: keys it expected but did not get, keys it did not know, shape mismatches. */
    public record LoadReport(List<String> missing, List<String> unexpected, List<String> mismatched) {
        public boolean isClean() {
            return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
        }

        @Override
        public String toString() {
            return "missing keys " + missing + ", unexpected keys " + unexpected + ", shape mismatches " + mismatched;
        }
    }

    /**
     * Copies matching tensors into this module's parameters and buffers (converting F16/BF16/F64 to the parameter's
     * dtype). With {@code strict}, any missing, unexpected or mis-shaped key fails before anything is changed, with
     * the full report in the message; otherwise what matches is loaded and the report returned.
     */
    public LoadReport loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (String k : own.keySet()) if (!state.containsKey(k)) missing.add(k);
        for (String k : state.keySet()) {
            Tensor mine = own.get(k);
            if (mine == null) unexpected.add(k);
            else if (!Arrays.equals(mine.shape(), state.get(k).shape()))
                mismatched.add(k + ": checkpoint " + Shapes.str(state.get(k).shape()) + " vs model " + Shapes.str(mine.shape()));
        }
        LoadReport report = new LoadReport(missing, unexpected, mismatched);
        if (strict && !report.isClean())
            throw new IllegalArgumentException("loadStateDict into " + getClass().getSimpleName() + ": " + report);
        for (var e : state.entrySet()) {
            Tensor mine = own.get(e.getKey());
            if (mine != null && Arrays.equals(mine.shape(), e.getValue().shape())) mine.copyFrom(e.getValue());
        }
        return report;
    }

    /**
     * Moves every parameter and buffer below this module to {@code device}, in place: each {@link Parameter} keeps
     * its identity (only its tensor is replaced), so code holding parameters, such as an optimiser, sees the moved
     * tensors; weights are copied once here and then stay on the device. A no-op for what is already there.
     * <p>Create optimisers and {@link dev.distillery.autograd.optim.Ema}s after the move: an optimiser that has
     * already stepped moves its state lazily at its next step, but an EMA's shadow stays where it was made.
     * Subclasses must not keep their own references to buffer tensors (read them through {@link #stateDict()}).
     */
    public Module to(Device device) {
        parameters.values().forEach(p -> p.moveTo(device));
        buffers.replaceAll((n, b) -> b.to(device));
        children.values().forEach(c -> c.to(device));
        return this;
    }

    /** Training mode (dropout active) for this module and all below it. */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /** Freezes every parameter below this module (no gradients, optimisers skip them). */
    public Module freeze() {
        parameters().forEach(p -> p.setFrozen(true));
        return this;
    }

    public Module unfreeze() {
        parameters().forEach(p -> p.setFrozen(false));
        return this;
    }

    /** Clears the gradients of every parameter. */
    public void zeroGrad() {
        parameters().forEach(Parameter::zeroGrad);
    }
}
