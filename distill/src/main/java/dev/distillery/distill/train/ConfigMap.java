package dev.distillery.distill.train;

import java.util.Map;

/**
 * Typed reads from a run's parsed {@code config.json} (the map {@link RunDir#readConfig()} returns); a missing or
 * mistyped field is an error naming it. The one place every run config record reads its fields through.
 */
public final class ConfigMap {
    private ConfigMap() {}

    public static Object required(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v == null) throw new IllegalArgumentException("config.json: missing '" + key + "'");
        return v;
    }

    public static String string(Map<String, Object> m, String key) {
        return required(m, key).toString();
    }

    public static int integer(Map<String, Object> m, String key) {
        return Math.toIntExact(longInt(m, key));
    }

    public static long longInt(Map<String, Object> m, String key) {
        try {
            return JsonWriter.toLong(required(m, key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config.json: '" + key + "': " + e.getMessage(), e);
        }
    }

    public static double real(Map<String, Object> m, String key) {
        try {
            return JsonWriter.toDouble(required(m, key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config.json: '" + key + "': " + e.getMessage(), e);
        }
    }

    public static boolean bool(Map<String, Object> m, String key) {
        Object v = required(m, key);
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException("config.json: '" + key + "' must be true or false, got " + v);
    }
}
