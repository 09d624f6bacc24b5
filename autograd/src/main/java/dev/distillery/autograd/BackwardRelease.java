package dev.distillery.autograd;

import dev.distillery.tensor.BufferPool;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.TensorScope;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Early release of dead backward storages to the {@link BufferPool}, for a {@link Variable#backward} that runs inside
 * an open {@link TensorScope} (a whole training step in one scope). Without it every gradient and every temporary of
 * every backward rule stays owned by the scope until the step ends; with it the backward pass holds roughly what it
 * would hold without a pool (where the GC frees them), while its arrays are still recycled.
 *
 * <p>What is released, and when (only storages the innermost open scope owns, via {@link TensorScope#releaseEarly}):
 * <ul>
 *   <li><b>Temporaries of a backward rule</b> (contiguous copies, normalisation intermediates, products that are
 *       summed): each rule runs in a nested scope that keeps only the returned gradient tensors (their storages move
 *       to the step's scope); the rest is released when the rule returns.</li>
 *   <li><b>Gradients that flowed</b>: a gradient tensor is dead once the rule of the variable it belongs to ran (or it
 *       was folded into a sum, or into a leaf's {@code grad}), unless its storage is still referenced. References are
 *       counted per {@link Storage} (identity), not per tensor, since reshape/permute/expand/narrow make views of one
 *       storage: every pending gradient counts, and the gradient being processed counts until its node is done.</li>
 * </ul>
 * A storage is never released while it is <b>protected</b>: the storage of the upstream gradient (the caller's), of
 * any leaf's {@code grad} (existing ones, and the ones this backward assigns: accumulated parameter gradients must
 * reach the optimiser), and of every forward tensor of the graph: each variable's value and each node's saved tensors
 * (a rule may return a view of one).
 *
 * <p>What is <b>not</b> released: forward values and saved tensors, even after their node's backward ran with
 * {@code retainGraph=false}. The engine cannot prove them dead: the caller may hold any {@link Variable} of the graph
 * (the loss it reads after backward, a model output, an intermediate it logs), a value may be a view shared by another
 * variable, and a module may cache a forward tensor. Saved tensors are only the normalisation statistics (under the pool's
 * minimum length at any realistic size) and max-pool indices (I64, never pooled), so there is nothing to gain there.
 * They go back to the pool when the scope closes, as before.
 *
 * <p>Switch: {@code -Ddistillery.backward.release=on|off} (default on). Outside a scope, or with
 * {@code -Ddistillery.pool=off}, this does nothing.
 */
final class BackwardRelease {
    private static volatile boolean enabled = !"off".equalsIgnoreCase(System.getProperty("distillery.backward.release", "on"));

    /** Whether early release is on ({@code -Ddistillery.backward.release}, default on). */
    static boolean enabled() { return enabled; }

    /** For tests that compare release on and off in one JVM; returns the previous setting. */
    static boolean setEnabled(boolean on) {
        boolean was = enabled;
        enabled = on;
        return was;
    }

    private final TensorScope scope;
    private final Set<Storage> protectedStorages = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<Storage, Integer> refs = new IdentityHashMap<>();
    private final List<Storage> candidates = new ArrayList<>();

    private BackwardRelease(TensorScope scope) {
        this.scope = scope;
    }

    /** A tracker for one backward pass, or null when nothing may be released (off, no pool, no open scope). */
    static BackwardRelease begin() {
        if (!enabled || !BufferPool.enabled()) return null;
        TensorScope scope = TensorScope.current();
        return scope == null ? null : new BackwardRelease(scope);
    }

    /** Never release the storage of {@code t} in this backward pass. */
    void protect(Tensor t) {
        if (t != null) protectedStorages.add(t.storage());
    }

    /** {@code t} is now one more pending (or in-flight) gradient. */
    void ref(Tensor t) {
        refs.merge(t.storage(), 1, Integer::sum);
    }

    /** {@code t} stopped being a pending gradient; its storage is released at {@link #flush} if nothing else holds it. */
    void unref(Tensor t) {
        Storage s = t.storage();
        Integer n = refs.get(s);
        if (n == null) throw new IllegalStateException("backward release: unbalanced reference count");
        if (n == 1) refs.remove(s);
        else refs.put(s, n - 1);
        candidates.add(s);
    }

    /** {@code t} (a rule's output that was not kept as a pending gradient) may be dead: checked at {@link #flush}. */
    void consider(Tensor t) {
        if (t != null) candidates.add(t.storage());
    }

    /** Releases every candidate that no pending gradient references and that is not protected. */
    void flush() {
        for (Storage s : candidates)
            if (!refs.containsKey(s) && !protectedStorages.contains(s)) scope.releaseEarly(s);
        candidates.clear();
    }

    /** Runs one backward rule in a nested scope whose temporaries are released when it returns; its outputs survive. */
    static Tensor[] runRule(Op op, Tensor[] in, Tensor out, Tensor[] saved, Tensor g, Tensor[] pending) {
        try (TensorScope inner = TensorScope.open()) {
            Tensor[] gi = Backprop.backward(op, in, out, saved, g, pending);
            for (Tensor t : gi) if (t != null) inner.keep(t);
            return gi;
        }
    }
}
