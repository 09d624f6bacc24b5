package dev.distillery.distill.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Named metric values in insertion order (e.g. {@code fid}, {@code precision}, {@code recall}, {@code mmd2}).
 * Immutable; {@link #with} returns a new report.
 */
public record MetricsReport(Map<String, Double> values) {
    public MetricsReport {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty()) throw new IllegalArgumentException("metric names must be non-empty");
            if (e.getValue() == null) throw new IllegalArgumentException("metric " + e.getKey() + " has no value");
        }
    }

    public static MetricsReport empty() {
        return new MetricsReport(Map.of());
    }

    /** A report with {@code name} set to {@code value} (replacing an existing value, keeping its position). */
    public MetricsReport with(String name, double value) {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>(values);
        m.put(name, value);
        return new MetricsReport(m);
    }

    /** All entries of both reports; {@code other}'s values win on a name clash. */
    public MetricsReport merge(MetricsReport other) {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>(values);
        m.putAll(other.values);
        return new MetricsReport(m);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public double get(String name) {
        Double v = values.get(name);
        if (v == null) throw new NoSuchElementException("no metric named " + name + "; have " + values.keySet());
        return v;
    }

    /** {@code name=value} pairs, space separated, values with 6 significant digits. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(e.getKey()).append('=').append(String.format(java.util.Locale.ROOT, "%.6g", e.getValue()));
        }
        return sb.toString();
    }
}
