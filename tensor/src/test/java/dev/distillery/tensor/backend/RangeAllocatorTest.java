package dev.distillery.tensor.backend;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RangeAllocatorTest {

    @Test
    void alignsRoundsUpAndMergesFreedNeighbours() {
        RangeAllocator a = new RangeAllocator("arena", 1000, 16);
        assertEquals(992, a.capacity(), "capacity rounds down to the alignment");
        long x = a.allocate(1), y = a.allocate(17), z = a.allocate(0);
        assertEquals(0, x);
        assertEquals(16, y);
        assertEquals(48, z, "a zero-length request still gets its own range");
        assertEquals(64, a.usedElements());
        a.release(y);
        a.release(x);
        assertEquals(0, a.allocate(48), "x and y merged back into one 48-element range at 0");
        a.release(0);
        a.release(z);
        assertEquals(992, a.largestFree(), "everything merged back");
        assertEquals(0, a.liveRanges());
    }

    @Test
    void bestFitPicksTheSmallestRangeThatFits() {
        RangeAllocator a = new RangeAllocator("arena", 1024, 1);
        long p = a.allocate(100), q = a.allocate(10), r = a.allocate(50), s = a.allocate(10);
        a.release(p); // free: [0,100)
        a.release(r); // free: [110,160)
        assertEquals(110, a.allocate(40), "the 50-element hole fits 40 better than the 100-element one");
        assertEquals(0, a.allocate(60));
        a.release(q);
        a.release(s);
    }

    @Test
    void fullArenaAndDoubleReleaseFailWithTheArenaName() {
        RangeAllocator a = new RangeAllocator("tornado:0 float arena (-Ddistillery.tornado.arena.mb)", 64, 16);
        long x = a.allocate(64);
        IllegalStateException full = assertThrows(IllegalStateException.class, () -> a.allocate(1));
        assertTrue(full.getMessage().contains("-Ddistillery.tornado.arena.mb"), full.getMessage());
        a.release(x);
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> a.release(x));
        assertTrue(twice.getMessage().contains("released twice"), twice.getMessage());
    }

    @Test
    void randomAllocationsNeverOverlapAndAllMergeBack() {
        RangeAllocator a = new RangeAllocator("arena", 1 << 16, 8);
        SplittableRandom rnd = new SplittableRandom(7);
        List<long[]> live = new ArrayList<>(); // {offset, length}
        for (int step = 0; step < 5000; step++) {
            if (!live.isEmpty() && (rnd.nextInt(3) == 0 || a.largestFree() < 600)) {
                long[] r = live.remove(rnd.nextInt(live.size()));
                a.release(r[0]);
            } else {
                long len = rnd.nextInt(600);
                live.add(new long[]{a.allocate(len), len});
            }
            if (step % 97 == 0) {
                live.sort((u, v) -> Long.compare(u[0], v[0]));
                for (int i = 1; i < live.size(); i++)
                    assertTrue(live.get(i - 1)[0] + live.get(i - 1)[1] <= live.get(i)[0], "ranges overlap at step " + step);
                for (long[] r : live) assertEquals(0, r[0] % 8, "misaligned offset");
            }
        }
        for (long[] r : live) a.release(r[0]);
        assertEquals(0, a.usedElements());
        assertEquals(a.capacity(), a.largestFree());
        assertTrue(a.peakElements() > 0);
    }
}
