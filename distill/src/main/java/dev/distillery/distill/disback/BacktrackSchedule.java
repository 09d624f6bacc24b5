package dev.distillery.distill.disback;

/**
 * Which degradation-path node is the target at Stage-2 iteration k (spec disback.md §2.5 step 5a, invariant 8):
 * {@code j(k) = max(N - 1 - floor(k / Delta_back), 0)}. The target starts at P[N-1] (one node closer to the teacher
 * than the fake score's initialisation P[N]), moves one node toward the teacher every {@code Delta_back} iterations,
 * never moves back, and from {@code k >= (N - 1) Delta_back} on it is the teacher P[0]. With N = 0 or 1 the target
 * is the teacher from the start.
 *
 * <p>The paper says each node is distilled "until convergence" ([PAPER] Fig. 3); whether a convergence test is used
 * is [UNVERIFIED], so like the official code (a fixed interval) we switch on a fixed budget per node.
 *
 * @param nodes    N, the number of recorded nodes after the teacher (the path has N + 1 entries)
 * @param interval Delta_back, iterations per node
 */
public record BacktrackSchedule(int nodes, long interval) {
    public BacktrackSchedule {
        if (nodes < 0) throw new IllegalArgumentException("path nodes N must be >= 0, got " + nodes);
        if (interval < 1) throw new IllegalArgumentException("--backtrack-interval must be >= 1, got " + interval);
    }

    /** j(k) for iteration k >= 0. */
    public int targetIndex(long k) {
        if (k < 0) throw new IllegalArgumentException("iteration must be >= 0, got " + k);
        long j = nodes - 1L - k / interval;
        return (int) Math.max(j, 0);
    }

    /** The first iteration at which the target is the teacher. */
    public long teacherFrom() {
        return Math.max(nodes - 1L, 0) * interval;
    }
}
