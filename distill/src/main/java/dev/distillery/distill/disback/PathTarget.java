package dev.distillery.distill.disback;

import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * DisBack's Stage-2 target (spec disback.md §2.5 step 5a): node {@code P[j(k)]} of the degradation path, with j from
 * the {@link BacktrackSchedule}. One network slot holds the current node; a switch loads the next node's weights from
 * disk into it and checks their digest against the path's record (spec invariant 11: the official code's
 * {@code strict=False} load silently loaded nothing). Classifier-free guidance, if any, applies to the target only.
 */
public final class PathTarget implements TargetScore {
    private static final System.Logger LOG = System.getLogger(PathTarget.class.getName());
    private final DegradationPath path;
    private final BacktrackSchedule schedule;
    private final EdmDenoiserNet slot;
    private final Guidance guidance;
    private int current = -1;
    private String currentDigest;

    /**
     * @param slot a network of the teacher's architecture; its weights are overwritten by each node
     */
    public PathTarget(DegradationPath path, BacktrackSchedule schedule, EdmDenoiserNet slot, Guidance guidance) {
        if (!path.isComplete()) throw new IllegalArgumentException("degradation path " + path.dir() + " is incomplete (" + path.size() + " of " + (path.spec().nodes() + 1) + " nodes)");
        if (schedule.nodes() != path.spec().nodes())
            throw new IllegalArgumentException("schedule has N = " + schedule.nodes() + " but the path in " + path.dir() + " has N = " + path.spec().nodes());
        this.path = path;
        this.schedule = schedule;
        this.slot = slot;
        this.guidance = guidance;
    }

    /** Makes {@code P[j(k)]} the target for iteration k, loading it if it is not already loaded. */
    public void moveTo(long k) {
        int j = schedule.targetIndex(k);
        if (j == current) return;
        if (current >= 0 && j > current) throw new IllegalStateException("the target never moves back up the path (node " + current + " -> " + j + ")");
        try {
            String digest = path.loadInto(j, slot);
            if (currentDigest != null && digest.equals(currentDigest))
                LOG.log(System.Logger.Level.WARNING, "path node {0} has the same weights as node {1} (degenerate path: zero learning rate?)", j, current);
            current = j;
            currentDigest = digest;
            LOG.log(System.Logger.Level.DEBUG, "iteration {0}: target is path node {1}", k, j);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The node index now loaded (-1 before the first {@link #moveTo}). */
    public int currentIndex() {
        return current;
    }

    /** The weights digest of the loaded node. */
    public String currentDigest() {
        return currentDigest;
    }

    public EdmDenoiserNet network() {
        return slot;
    }

    @Override
    public Tensor denoise(Tensor xt, double[] sigma, Tensor cond) {
        if (current < 0) throw new IllegalStateException("PathTarget: call moveTo(k) before the first use");
        return TargetScore.guided(slot, guidance, xt, sigma, cond);
    }
}
