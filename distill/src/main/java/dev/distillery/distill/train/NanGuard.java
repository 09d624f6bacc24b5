package dev.distillery.distill.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Stops a run whose loss is no longer finite: {@link #check} throws a {@link NonFiniteLossException} naming the step
 * and the last good checkpoint to resume from (its parameters predate the blow-up, as the check runs before the
 * optimiser step and before the next checkpoint).
 */
public final class NanGuard {
    /** A NaN or infinite loss; the message names the step, the value and the checkpoint to resume from. */
    public static final class NonFiniteLossException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final long step;
        private final transient Path lastGood;

        NonFiniteLossException(long step, double loss, Path lastGood) {
            super("loss is " + loss + " at step " + step + "; stopping the run. "
                    + (lastGood == null ? "No checkpoint has been written yet." : "Last good checkpoint: " + lastGood
                    + " (resume from it, e.g. with a lower learning rate)"));
            this.step = step;
            this.lastGood = lastGood;
        }

        public long step() {
            return step;
        }

        /** The newest complete checkpoint, or empty if none was written. */
        public Optional<Path> lastGood() {
            return Optional.ofNullable(lastGood);
        }
    }

    private final Checkpoint checkpoints;

    /** A guard that looks up the last good checkpoint in {@code checkpoints} (null: none are written). */
    public NanGuard(Checkpoint checkpoints) {
        this.checkpoints = checkpoints;
    }

    /** Returns {@code loss} if it is finite, else throws {@link NonFiniteLossException}. */
    public double check(long step, double loss) {
        if (Double.isFinite(loss)) return loss;
        Path last = null;
        if (checkpoints != null) {
            try {
                last = checkpoints.latest().orElse(null);
            } catch (IOException e) {
                NonFiniteLossException ex = new NonFiniteLossException(step, loss, null);
                ex.addSuppressed(e);
                throw ex;
            }
        }
        throw new NonFiniteLossException(step, loss, last);
    }
}
