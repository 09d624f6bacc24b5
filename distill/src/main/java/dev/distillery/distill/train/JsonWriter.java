package dev.distillery.distill.train;

import dev.distillery.tensor.io.Json;

import java.util.Collection;
import java.util.Map;

/**
 * Renders plain values as compact JSON, the inverse of {@link Json#parse} for what runs write: {@link Map} (keys via
 * {@code toString}), {@link Collection} and arrays of primitives, {@link String}, {@link Boolean}, {@code null},
 * integral numbers, and floating-point numbers as {@link Double#toString} (which reads back to the same bits).
 * Non-finite doubles, which JSON cannot express, become the strings {@code "NaN"}, {@code "Infinity"} and
 * {@code "-Infinity"} ({@link #toDouble} reads them back). Enums are written by name, {@link Json.Num} as its text
 * and anything else as its {@code toString()} string.
 */
public final class JsonWriter {
    private JsonWriter() {}

    public static String write(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    public static void write(StringBuilder sb, Object v) {
        if (v == null || v == Json.NULL) sb.append("null");
        else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (var e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                Json.writeString(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) sb.append(',');
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (v instanceof double[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) { if (i > 0) sb.append(','); write(sb, a[i]); }
            sb.append(']');
        } else if (v instanceof float[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) { if (i > 0) sb.append(','); write(sb, a[i]); }
            sb.append(']');
        } else if (v instanceof long[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) { if (i > 0) sb.append(','); sb.append(a[i]); }
            sb.append(']');
        } else if (v instanceof int[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) { if (i > 0) sb.append(','); sb.append(a[i]); }
            sb.append(']');
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (v instanceof Float f) {
                if (Float.isFinite(f)) sb.append(Float.toString(f));
                else Json.writeString(sb, Double.toString(d));
            } else if (Double.isFinite(d)) sb.append(Double.toString(d));
            else Json.writeString(sb, Double.toString(d));
        } else if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long
                || v instanceof java.math.BigInteger || v instanceof java.math.BigDecimal) sb.append(v);
        else if (v instanceof Json.Num n) sb.append(n.text());
        else if (v instanceof Boolean b) sb.append(b);
        else if (v instanceof Enum<?> e) Json.writeString(sb, e.name());
        else Json.writeString(sb, v.toString());
    }

    /** A number as {@link #write} wrote it: a {@link Json.Num}, or a string "NaN" / "Infinity" / "-Infinity". */
    public static double toDouble(Object v) {
        if (v instanceof Json.Num n) return n.asDouble();
        if (v instanceof String s) {
            switch (s) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw new IllegalArgumentException("expected a number, got " + Json.typeName(v));
    }

    /** An integer literal (any sign) as a long. */
    public static long toLong(Object v) {
        if (v instanceof Json.Num n && n.isInteger()) {
            try {
                return Long.parseLong(n.text());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("integer " + n.text() + " out of range");
            }
        }
        throw new IllegalArgumentException("expected an integer, got " + (v instanceof Json.Num n ? n.text() : Json.typeName(v)));
    }
}
