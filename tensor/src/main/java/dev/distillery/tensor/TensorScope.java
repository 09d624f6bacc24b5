package dev.distillery.tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A region of code whose op outputs are dead once it ends, so their arrays go back to the {@link BufferPool}:
 * <pre>
 *   try (TensorScope scope = TensorScope.open()) {
 *       optimizer.zeroGrad();
 *       Variable loss = model.forward(x).sub(target).square().mean();
 *       loss.backward();
 *       optimizer.step();              // parameters and optimizer state are updated in place: not scope-owned
 *       lastLoss = loss.value().item(); // read results before the scope closes...
 *       scope.keep(sample);             // ...or keep the tensors that must outlive it
 *   }
 * </pre>
 * The scope owns every storage that a kernel allocated uninitialised ({@link Storage#allocateUninitialized}: op
 * outputs of F32/F64, at least {@link BufferPool#minLength()} elements) on this thread while it was the innermost open
 * scope. Closing it releases them all, except the kept ones; afterwards any use of a released tensor, or of a view of
 * one, throws {@link IllegalStateException}. Tensors made by {@link Tensor#zeros}, loaded, or created outside the
 * scope are never released. So: build models and optimizers outside the scope, and do not let a tensor computed inside
 * it escape (a cache in a module, a gradient read after the step) unless it is kept.
 *
 * <p>A storage can also go back before the close, through {@link #releaseEarly}: the autograd engine does this during
 * backward for gradients and backward-rule temporaries that nothing can reach any more (so that a scope around a whole
 * training step does not hold every backward temporary until the step ends; {@code -Ddistillery.backward.release=off}
 * turns that off).
 *
 * <p>Scopes nest; a kept storage moves to the enclosing scope (or, at the outermost, to nobody: the GC frees it). A
 * scope must be closed on the thread that opened it, innermost first, and when no other thread is still working on
 * its tensors (a tensor handed to another thread must be kept, or finished with before the close). A scope that is
 * never closed keeps its arrays alive: use try-with-resources. With {@code -Ddistillery.pool=off} a scope
 * owns and releases nothing.
 */
public final class TensorScope implements AutoCloseable {
    private static final ThreadLocal<TensorScope> CURRENT = new ThreadLocal<>();

    private final TensorScope parent;
    private final Thread owner = Thread.currentThread();
    private final Set<Storage> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    private TensorScope(TensorScope parent) {
        this.parent = parent;
    }

    /** Opens a scope on this thread, nested in the current one if any. */
    public static TensorScope open() {
        TensorScope s = new TensorScope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /** Called for each pooled allocation: the innermost open scope of this thread, if any, owns it. */
    static void adopt(Storage s) {
        TensorScope scope = CURRENT.get();
        if (scope != null) scope.owned.add(s);
    }

    /**
     * Puts a device storage (an op output a device backend allocated) under the innermost open scope of this thread,
     * if any, which will {@link Storage.Releasable#release release} it at close like a pooled CPU array.
     */
    public static void adopt(Storage.Releasable s) {
        adopt((Storage) s);
    }

    /**
     * Lets {@code t} (and every view of its storage) outlive this scope: its storage moves to the enclosing scope,
     * or is owned by nobody at the outermost. Returns {@code t}.
     */
    public Tensor keep(Tensor t) {
        checkOpen("keep");
        if (owned.remove(t.storage()) && parent != null) parent.owned.add(t.storage());
        return t;
    }

    /**
     * The innermost open scope of this thread, or null outside any scope. Code that frees storages early (the
     * autograd engine's backward) asks this scope, and only this one, to {@linkplain #releaseEarly release} them.
     */
    public static TensorScope current() {
        return CURRENT.get();
    }

    /** Whether this scope owns {@code s} (it would release it at close). */
    public boolean owns(Storage s) {
        return owned.contains(s);
    }

    /**
     * Releases {@code s} to the pool now instead of at close, if this scope owns it: for a caller that can prove no
     * tensor on {@code s} (or view of it) is used again. Afterwards every access to it throws, as after a close. A
     * storage this scope does not own (kept, owned by another scope, allocated outside any scope or zero-filled) is
     * left alone. Returns whether it was released.
     */
    public boolean releaseEarly(Storage s) {
        checkOpen("releaseEarly");
        if (!owned.remove(s)) return false;
        BufferPool.release(s);
        return true;
    }

    /** Number of storages this scope will release when it closes. */
    public int ownedCount() {
        return owned.size();
    }

    /** Releases every owned storage to the pool; their tensors are unusable from here on. */
    @Override
    public void close() {
        if (closed) return;
        checkOpen("close");
        if (CURRENT.get() != this) throw new IllegalStateException("TensorScope.close: an inner scope is still open; close scopes innermost first");
        closed = true;
        CURRENT.set(parent);
        for (Storage s : new ArrayList<>(owned)) BufferPool.release(s);
        owned.clear();
    }

    private void checkOpen(String what) {
        if (closed) throw new IllegalStateException("TensorScope." + what + ": scope already closed");
        if (Thread.currentThread() != owner) throw new IllegalStateException("TensorScope." + what + ": a scope belongs to the thread that opened it (" + owner.getName() + ")");
    }
}
