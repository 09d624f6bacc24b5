package dev.distillery.tensor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@link BufferPool} / {@link TensorScope} contract: a released tensor (or any view of it) fails loudly, kept and
 * unscoped tensors survive, recycled outputs give bit-identical results, and scopes on several threads (with the
 * Parallel workers inside each op) do not interfere. The tests that need recycling are skipped under
 * {@code -Ddistillery.pool=off}; the rest check that scopes are then inert.
 */
class BufferPoolTest {
    /** Big enough to be pooled: 64 x 512 = 32768 elements. */
    private static final int ROWS = 64, COLS = 512;

    private static Tensor input(long seed) {
        return Tensor.randn(new Rng(seed), DType.F32, ROWS, COLS);
    }

    /** A chain of kernels that allocate their outputs uninitialised: matmul, unary, binary, softmax, norms, copies. */
    private static Tensor chain(Tensor x, Tensor w) {
        Tensor h = x.matmul(w).silu().mul(0.5).add(x);
        Tensor s = h.softmax(-1).add(h.transpose(0, 1).contiguous().transpose(0, 1));
        Tensor n = s.layerNorm(new int[]{COLS}, null, null, 1e-5).output();
        Tensor g = n.view(4, 16, 8, 64).groupNorm(4, null, null, 1e-5).output().view(ROWS, COLS);
        return Tensor.concat(List.of(g, n), 0).narrow(0, ROWS / 2, ROWS);
    }

    @Test
    void useAfterReleaseThrowsNamingTheOp() {
        assumeTrue(BufferPool.enabled());
        Tensor x = input(1), y, view;
        try (TensorScope scope = TensorScope.open()) {
            y = x.silu();
            view = y.narrow(0, 1, 3);
            assertTrue(scope.ownedCount() >= 1);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.add(1.0));
        assertTrue(e.getMessage().startsWith("Tensor.add:"), e.getMessage());
        assertTrue(e.getMessage().contains("released"), e.getMessage());
        assertThrows(IllegalStateException.class, y::toFloatArray);
        assertThrows(IllegalStateException.class, () -> y.item());
        IllegalStateException ev = assertThrows(IllegalStateException.class, () -> view.exp());
        assertTrue(ev.getMessage().startsWith("Tensor.exp:"), ev.getMessage());
        // A view made after the release fails too, as does an op that reads the released tensor as its second input.
        assertThrows(IllegalStateException.class, () -> y.transpose(0, 1).contiguous());
        assertThrows(IllegalStateException.class, () -> x.mul(y));
        assertDoesNotThrow(() -> x.silu().toFloatArray(), "the input, made outside the scope, is untouched");
    }

    @Test
    void releaseEarlyReleasesOnlyWhatTheInnermostScopeOwns() {
        assumeTrue(BufferPool.enabled());
        Tensor x = input(3), unscoped = x.exp();
        Tensor outerOwned, kept, released, view, survivor;
        try (TensorScope outer = TensorScope.open()) {
            outerOwned = x.mul(3.0);
            try (TensorScope scope = TensorScope.open()) {
                assertTrue(TensorScope.current() == scope);
                released = x.silu();
                view = released.narrow(0, 1, 3);
                survivor = x.tanh();
                kept = scope.keep(x.mul(2.0));
                int before = scope.ownedCount();
                assertTrue(scope.owns(released.storage()));
                assertTrue(scope.releaseEarly(released.storage()));
                assertEquals(before - 1, scope.ownedCount());
                assertTrue(!scope.owns(released.storage()));
                // A released storage throws on access, through the tensor and through any view of it.
                assertThrows(IllegalStateException.class, released::toFloatArray);
                assertThrows(IllegalStateException.class, () -> view.exp());
                assertTrue(!scope.releaseEarly(released.storage()), "a second release is a no-op");
                // Not owned by this scope: kept (moved to the parent), the parent's own, unscoped, zero-filled.
                before = scope.ownedCount() + 1; // the failed exp() above may have taken an output array
                assertTrue(!scope.releaseEarly(kept.storage()));
                assertTrue(!scope.releaseEarly(outerOwned.storage()));
                assertTrue(!scope.releaseEarly(unscoped.storage()));
                assertTrue(!scope.releaseEarly(Tensor.zeros(DType.F32, ROWS, COLS).storage()));
                assertEquals(before - 1, scope.ownedCount());
                assertArrayEquals(x.mul(2.0).toFloatArray(), kept.toFloatArray());
                assertArrayEquals(x.mul(3.0).toFloatArray(), outerOwned.toFloatArray());
                assertArrayEquals(x.tanh().toFloatArray(), survivor.toFloatArray());
                // The released array is reused by the next allocation of its length; the survivors are untouched.
                Tensor next = x.sigmoid();
                assertArrayEquals(x.tanh().toFloatArray(), survivor.toFloatArray());
                assertArrayEquals(x.sigmoid().toFloatArray(), next.toFloatArray());
            }
            assertArrayEquals(x.mul(2.0).toFloatArray(), kept.toFloatArray(), "kept storages outlive the inner scope");
            assertArrayEquals(x.mul(3.0).toFloatArray(), outerOwned.toFloatArray());
            assertTrue(outer.owns(kept.storage()));
        }
        assertArrayEquals(x.exp().toFloatArray(), unscoped.toFloatArray());
        assertTrue(TensorScope.current() == null);
    }

