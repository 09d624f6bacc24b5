package dev.distillery.distill.metrics;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureMetricsTest {
    @Test
    void reportKeepsOrderAndIsImmutable() {
        MetricsReport r = MetricsReport.empty().with("fid", 1.5).with("precision", 0.25).with("fid", 2);
        assertEquals(List.of("fid", "precision"), List.copyOf(r.values().keySet()));
        assertEquals(2, r.get("fid"), 0);
        assertTrue(r.has("precision"));
        assertFalse(r.has("recall"));
        assertThrows(NoSuchElementException.class, () -> r.get("recall"));
        assertThrows(UnsupportedOperationException.class, () -> r.values().put("x", 1.0));
        MetricsReport merged = r.merge(new MetricsReport(Map.of("recall", 0.5, "precision", 0.75)));
        assertEquals(0.75, merged.get("precision"), 0);
        assertEquals(0.5, merged.get("recall"), 0);
        assertEquals("fid=2.00000 precision=0.250000", r.toString());
    }

    @Test
    void compareProducesAllMetrics() {
        Random rng = new Random(8);
        int n = 120, dim = 3;
        double[] a = new double[n * dim], b = new double[n * dim];
        for (int i = 0; i < a.length; i++) {
            a[i] = rng.nextGaussian();
            b[i] = rng.nextGaussian() + 2;
        }
        Tensor ta = Tensor.of(a, n, dim), tb = Tensor.of(b, n, dim);
        MetricsReport same = FeatureMetrics.compare(ta, ta);
        assertEquals(List.of("fid", "precision", "recall", "mmd2", "mmd_bandwidth", "sw1"),
                List.copyOf(same.values().keySet()));
        assertEquals(0, same.get("fid"), 1e-9);
        assertEquals(1, same.get("precision"), 0);
        assertEquals(1, same.get("recall"), 0);
        assertEquals(0, same.get("sw1"), 1e-12);
        MetricsReport far = FeatureMetrics.compare(ta, tb, new FeatureMetrics.Options(3, 1.0, 0, 0));
        assertFalse(far.has("sw1"));
        assertEquals(1.0, far.get("mmd_bandwidth"), 0);
        assertEquals(FrechetDistance.compute(ta, tb), far.get("fid"), 1e-12);
        assertTrue(far.get("fid") > 8 && far.get("mmd2") > 0.1 && far.get("precision") < 0.5, far.toString());
    }
}
