package dev.distillery.models.config;

import dev.distillery.tensor.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The fields of one {@code config.json} object (a diffusers model or scheduler config, a transformers config), read
 * by key with a default for absent keys. Every type error is an {@link IllegalArgumentException} of the form
 * {@code 'key' must be <what>, got <value>} (array elements are named {@code key[i]}); {@link #load} adds the file.
 * Keys that no accessor read are the config's {@link #extras()}, in file order.
 *
 * <p><b>JSON null.</b> With {@link Nulls#NONE} (diffusers' model configs) a null is Python's None: the
 * {@code nullable...} accessors return null, {@link #bool} returns false (None is falsy) and the accessors of values
 * that must be present reject it. With {@link Nulls#DEFAULT} a null is read as if the key were absent: every
 * accessor returns its default.
 *
 * <p>Typical use, in a config record:
 * <pre>{@code
 * public static MyConfig load(Path file) throws IOException { return ConfigJson.load(file, MyConfig::fromJson); }
 * public static MyConfig parse(String json) { return ConfigJson.parse(json, "my config", MyConfig::fromJson); }
 * public static MyConfig fromJson(Object root) {
 *     ConfigJson r = new ConfigJson(root, "my config");
 *     return new MyConfig(r.integer("in_channels", 3), r.string("act_fn", "silu"), r.extras());
 * }
 * }</pre>
 * Readers of domain types (per-block values, ...) build on {@link #raw}, {@link #asInt}, {@link #asInts} and
 * {@link #typeError}. Not thread-safe: one instance reads one object once.
 */
public final class ConfigJson {
    /** What a JSON null means. */
    public enum Nulls {
        /** Python's None: null for the nullable accessors, false for booleans, an error for required values. */
        NONE,
        /** The same as an absent key: the accessor's default. */
        DEFAULT
    }

    private final Map<String, Object> map = new LinkedHashMap<>();
    private final Set<String> read = new HashSet<>();
    private final boolean nullIsDefault;

    /** Reads {@code root} with {@link Nulls#NONE}; see {@link #ConfigJson(Object, String, Nulls)}. */
    public ConfigJson(Object root, String what) {
        this(root, what, Nulls.NONE);
    }

    /**
     * @param root  a parsed JSON value ({@link Json#parse}); it must be an object
     * @param what  the config's name for errors, e.g. "UNet2DModel config"
     * @param nulls what a JSON null means
     * @throws IllegalArgumentException {@code <what> must be a JSON object, got ...} when root is not an object
     */
    public ConfigJson(Object root, String what, Nulls nulls) {
        if (!(root instanceof Map<?, ?> m)) throw new IllegalArgumentException(what + " must be a JSON object, got " + Json.typeName(root));
        m.forEach((k, v) -> map.put((String) k, v));
        this.nullIsDefault = nulls == Nulls.DEFAULT;
    }

    // ------------------------------------------------------------------------------------------ files and text

    /**
     * Reads and parses {@code file} and builds the config with {@code build}. Errors are IOExceptions that name
     * the file: {@code <file>: not valid JSON: ...}, or {@code <file>: <message>} for an IllegalArgumentException
     * of {@code build} (a type error names the key).
     */
    public static <T> T load(Path file, Function<Object, T> build) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Object root;
        try {
            root = Json.parse(bytes);
        } catch (Json.ParseException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return build.apply(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses JSON text and builds the config with {@code build}. Invalid JSON is an IllegalArgumentException
     * {@code <what> is not valid JSON: ...}; errors of {@code build} pass through.
     */
    public static <T> T parse(String json, String what, Function<Object, T> build) {
        try {
            return build.apply(Json.parse(json));
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------ keys

    /** The keys that no accessor read, in file order, with their JSON values. */
    public Map<String, Object> extras() {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (!read.contains(k)) out.put(k, v);
        });
        return out;
    }

    /**
     * The JSON value of {@code k} as parsed ({@link Json#NULL} for a null under {@link Nulls#NONE}), or Java null
     * when the key is absent (or null under {@link Nulls#DEFAULT}). Marks the key as read.
     */
    public Object raw(String k) {
        return absent(k) ? null : map.get(k);
    }

    private Object get(String k) {
        read.add(k);
        return map.get(k);
    }

    private boolean absent(String k) {
        read.add(k);
        return !map.containsKey(k) || (nullIsDefault && map.get(k) == Json.NULL);
    }

    // ------------------------------------------------------------------------------------------ scalars

    /** A string; {@code def} when absent. */
    public String string(String k, String def) {
        if (absent(k)) return def;
        if (get(k) instanceof String s) return s;
        throw typeError(k, "a string", get(k));
    }

    /** A string mapped through {@code parse} (an enum's config-name lookup, ...); {@code def} when absent. */
    public <T> T string(String k, T def, Function<String, T> parse) {
        return absent(k) ? def : parse.apply(string(k, null));
    }

    /** A string, or null for a JSON null; {@code def} when absent. */
    public String nullableString(String k, String def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : string(k, def);
    }

    /** A boolean (a JSON null is false); {@code def} when absent. */
    public boolean bool(String k, boolean def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v == Json.NULL) return false;
        if (v instanceof Boolean b) return b;
        throw typeError(k, "a boolean", v);
    }

    /** A boolean, or null for a JSON null; {@code def} when absent. */
    public Boolean nullableBool(String k, Boolean def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : bool(k, false);
    }

    /** Any number, as a double; {@code def} when absent. */
    public double number(String k, double def) {
        if (absent(k)) return def;
        return asDouble(k, get(k));
    }

    /** Any number as a double, or null for a JSON null; {@code def} when absent. */
    public Double nullableNumber(String k, Double def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : asDouble(k, get(k));
    }

    /** An integer literal that fits an int; {@code def} when absent. */
    public int integer(String k, int def) {
        if (absent(k)) return def;
        return asInt(k, get(k));
    }

    /** An integer, or null for a JSON null; {@code def} when absent. */
    public Integer nullableInt(String k, Integer def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : asInt(k, get(k));
    }

    // ------------------------------------------------------------------------------------------ arrays

    /** An array of strings; {@code def} when absent. */
    public List<String> strings(String k, List<String> def) {
        if (absent(k)) return def;
        if (!(get(k) instanceof List<?> l)) throw typeError(k, "an array of strings", get(k));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String s)) throw typeError(k + "[" + i + "]", "a string", l.get(i));
            out.add(s);
        }
        return out;
    }

    /** An array of integers; {@code def} when absent. */
    public List<Integer> ints(String k, List<Integer> def) {
        if (absent(k)) return def;
        return asInts(k, get(k));
    }

    /** An array of numbers, as doubles; {@code def} when absent. */
    public List<Double> numbers(String k, List<Double> def) {
        if (absent(k)) return def;
        if (!(get(k) instanceof List<?> l)) throw typeError(k, "an array of numbers", get(k));
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(asDouble(k + "[" + i + "]", l.get(i)));
        return out;
    }

    /** An integer or an array of integers (as written: a scalar becomes a one-element list), or null for a JSON null; {@code def} when absent. */
    public List<Integer> intOrInts(String k, List<Integer> def) {
        Object v = raw(k);
        if (v == null) return def;
        if (v == Json.NULL) return null;
        if (v instanceof List<?>) return asInts(k, v);
        if (v instanceof Json.Num) return List.of(asInt(k, v));
        throw typeError(k, "an integer or an array of integers", v);
    }

    /** An array of arrays of integers, or null for a JSON null; {@code def} when absent. */
    public List<List<Integer>> nestedInts(String k, List<List<Integer>> def) {
        Object v = raw(k);
        if (v == null) return def;
        if (v == Json.NULL) return null;
        if (!(v instanceof List<?> l)) throw typeError(k, "an array of arrays of integers", v);
        List<List<Integer>> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(asInts(k + "[" + i + "]", l.get(i)));
        return out;
    }

    // ------------------------------------------------------------------------------------------ values

    /** {@code v} as an int: an integer literal (no fraction or exponent) in int range, else a type error naming {@code k}. */
    public static int asInt(String k, Object v) {
        if (v instanceof Json.Num n && n.isInteger()) {
            try {
                return Math.toIntExact(Long.parseLong(n.text()));
            } catch (NumberFormatException | ArithmeticException e) {
                // falls through to the error
            }
        }
        throw typeError(k, "an integer", v);
    }

    /** {@code v} as a double: any JSON number, else a type error naming {@code k}. */
    public static double asDouble(String k, Object v) {
        if (v instanceof Json.Num n) return n.asDouble();
        throw typeError(k, "a number", v);
    }

    /** {@code v} as an array of integers; elements are named {@code k[i]} in errors. */
    public static List<Integer> asInts(String k, Object v) {
        if (!(v instanceof List<?> l)) throw typeError(k, "an array of integers", v);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(asInt(k + "[" + i + "]", l.get(i)));
        return out;
    }

    /**
     * The error for a value of the wrong type: {@code 'k' must be <expected>, got <v>}, where a number is shown as
     * written and anything else by its JSON type ({@link Json#typeName}).
     */
    public static IllegalArgumentException typeError(String k, String expected, Object v) {
        return new IllegalArgumentException("'" + k + "' must be " + expected + ", got " + (v instanceof Json.Num n ? n.text() : Json.typeName(v)));
    }
}
