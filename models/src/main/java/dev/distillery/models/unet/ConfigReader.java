package dev.distillery.models.unet;

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
 * Reads the fields of a diffusers {@code config.json} object with diffusers' meaning of absent and null keys: an
 * absent key takes the constructor default; a JSON null is Python's None, so it is null for the fields that may be
 * None, false for booleans (None is falsy) and an error for the fields that must have a value. Every type error
 * names the key. Keys that were never read are the config's extras.
 */
final class ConfigReader {
    private final Map<String, Object> map = new LinkedHashMap<>();
    private final Set<String> read = new HashSet<>();

    ConfigReader(Object root, String what) {
        if (!(root instanceof Map<?, ?> m)) throw new IllegalArgumentException(what + " must be a JSON object, got " + Json.typeName(root));
        m.forEach((k, v) -> map.put((String) k, v));
    }

    /** Parses {@code file} and builds the config with {@code build}; errors name the file (and the key). */
    static <T> T load(Path file, Function<Object, T> build) throws IOException {
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

    /** Parses JSON text and builds the config; errors are IllegalArgumentExceptions naming {@code what}. */
    static <T> T parse(String json, String what, Function<Object, T> build) {
        try {
            return build.apply(Json.parse(json));
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The keys that no accessor read, in file order, with their JSON values. */
    Map<String, Object> extras() {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (!read.contains(k)) out.put(k, v);
        });
        return out;
    }

    private Object get(String k) {
        read.add(k);
        return map.get(k);
    }

    private boolean absent(String k) {
        read.add(k);
        return !map.containsKey(k);
    }

    private static IllegalArgumentException wrong(String k, String expected, Object v) {
        return new IllegalArgumentException("'" + k + "' must be " + expected + ", got " + (v instanceof Json.Num n ? n.text() : Json.typeName(v)));
    }

    String string(String k, String def) {
        if (absent(k)) return def;
        if (get(k) instanceof String s) return s;
        throw wrong(k, "a string", get(k));
    }

    String nullableString(String k, String def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : string(k, def);
    }

    boolean bool(String k, boolean def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v == Json.NULL) return false;
        if (v instanceof Boolean b) return b;
        throw wrong(k, "a boolean", v);
    }

    Boolean nullableBool(String k, Boolean def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : bool(k, false);
    }

    double number(String k, double def) {
        if (absent(k)) return def;
        if (get(k) instanceof Json.Num n) return n.asDouble();
        throw wrong(k, "a number", get(k));
    }

    int integer(String k, int def) {
        if (absent(k)) return def;
        return toInt(k, get(k));
    }

    Integer nullableInt(String k, Integer def) {
        if (absent(k)) return def;
        return get(k) == Json.NULL ? null : toInt(k, get(k));
    }

    private static int toInt(String k, Object v) {
        if (v instanceof Json.Num n && n.isInteger()) {
            try {
                return Math.toIntExact(Long.parseLong(n.text()));
            } catch (NumberFormatException | ArithmeticException e) {
                // falls through to the error
            }
        }
        throw wrong(k, "an integer", v);
    }

    List<String> strings(String k, List<String> def) {
        if (absent(k)) return def;
        if (!(get(k) instanceof List<?> l)) throw wrong(k, "an array of strings", get(k));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String s)) throw wrong(k + "[" + i + "]", "a string", l.get(i));
            out.add(s);
        }
        return out;
    }

    List<Integer> ints(String k, List<Integer> def) {
        if (absent(k)) return def;
        if (!(get(k) instanceof List<?> l)) throw wrong(k, "an array of integers", get(k));
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(toInt(k + "[" + i + "]", l.get(i)));
        return out;
    }

    /** An integer or an array of integers (as written: a scalar becomes a one-element list), or null. */
    List<Integer> intOrInts(String k, List<Integer> def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v == Json.NULL) return null;
        if (v instanceof List<?>) return ints(k, def);
        if (v instanceof Json.Num) return List.of(toInt(k, v));
        throw wrong(k, "an integer or an array of integers", v);
    }

    PerBlock<Integer> perBlockInt(String k, PerBlock<Integer> def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v == Json.NULL) return null;
        if (v instanceof List<?>) return PerBlock.list(ints(k, null));
        if (v instanceof Json.Num) return PerBlock.of(toInt(k, v));
        throw wrong(k, "an integer or an array of integers", v);
    }

    PerBlock<Boolean> perBlockBool(String k, PerBlock<Boolean> def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v == Json.NULL) return PerBlock.of(false);
        if (v instanceof Boolean b) return PerBlock.of(b);
        if (!(v instanceof List<?> l)) throw wrong(k, "a boolean or an array of booleans", v);
        List<Boolean> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof Boolean b)) throw wrong(k + "[" + i + "]", "a boolean", l.get(i));
            out.add(b);
        }
        return PerBlock.list(out);
    }

    /** {@code transformer_layers_per_block}: an integer, or an array of integers and/or arrays of integers. */
    PerBlock<TransformerDepth> transformerDepths(String k, PerBlock<TransformerDepth> def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v instanceof Json.Num) return PerBlock.of(TransformerDepth.of(toInt(k, v)));
        if (!(v instanceof List<?> l)) throw wrong(k, "an integer or an array", v);
        List<TransformerDepth> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            Object e = l.get(i);
            if (e instanceof List<?>) out.add(TransformerDepth.perLayer(nested(k + "[" + i + "]", e)));
            else out.add(TransformerDepth.of(toInt(k + "[" + i + "]", e)));
        }
        return PerBlock.list(out);
    }

    /** An array of arrays of integers, or null. */
    List<List<Integer>> nestedInts(String k, List<List<Integer>> def) {
        if (absent(k)) return def;
        Object v = get(k);
        if (v == Json.NULL) return null;
        if (!(v instanceof List<?> l)) throw wrong(k, "an array of arrays of integers", v);
        List<List<Integer>> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(nested(k + "[" + i + "]", l.get(i)));
        return out;
    }

    private static List<Integer> nested(String k, Object v) {
        if (!(v instanceof List<?> l)) throw wrong(k, "an array of integers", v);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(toInt(k + "[" + i + "]", l.get(i)));
        return out;
    }
}
