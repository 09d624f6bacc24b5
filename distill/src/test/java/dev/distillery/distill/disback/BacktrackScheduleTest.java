package dev.distillery.distill.disback;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Spec disback.md §7 invariant 8. */
class BacktrackScheduleTest {
    @Test
    void targetIndexFollowsTheFormula() {
        BacktrackSchedule s = new BacktrackSchedule(10, 100);
        for (long k = 0; k < 2000; k++) assertEquals(Math.max(10 - 1 - Math.floorDiv(k, 100), 0), s.targetIndex(k), "k = " + k);
        assertEquals(9, s.targetIndex(0));
        assertEquals(9, s.targetIndex(99));
        assertEquals(8, s.targetIndex(100));
        assertEquals(900, s.teacherFrom());
    }

    @Test
    void nonIncreasingWithExactlyNMinusOneSwitchesThenTheTeacher() {
        for (int n : new int[]{2, 3, 10, 17}) {
            BacktrackSchedule s = new BacktrackSchedule(n, 7);
            int switches = 0;
            for (long k = 1; k < 40L * n; k++) {
                int prev = s.targetIndex(k - 1), cur = s.targetIndex(k);
                assertTrue(cur <= prev, "never moves back up");
                if (cur != prev) switches++;
                if (k >= (n - 1) * 7L) assertEquals(0, cur, "teacher from (N-1) Delta_back on");
            }
            assertEquals(n - 1, switches, "N = " + n);
        }
    }

    @Test
    void shortPathsTargetTheTeacherFromTheStart() {
        for (int n : new int[]{0, 1})
            for (long k = 0; k < 50; k++) assertEquals(0, new BacktrackSchedule(n, 3).targetIndex(k));
        assertThrows(IllegalArgumentException.class, () -> new BacktrackSchedule(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> new BacktrackSchedule(3, 0));
    }
}
