package dev.distillery.distill.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A progress bar for a loop of {@code total} steps with the rate (it/s, averaged since {@link #start}) and the ETA.
 *
 * <p>On a terminal it redraws one line with carriage returns, at most every {@code 100 ms}:
 * <pre>  train  [######--------------]  300/1000  30% | 52.31 it/s | ETA 00:13 | loss=0.0412</pre>
 * Elsewhere (logs, CI) it prints the same text without the bar as plain lines, at most one per {@code interval}
 * (default 10 s), plus one at the end:
 * <pre>  train  300/1000  30% | 52.31 it/s | ETA 00:13 | loss=0.0412</pre>
 * Resumed runs pass their starting step to {@link #start}, so the rate counts only this session's steps.
 * Not thread-safe.
 */
public final class Progress {
    private static final int BAR = 20;
    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean tty;
    private final long intervalNanos;
    private final LongSupplier clock;
    private long startNanos, startStep, lastPrint = Long.MIN_VALUE, step;
    private int lastWidth;
    private boolean started, finished;

    /**
     * @param tty           redraw one line with {@code \r} (a terminal) rather than print periodic lines
     * @param intervalNanos minimum time between outputs
     * @param clock         nanosecond clock ({@link System#nanoTime} in use; a fake in tests)
     */
    public Progress(String label, long total, PrintStream out, boolean tty, long intervalNanos, LongSupplier clock) {
        if (total < 0) throw new IllegalArgumentException("total must be >= 0, got " + total);
        this.label = label;
        this.total = total;
        this.out = out;
        this.tty = tty;
        this.intervalNanos = intervalNanos;
        this.clock = clock;
    }

    /** On stderr: a redrawn bar if there is a console, else a line every 10 s. */
    public static Progress stderr(String label, long total) {
        boolean tty = System.console() != null;
        return new Progress(label, total, System.err, tty, tty ? TimeUnit.MILLISECONDS.toNanos(100) : TimeUnit.SECONDS.toNanos(10), System::nanoTime);
    }

    /** Starts timing at {@code step} (0, or the step a resumed run continues from). */
    public Progress start(long step) {
        startStep = step;
        this.step = step;
        startNanos = clock.getAsLong();
        started = true;
        return this;
    }

    /** Reports that {@code step} steps are done; {@code postfix} (e.g. {@code "loss=0.04"}, may be null) is appended. */
    public void update(long step, String postfix) {
        if (!started) start(0);
        this.step = step;
        long now = clock.getAsLong();
        if (lastPrint != Long.MIN_VALUE && now - lastPrint < intervalNanos && step < total) return;
        lastPrint = now;
        print(line(step, now, postfix), false);
    }

    /** Prints the final state and ends the line. Idempotent. */
    public void finish(String postfix) {
        if (finished) return;
        finished = true;
        if (!started) start(0);
        print(line(step, clock.getAsLong(), postfix), true);
    }

    private void print(String text, boolean last) {
        if (tty) {
            int pad = Math.max(0, lastWidth - text.length());
            out.print("\r" + text + " ".repeat(pad) + (last ? "\n" : ""));
            lastWidth = text.length();
        } else if (!last || lastPrintedText == null || !lastPrintedText.equals(text)) {
            out.println(text);
        }
        lastPrintedText = text;
        out.flush();
    }

    private String lastPrintedText;

    /** The text for {@code step} at time {@code now}. */
    String line(long step, long now, String postfix) {
        double secs = (now - startNanos) / 1e9;
        long done = step - startStep;
        double rate = secs > 0 ? done / secs : 0;
        StringBuilder sb = new StringBuilder(label).append("  ");
        if (tty && total > 0) {
            int filled = (int) Math.min(BAR, BAR * Math.max(0, step) / total);
            sb.append('[').append("#".repeat(filled)).append("-".repeat(BAR - filled)).append("]  ");
        }
        int w = Long.toString(total).length();
        sb.append(String.format(Locale.ROOT, "%" + w + "d/%d", step, total));
        if (total > 0) sb.append(String.format(Locale.ROOT, " %3d%%", (int) (100 * Math.min(step, total) / total)));
        sb.append(String.format(Locale.ROOT, " | %.2f it/s", rate));
        sb.append(" | ETA ").append(rate > 0 ? duration((long) Math.ceil((total - step) / rate)) : "--:--");
        if (postfix != null && !postfix.isEmpty()) sb.append(" | ").append(postfix);
        return sb.toString();
    }

    /** {@code mm:ss}, or {@code h:mm:ss} from an hour on. */
    static String duration(long seconds) {
        seconds = Math.max(0, seconds);
        long h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%02d:%02d", m, s);
    }
}
