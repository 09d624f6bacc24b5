package dev.distillery.autograd;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.BinaryOp;
import dev.distillery.tensor.backend.Conv2dParams;
import dev.distillery.tensor.backend.PadMode;
import dev.distillery.tensor.backend.Pool2dParams;
import dev.distillery.tensor.backend.UnaryOp;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tensor in a differentiable computation: its value, whether gradients flow to it, and (for results of ops) the
 * node that made it. Ops mirror {@link Tensor}'s and record a graph when any input requires a gradient and
 * gradients are enabled ({@link NoGrad}). {@link #backward()} walks that graph once in reverse topological order,
 * accumulates into {@link #grad()} of every leaf that requires a gradient (parameters, and inputs such as
 * generated images in score distillation), and then frees the graph.
 */
public class Variable {
    /** The op application that produced a variable; null for leaves and constants. */
    private record Node(Op op, Variable[] inputs, Tensor[] saved) {}

    private Tensor value; // replaced only by replaceValue (moving a parameter to another device)
    private boolean requiresGrad;
    private Node node;
    private boolean graphFreed;
    private Tensor grad;

    /** For {@link Parameter}: a leaf. */
    protected Variable(Tensor value, boolean requiresGrad) {
        this(value, requiresGrad, null);
    }

    private Variable(Tensor value, boolean requiresGrad, Node node) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A constant: no gradient flows to it. */
    public static Variable constant(Tensor value) {
        return new Variable(value, false, null);
    }

    /** A leaf that accumulates a gradient (an input we differentiate with respect to). */
    public static Variable leaf(Tensor value) {
        if (!value.dtype().isCompute())
            throw new IllegalArgumentException("only F32 or F64 tensors can require gradients, got " + value.dtype() + Shapes.str(value.shape()));
        return new Variable(value, true, null);
    }

    public Tensor value() { return value; }

    /** Where the value lives ({@link Tensor#device()}). */
    public Device device() { return value.device(); }

    /**
     * Swaps a leaf's tensor for {@code moved} (the same dtype and shape, e.g. on another device) keeping this object,
     * so modules and optimisers that hold it see the new tensor; an accumulated gradient moves with it. For
     * {@link dev.distillery.autograd.nn.Parameter#moveTo}.
     */
    protected final void replaceValue(Tensor moved) {
        if (node != null) throw new IllegalStateException("replaceValue: only leaves can be replaced");
        if (moved.dtype() != value.dtype() || !Arrays.equals(moved.shape(), value.shape()))
            throw new IllegalArgumentException("replaceValue: " + moved.dtype() + Shapes.str(moved.shape()) + " does not match " + value.dtype() + Shapes.str(value.shape()));
        value = moved;
        if (grad != null) grad = grad.to(moved.device());
    }

    public boolean requiresGrad() { return requiresGrad; }

    /** Turns gradient accumulation on or off for a leaf (freezing a parameter). */
    protected final void setRequiresGrad(boolean on) {
        if (node != null) throw new IllegalStateException("requiresGrad can only be changed on leaves");
        if (on && !value.dtype().isCompute()) throw new IllegalArgumentException("only F32 or F64 tensors can require gradients, got " + value.dtype());
        requiresGrad = on;
    }

    /** True for variables no op produced (parameters, inputs, constants). */
    public boolean isLeaf() { return node == null; }

    /** The accumulated gradient, or null if none has arrived. */
    public Tensor grad() { return grad; }

    /** Forgets the accumulated gradient. */
    public void zeroGrad() { grad = null; }

    /** Replaces the accumulated gradient (optimisers' gradient clipping, tests). */
    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape(), value.shape()))
            throw new IllegalArgumentException("setGrad: gradient shape " + Shapes.str(g.shape()) + " differs from value shape " + Shapes.str(value.shape()));
        grad = g;
    }

    /** The same value cut from the graph: no gradient flows back through it. */
    public Variable detach() { return constant(value); }

    public int[] shape() { return value.shape(); }

    public int size(int d) { return value.size(d); }

    public int dim() { return value.dim(); }

    public DType dtype() { return value.dtype(); }

    public double item() { return value.item(); }

    @Override
    public String toString() {
        return "Variable(" + value + (requiresGrad ? ", requiresGrad" : "") + ")";
    }

    // ----------------------------------------------------------------------------------------- recording

    /** Applies {@code op} to {@code inputs}, recording a node when a gradient may flow. */
    static Variable apply(Op op, Variable... inputs) {
        Tensor[] in = new Tensor[inputs.length];
        boolean needs = false;
        for (int i = 0; i < inputs.length; i++) {
            in[i] = inputs[i].value;
            needs |= inputs[i].requiresGrad;
        }
        needs &= NoGrad.isGradEnabled();
        if (!needs) return new Variable(op.forward(in), false, null);
        Tensor[] r = op.forwardSaving(in);
        return new Variable(r[0], true, new Node(op, inputs.clone(), Arrays.copyOfRange(r, 1, r.length)));
    }

    // ----------------------------------------------------------------------------------------- backward

    /** Backward from a one-element result with gradient 1. */
    public void backward() {
        if (value.numel() != 1)
            throw new IllegalStateException("backward() needs a one-element result, got shape " + Shapes.str(value.shape()) + "; pass an upstream gradient");
        backward(Tensor.full(1, value.dtype(), value.device(), value.shape()));
    }

    /** Backward with an explicit upstream gradient of this variable's shape; frees the graph afterwards. */
    public void backward(Tensor upstream) {
        backward(upstream, false);
    }

    /** Backward, keeping the graph when {@code retainGraph} so it can be walked again. */
    public void backward(Tensor upstream, boolean retainGraph) {
        if (!requiresGrad) throw new IllegalStateException("backward: this result does not require a gradient (no input requires one, or it was computed under NoGrad)");
        if (graphFreed) throw new IllegalStateException("backward: the graph behind this result was already freed by an earlier backward; pass retainGraph=true to walk it twice");
        if (!Arrays.equals(upstream.shape(), value.shape()) || upstream.dtype() != value.dtype())
            throw new IllegalArgumentException("backward: upstream gradient " + upstream.dtype() + Shapes.str(upstream.shape()) + " does not match result " + value.dtype() + Shapes.str(value.shape()));
        List<Variable> order = topologicalOrder(this);
        Map<Variable, Tensor> grads = new IdentityHashMap<>();
        grads.put(this, upstream);
        // Inside a TensorScope: release dead gradients and rule temporaries as the walk goes (BackwardRelease).
        BackwardRelease release = BackwardRelease.begin();
        if (release != null) {
            release.protect(upstream);
            for (Variable v : order) {
                release.protect(v.value);
                release.protect(v.grad);
                if (v.node == null) continue;
                for (Variable x : v.node.inputs) {
                    release.protect(x.value);
                    release.protect(x.grad);
                }
                for (Tensor t : v.node.saved) release.protect(t);
            }
            release.ref(upstream);
        }
        try (var ignored = NoGrad.enter()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Variable v = order.get(i);
                Tensor g = grads.remove(v); // stays referenced (in flight) until this node is done
                if (g == null) continue;
                if (v.node == null) {
                    if (v.graphFreed) throw new IllegalStateException("backward: reached a result whose graph was already freed by an earlier backward");
                    v.grad = v.grad == null ? g.contiguous() : v.grad.add(g);
                    if (release != null) {
                        release.protect(v.grad); // may be g itself: the optimiser reads it after backward
                        release.unref(g);
                        release.flush();
                    }
                    continue;
                }
                Node n = v.node;
                Tensor[] in = new Tensor[n.inputs.length];
                for (int k = 0; k < in.length; k++) in[k] = n.inputs[k].value;
                Tensor[] pending = pendingGradients(n, grads);
                Tensor[] offered = pending.clone();
                Tensor[] gi = release == null ? Backprop.backward(n.op, in, v.value, n.saved, g, pending)
                        : BackwardRelease.runRule(n.op, in, v.value, n.saved, g, pending);
                for (int k = 0; k < n.inputs.length; k++) {
                    Variable x = n.inputs[k];
                    if (offered[k] != null && pending[k] == null && gi[k] == null)
                        throw new IllegalStateException("backward rule of " + n.op.opName() + " took input " + k + "'s pending gradient but returned none");
                    if (!x.requiresGrad || gi[k] == null) continue;
                    if (!Arrays.equals(gi[k].shape(), x.value.shape()))
                        throw new IllegalStateException("backward rule of " + n.op.opName() + " returned gradient " + Shapes.str(gi[k].shape())
                                + " for input " + k + " of shape " + Shapes.str(x.value.shape()));
                    boolean folded = offered[k] != null && pending[k] == null; // gi[k] already includes the pending sum
                    Tensor prev = grads.get(x);
                    Tensor next = prev == null || folded ? gi[k] : prev.add(gi[k]);
                    grads.put(x, next);
                    if (release == null) continue;
                    release.ref(next);
                    if (prev != null) {
                        release.unref(prev);
                        if (!folded) release.consider(gi[k]);
                    }
                }
                if (release != null) {
                    for (Tensor t : gi) release.consider(t); // outputs nobody took (inputs without gradient)
                    release.unref(g);
                    release.flush();
                }
                if (!retainGraph) {
                    v.node = null;
                    v.graphFreed = true;
                }
            }
        }
    }

    /**
     * For each input of {@code n}: the gradient already summed for it from its other uses, offered to the backward
     * rule to add in the same backend call ({@link Backprop#backward(Op, Tensor[], Tensor, Tensor[], Tensor, Tensor[])});
     * null where there is none, or where the input appears twice in {@code n} (x * x: one sum must not be folded into
     * both gradients). It may be a strided view (a piece of a concat's gradient).
     */
    private static Tensor[] pendingGradients(Node n, Map<Variable, Tensor> grads) {
        Tensor[] pending = new Tensor[n.inputs.length];
        for (int k = 0; k < pending.length; k++) {
            Variable x = n.inputs[k];
            if (!x.requiresGrad) continue;
            Tensor p = grads.get(x);
            if (p == null) continue;
            boolean once = true;
            for (int j = 0; j < pending.length && once; j++) once = j == k || n.inputs[j] != x;
            if (once) pending[k] = p;
        }
        return pending;
    }

    private static List<Variable> topologicalOrder(Variable root) {
        List<Variable> order = new ArrayList<>();
        Map<Variable, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Variable[]> stack = new ArrayDeque<>(); // {variable, marker}: marker non-null = children done
        stack.push(new Variable[]{root, null});
        while (!stack.isEmpty()) {
            Variable[] top = stack.pop();
            Variable v = top[0];
            if (top[1] != null) {
                order.add(v);
                continue;
            }
            if (visited.put(v, Boolean.TRUE) != null) continue;
            stack.push(new Variable[]{v, v});
            if (v.node != null)
                for (Variable x : v.node.inputs) if (x.requiresGrad && !visited.containsKey(x)) stack.push(new Variable[]{x, null});
        }
        return order;
    }

    // ----------------------------------------------------------------------------------------- elementwise

    private Variable unary(UnaryOp op, double p0, double p1) { return apply(new Op.Unary(op, p0, p1), this); }

    public Variable neg() { return unary(UnaryOp.NEG, 0, 0); }
    public Variable exp() { return unary(UnaryOp.EXP, 0, 0); }
    public Variable log() { return unary(UnaryOp.LOG, 0, 0); }
    public Variable sqrt() { return unary(UnaryOp.SQRT, 0, 0); }
    public Variable rsqrt() { return unary(UnaryOp.RSQRT, 0, 0); }
    public Variable abs() { return unary(UnaryOp.ABS, 0, 0); }
    public Variable tanh() { return unary(UnaryOp.TANH, 0, 0); }
    public Variable sigmoid() { return unary(UnaryOp.SIGMOID, 0, 0); }
    public Variable silu() { return unary(UnaryOp.SILU, 0, 0); }
    public Variable gelu() { return unary(UnaryOp.GELU_ERF, 0, 0); }
    public Variable geluTanh() { return unary(UnaryOp.GELU_TANH, 0, 0); }
    public Variable relu() { return unary(UnaryOp.RELU, 0, 0); }
    public Variable leakyRelu(double slope) { return unary(UnaryOp.LEAKY_RELU, slope, 0); }
    public Variable square() { return unary(UnaryOp.SQUARE, 0, 0); }
    public Variable sin() { return unary(UnaryOp.SIN, 0, 0); }
    public Variable cos() { return unary(UnaryOp.COS, 0, 0); }
    public Variable reciprocal() { return unary(UnaryOp.RECIPROCAL, 0, 0); }
    public Variable sign() { return unary(UnaryOp.SIGN, 0, 0); }
    public Variable add(double s) { return unary(UnaryOp.ADD_SCALAR, s, 0); }
    public Variable sub(double s) { return unary(UnaryOp.ADD_SCALAR, -s, 0); }
    public Variable mul(double s) { return unary(UnaryOp.MUL_SCALAR, s, 0); }
    public Variable div(double s) { return unary(UnaryOp.MUL_SCALAR, 1.0 / s, 0); }
    public Variable rsub(double s) { return unary(UnaryOp.RSUB_SCALAR, s, 0); }
    public Variable pow(double e) { return unary(UnaryOp.POW_SCALAR, e, 0); }
    public Variable clamp(double lo, double hi) { return unary(UnaryOp.CLAMP, lo, hi); }

    private Variable binary(BinaryOp op, Variable o) { return apply(new Op.Binary(op), this, o); }

    public Variable add(Variable o) { return binary(BinaryOp.ADD, o); }
    public Variable sub(Variable o) { return binary(BinaryOp.SUB, o); }
    public Variable mul(Variable o) { return binary(BinaryOp.MUL, o); }
    public Variable div(Variable o) { return binary(BinaryOp.DIV, o); }
    public Variable pow(Variable o) { return binary(BinaryOp.POW, o); }
    public Variable maximum(Variable o) { return binary(BinaryOp.MAXIMUM, o); }
    public Variable minimum(Variable o) { return binary(BinaryOp.MINIMUM, o); }

    /** {@code cond ? a : b}; cond is a BOOL tensor. */
    public static Variable where(Tensor cond, Variable a, Variable b) {
        return apply(new Op.Where(), constant(cond), a, b);
    }

    // ----------------------------------------------------------------------------------------- reductions

    public Variable sum(int... dims) { return apply(new Op.Sum(dims.clone(), false), this); }
    public Variable sum(int[] dims, boolean keepDim) { return apply(new Op.Sum(dims.clone(), keepDim), this); }
    public Variable mean(int... dims) { return apply(new Op.Mean(dims.clone(), false), this); }
    public Variable mean(int[] dims, boolean keepDim) { return apply(new Op.Mean(dims.clone(), keepDim), this); }
    public Variable max(int[] dims, boolean keepDim) { return apply(new Op.MaxMin(dims.clone(), keepDim, true), this); }
    public Variable min(int[] dims, boolean keepDim) { return apply(new Op.MaxMin(dims.clone(), keepDim, false), this); }
    public Variable var(int[] dims, double correction, boolean keepDim) { return apply(new Op.Var(dims.clone(), correction, keepDim), this); }
    public Variable logsumexp(int[] dims, boolean keepDim) { return apply(new Op.LogSumExp(dims.clone(), keepDim), this); }

    // ----------------------------------------------------------------------------------------- linear algebra, convolution

    /** Matrix product ({@code torch.matmul}; 1-D operands are promoted and the added dim removed). */
    public Variable matmul(Variable o) {
        if (dim() == 0 || o.dim() == 0) throw new IllegalArgumentException("matmul: 0-d operands " + Shapes.str(shape()) + " and " + Shapes.str(o.shape()));
        Variable a = dim() == 1 ? unsqueeze(0) : this, b = o.dim() == 1 ? o.unsqueeze(1) : o;
        Variable r = apply(new Op.MatMul(), a, b);
        if (dim() == 1) r = r.squeeze(-2);
        if (o.dim() == 1) r = r.squeeze(-1);
        return r;
    }

    /**
     * {@code matmul(o)} plus {@code bias} [N] over the rows, as one op (Linear's x W^T + b; PyTorch's addmm): the
     * device adds the bias as it stores the product. o must be at least 2-D; a null bias is plain matmul.
     */
    public Variable matmul(Variable o, Variable bias) {
        if (bias == null) return matmul(o);
        if (dim() == 0 || o.dim() < 2) throw new IllegalArgumentException("matmul with bias: operands " + Shapes.str(shape()) + " and " + Shapes.str(o.shape())
                + " (the right one must be at least 2-D)");
        Variable a = dim() == 1 ? unsqueeze(0) : this;
        Variable r = apply(new Op.MatMul(), a, o, bias);
        return dim() == 1 ? r.squeeze(-2) : r;
    }

    /** Transpose of the last two dims. */
    public Variable mT() { return transpose(-2, -1); }

    public Variable conv2d(Variable weight, Variable bias, Conv2dParams p) {
        return bias == null ? apply(new Op.Conv2d(p), this, weight) : apply(new Op.Conv2d(p), this, weight, bias);
    }

    /**
     * {@code conv2d(weight, bias, p).add(addend)} as one op: on a device the addend (a residual, or a [N, O, 1, 1]
     * time embedding) is added as the convolution stores its output, without a launch or a pass of its own.
     */
    public Variable conv2dAdd(Variable weight, Variable bias, Conv2dParams p, Variable addend) {
        return bias == null ? apply(new Op.Conv2dAdd(p), this, weight, addend) : apply(new Op.Conv2dAdd(p), this, weight, bias, addend);
    }

    public Variable convTranspose2d(Variable weight, Variable bias, Conv2dParams p) {
        return bias == null ? apply(new Op.ConvTranspose2d(p), this, weight) : apply(new Op.ConvTranspose2d(p), this, weight, bias);
    }

    public Variable avgPool2d(Pool2dParams p) { return apply(new Op.AvgPool2d(p), this); }

    public Variable maxPool2d(Pool2dParams p) { return apply(new Op.MaxPool2d(p), this); }

    public Variable upsampleNearest(int outH, int outW) { return apply(new Op.Upsample2d(outH, outW, false, false), this); }

    public Variable upsampleBilinear(int outH, int outW, boolean alignCorners) { return apply(new Op.Upsample2d(outH, outW, true, alignCorners), this); }

    // ----------------------------------------------------------------------------------------- normalisation

    public Variable softmax(int dim) { return apply(new Op.Softmax(Shapes.dim("softmax", dim, dim()), false), this); }

    public Variable logSoftmax(int dim) { return apply(new Op.Softmax(Shapes.dim("logSoftmax", dim, dim()), true), this); }

    /** Layer norm over the trailing {@code normalizedShape}; weight and bias may be null. */
    public Variable layerNorm(int[] normalizedShape, Variable weight, Variable bias, double eps) {
        Op op = new Op.LayerNorm(normalizedShape.clone(), eps, weight != null, bias != null);
        return apply(op, withOptional(this, weight, bias));
    }

    /** Group norm of [N, C, ...]; weight and bias [C] may be null. */
    public Variable groupNorm(int groups, Variable weight, Variable bias, double eps) {
        return groupNorm(groups, weight, bias, eps, false);
    }

    /**
     * Group norm, then silu when {@code silu}: {@code groupNorm(...).silu()} as one op (one pass forward and back,
     * and no normalised tensor kept for the activation's backward).
     */
    public Variable groupNorm(int groups, Variable weight, Variable bias, double eps, boolean silu) {
        return apply(new Op.GroupNorm(groups, eps, weight != null, bias != null, silu), withOptional(this, weight, bias));
    }

    private static Variable[] withOptional(Variable x, Variable w, Variable b) {
        List<Variable> l = new ArrayList<>(3);
        l.add(x);
        if (w != null) l.add(w);
        if (b != null) l.add(b);
        return l.toArray(Variable[]::new);
    }

    // ----------------------------------------------------------------------------------------- joining, indexing

    public static Variable concat(List<Variable> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        int d = Shapes.dim("concat", dim, parts.get(0).dim());
        return apply(new Op.Concat(d), parts.toArray(Variable[]::new));
    }

    public static Variable stack(List<Variable> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("stack: no tensors");
        int d = Shapes.dim("stack", dim, parts.get(0).dim() + 1);
        List<Variable> u = new ArrayList<>(parts.size());
        for (Variable p : parts) u.add(p.unsqueeze(d));
        return concat(u, d);
    }

    public List<Variable> split(int splitSize, int dim) {
        int d = Shapes.dim("split", dim, dim());
        if (splitSize < 1) throw new IllegalArgumentException("split: size must be >= 1, got " + splitSize);
        List<Variable> out = new ArrayList<>();
        for (int s = 0; s < size(d); s += splitSize) out.add(narrow(d, s, Math.min(splitSize, size(d) - s)));
        return out;
    }

    public List<Variable> chunk(int chunks, int dim) {
        if (chunks < 1) throw new IllegalArgumentException("chunk: chunks must be >= 1, got " + chunks);
        int d = Shapes.dim("chunk", dim, dim());
        return split(Math.max(1, (size(d) + chunks - 1) / chunks), d);
    }

    public Variable indexSelect(int dim, Tensor index) {
        return apply(new Op.IndexSelect(Shapes.dim("indexSelect", dim, dim())), this, constant(index));
    }

    public Variable gather(int dim, Tensor index) {
        return apply(new Op.Gather(Shapes.dim("gather", dim, dim())), this, constant(index));
    }

    /** Rows of {@code weight} [V, D] for I64 ids of any shape: ids.shape + [D]. */
    public static Variable embedding(Variable weight, Tensor ids) {
        if (weight.dim() != 2) throw new IllegalArgumentException("embedding: weight must be [vocab, dim], got " + Shapes.str(weight.shape()));
        int[] s = Arrays.copyOf(ids.shape(), ids.dim() + 1);
        s[ids.dim()] = weight.size(1);
        return weight.indexSelect(0, ids.reshape(ids.numel())).reshape(s);
    }

    public Variable pad(int[] pads, PadMode mode, double value) { return apply(new Op.Pad(pads.clone(), mode, value), this); }

    // ----------------------------------------------------------------------------------------- views

    /** A view where the layout allows one, else a copy; the target shape comes from shape arithmetic alone (no copy just to learn it). */
    public Variable reshape(int... shape) { return apply(new Op.Reshape(Shapes.reshaped("reshape", value.shape(), shape)), this); }

    public Variable view(int... shape) { return reshape(shape); }

    public Variable flatten(int start, int end) { return reshape(Shapes.flattened("flatten", value.shape(), start, end)); }

    public Variable permute(int... order) { return apply(new Op.Permute(order.clone()), this); }

    public Variable transpose(int d0, int d1) {
        int a = Shapes.dim("transpose", d0, dim()), b = Shapes.dim("transpose", d1, dim());
        int[] order = new int[dim()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    public Variable expand(int... shape) { return apply(new Op.Expand(value.expand(shape).shape()), this); }

    public Variable slice(int dim, int start, int end, int step) { return apply(new Op.Slice(Shapes.dim("slice", dim, dim()), start, end, step), this); }

    public Variable narrow(int dim, int start, int length) {
        int d = Shapes.dim("narrow", dim, dim());
        if (start < 0 || length < 0 || start + length > size(d))
            throw new IllegalArgumentException("narrow: [" + start + ", " + (start + length) + ") out of range for dim " + d + " of shape " + Shapes.str(shape()));
        return slice(d, start, start + length, 1);
    }

    /** Index {@code i} of dim {@code d}, removing that dim. */
    public Variable select(int d, int i) {
        int dd = Shapes.dim("select", d, dim());
        int ii = i < 0 ? i + size(dd) : i;
        return narrow(dd, ii, 1).squeeze(dd);
    }

    public Variable squeeze(int d) { return reshape(value.squeeze(d).shape()); }

    public Variable unsqueeze(int d) { return reshape(value.unsqueeze(d).shape()); }

    public Variable contiguous() { return value.isContiguous() ? this : apply(new Op.Contiguous(), this); }

    public Variable to(DType dtype) { return dtype == dtype() ? this : apply(new Op.Cast(dtype), this); }

    // ----------------------------------------------------------------------------------------- composites

    /**
     * Scaled dot-product attention: softmax(q k^T * scale + mask) v over [..., L, D] inputs; {@code causal} masks
     * keys after each query. Composed from primitives, so its gradient needs no rule of its own.
     */
    public static Variable attention(Variable q, Variable k, Variable v, boolean causal, double scale) {
        return attentionProbabilities(q, k, causal, scale).matmul(v);
    }

    /** The attention probabilities softmax(q k^T * scale + mask) of {@link #attention}, [..., Lq, Lk]. */
    public static Variable attentionProbabilities(Variable q, Variable k, boolean causal, double scale) {
        Variable scores = q.mul(scale).matmul(k.mT()); // scaling q is cheaper than scaling the Lq x Lk scores
        if (causal) {
            int lq = q.size(-2), lk = k.size(-2);
            Tensor allowed = Tensor.arange(lk, scores.dtype()).view(1, lk).le(Tensor.arange(lq, scores.dtype()).view(lq, 1).add(lk - lq)).to(scores.device());
            scores = where(allowed, scores, constant(Tensor.full(Double.NEGATIVE_INFINITY, scores.dtype(), scores.device(), 1)));
        }
        return scores.softmax(-1);
    }

    /** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
    public Variable dropout(double p, Rng rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        if (p == 0) return this;
        Tensor keep = Tensor.rand(rng, dtype(), shape()).gt(p).to(dtype()).mul(1 / (1 - p)).to(device());
        return mul(constant(keep));
    }

    /** Mean squared error against a target of the same shape. */
    public Variable mseLoss(Variable target) {
        return sub(target).square().mean();
    }
}