    @Test
    void outstandingBytesCountScopedArraysUntilTheirRelease() {
        assumeTrue(BufferPool.enabled() && ROWS * COLS >= BufferPool.minLength());
        Tensor x = input(5);
        long bytes = 4L * ROWS * COLS;
        // Other test classes may run on other threads of this JVM: compare this thread's own effect with slack.
        long before = BufferPool.outstandingBytes();
        BufferPool.resetPeakOutstanding();
        try (TensorScope scope = TensorScope.open()) {
            Tensor a = x.exp(), b = x.tanh();
            scope.releaseEarly(a.storage());
            assertTrue(BufferPool.peakOutstandingBytes() >= before + 2 * bytes);
            assertEquals(2 * bytes, BufferPool.peakOutstandingBytes() - before, bytes / 2.0, "peak: two arrays at once");
            b.sum();
        }
        assertEquals(before, BufferPool.outstandingBytes(), bytes / 2.0, "all released at close");
    }

    @Test
    void releaseEarlyOnAClosedScopeThrows() {
        TensorScope scope = TensorScope.open();
        Tensor y = input(4).exp();
        scope.close();
        assertThrows(IllegalStateException.class, () -> scope.releaseEarly(y.storage()));
    }

    @Test
    void keptUnscopedZerosAndSmallTensorsSurvive() {
        Tensor x = input(2), kept, unscopedZeros, small, inner;
        try (TensorScope outer = TensorScope.open()) {
            try (TensorScope scope = TensorScope.open()) {
                kept = scope.keep(x.exp());
                unscopedZeros = Tensor.zeros(DType.F32, ROWS, COLS);
                small = x.narrow(0, 0, 2).exp(); // 1024 elements: never pooled unless minLength is lowered (tests: 0)
                inner = scope.keep(x.mul(2.0));
            }
            assertDoesNotThrow(() -> inner.sum().item(), "kept: moved to the enclosing scope");
            outer.keep(kept);
        }
        assertArrayEquals(x.exp().toFloatArray(), kept.toFloatArray());
        assertEquals(0.0, unscopedZeros.abs().sum().item());
        if (!BufferPool.enabled() || small.numel() < BufferPool.minLength())
            assertArrayEquals(x.narrow(0, 0, 2).exp().toFloatArray(), small.toFloatArray());
        else
            assertThrows(IllegalStateException.class, small::toFloatArray);
        if (BufferPool.enabled()) assertThrows(IllegalStateException.class, inner::toFloatArray, "released when the outer scope closed");
        else assertDoesNotThrow(inner::toFloatArray, "pool off: scopes release nothing");
    }

    @Test
    void recycledOutputsAreBitIdenticalToFreshOnes() {
        Tensor x = input(3), w = Tensor.randn(new Rng(4), DType.F32, COLS, COLS).mul(0.05);
        float[] fresh = chain(x, w).toFloatArray();
        long hitsBefore = BufferPool.stats().hits();
        for (int i = 0; i < 4; i++) {
            try (TensorScope scope = TensorScope.open()) {
                // Scribble over the arrays the next scope will recycle: results must not depend on their old contents.
                x.mul((double) (i + 7)).exp();
                assertArrayEquals(fresh, chain(x, w).toFloatArray(), "iteration " + i);
            }
        }
        if (BufferPool.enabled()) assertTrue(BufferPool.stats().hits() > hitsBefore, "later scopes reuse the arrays of earlier ones");
    }

    @Test
    void scopesOnSeveralThreadsDoNotInterfere() throws Exception {
        int threads = 4, iterations = 8;
        Tensor w = Tensor.randn(new Rng(5), DType.F32, COLS, COLS).mul(0.05);
        List<Tensor> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            inputs.add(input(10 + t));
            expected.add(chain(inputs.get(t), w).toFloatArray());
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < iterations; i++) {
                        try (TensorScope scope = TensorScope.open()) {
                            assertArrayEquals(expected.get(id), chain(inputs.get(id), w).toFloatArray(), "thread " + id + " iteration " + i);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void scopesCloseInnermostFirstOnTheirOwnThread() throws Exception {
        TensorScope outer = TensorScope.open();
        TensorScope inner = TensorScope.open();
        assertThrows(IllegalStateException.class, outer::close);
        Thread other = new Thread(() -> assertThrows(IllegalStateException.class, inner::close));
        other.start();
        other.join();
        inner.close();
        outer.close();
        assertDoesNotThrow(outer::close, "closing twice is a no-op");
        assertThrows(IllegalStateException.class, () -> outer.keep(input(6)));
    }

    @Test
    void clearDropsTheHeldArrays() {
        assumeTrue(BufferPool.enabled());
        try (TensorScope scope = TensorScope.open()) {
            input(8).exp();
        }
        assertTrue(BufferPool.stats().heldBytes() >= 4L * ROWS * COLS);
        BufferPool.clear();
        assertEquals(0, BufferPool.stats().heldBytes());
    }

    @Test
    void poisonModeFillsUninitialisedOutputsWithNaN() {
        assumeTrue(BufferPool.enabled() && Boolean.getBoolean("distillery.pool.poison"));
        Storage s = Storage.allocateUninitialized(DType.F32, 10);
        assertTrue(Double.isNaN(s.getDouble(0)) && Double.isNaN(s.getDouble(9)));
    }
}
