package dev.distillery.distill.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class ProgressTest {
    @Test
    void plainLinesAreRateLimitedAndShowRateAndEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Progress p = new Progress("train", 100, new PrintStream(bytes, true, StandardCharsets.UTF_8), false, TimeUnit.SECONDS.toNanos(10), now::get);
        p.start(0);
        for (int s = 1; s <= 100; s++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500)); // 2 it/s
            p.update(s, "loss=" + (1.0 / s));
        }
        p.finish("loss=0.01");
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        // Step 1 (first), then every 10 s = every 20 steps, the last step, and finish with a new postfix.
        assertEquals("train    1/100   1% | 2.00 it/s | ETA 00:50 | loss=1.0", lines[0]);
        assertEquals("train   21/100  21% | 2.00 it/s | ETA 00:40 | loss=0.047619047619047616", lines[1]);
        assertEquals("train  100/100 100% | 2.00 it/s | ETA 00:00 | loss=0.01", lines[lines.length - 1]);
        assertEquals(6, lines.length, String.join("\n", lines));
        assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\r"));
    }

    @Test
    void resumedRunCountsOnlyItsOwnStepsAndTtyRedrawsInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        Progress p = new Progress("distill", 7200, new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 0, now::get);
        p.start(3600);
        now.set(TimeUnit.SECONDS.toNanos(1800));
        p.update(5400, null);
        p.finish(null);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("\rdistill  [###############-----]"), out);
        assertTrue(out.contains("[###############-----]  5400/7200  75% | 1.00 it/s | ETA 30:00"), out);
        assertTrue(out.endsWith("\n") && out.chars().filter(c -> c == '\n').count() == 1, out);
        assertEquals("1:00:01", Progress.duration(3601));
        assertEquals("--:--", new Progress("x", 10, System.err, false, 0, () -> 0).start(0).line(0, 0, null).split("ETA ")[1]);
    }
}
