package dev.distillery.tensor.io;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) parser and string writer for safetensors headers and index files.
 *
 * <p>Values are {@link Map} (a {@link LinkedHashMap} in document order) for objects, {@link List} for arrays,
 * {@link String}, {@link Num} (the literal text, interpreted on demand), {@link Boolean} and {@link #NULL}.
 * Stricter than most parsers on purpose: duplicate keys in an object, lone surrogates (raw or escaped),
 * invalid UTF-8, trailing commas, leading zeros, comments, and nesting deeper than {@link #MAX_DEPTH} are errors.
 * Every error is a {@link ParseException}; nothing else escapes, whatever the input.
 *
 * <p>The project's one JSON reader: safetensors headers, index files, and the {@code config.json} files model configs
 * are loaded from.
 */
public final class Json {
    private Json() {}

    /** Deeper nesting is rejected, so hostile input cannot exhaust the stack. A safetensors header needs 3. */
    public static final int MAX_DEPTH = 64;

    /** JSON {@code null}. */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A number as written; {@link #asNonNegativeLong} interprets it. */
    public record Num(String text) {
        public boolean isNegative() {
            return text.startsWith("-");
        }

        public boolean isInteger() {
            return text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
        }

        /** The value if it is an integer literal in [0, Long.MAX_VALUE], else -1. */
        public long asNonNegativeLong() {
            if (!isInteger() || isNegative()) return -1;
            if (text.length() > 18) return -1; // 18 digits always fit; longer literals are larger than any file
            return Long.parseLong(text); // grammar already checked: digits only, no leading zero
        }

        /** The value as a double (any JSON number). */
        public double asDouble() {
            return Double.parseDouble(text);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    public static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message) {
            super(message);
        }
    }

    /** Decodes strict UTF-8 (malformed or surrogate-encoding bytes are errors) and parses one JSON value. */
    public static Object parse(byte[] utf8) throws ParseException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new ParseException("not valid UTF-8 (" + e.getMessage() + ")");
        }
        return parse(text);
    }

    /** Parses one JSON value; only whitespace may follow it. */
    public static Object parse(String text) throws ParseException {
        Parser p = new Parser(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) throw p.error("unexpected " + p.describeHere() + " after the JSON value");
        return v;
    }

    /** A short description of a value's JSON type, for error messages. */
    public static String typeName(Object v) {
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Num) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return "null";
    }

    /** Appends {@code s} as a JSON string literal; non-ASCII is written raw (the caller encodes UTF-8). */
    public static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** True when {@code s} has no unpaired surrogate, so it can be encoded as UTF-8. */
    static boolean isWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
                else return false;
            } else if (Character.isLowSurrogate(c)) return false;
        }
        return true;
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        ParseException error(String what) {
            return new ParseException(what + " at character " + pos);
        }

        String describeHere() {
            if (pos >= s.length()) return "end of input";
            char c = s.charAt(pos);
            if (c >= 0x20 && c < 0x7f) return "'" + c + "'";
            return String.format("character U+%04X", (int) c);
        }

        void skipWhitespace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
                else break;
            }
        }

        Object value(int depth) throws ParseException {
            if (pos >= s.length()) throw error("unexpected end of input, expected a value");
            char c = s.charAt(pos);
            return switch (c) {
                case '{' -> object(depth + 1);
                case '[' -> array(depth + 1);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", NULL);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("unexpected " + describeHere() + ", expected a value");
                }
            };
        }

        private Object literal(String word, Object v) throws ParseException {
            if (!s.startsWith(word, pos)) throw error("unexpected " + describeHere() + ", expected a value");
            pos += word.length();
            return v;
        }

        private Map<String, Object> object(int depth) throws ParseException {
            if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
            pos++; // '{'
            Map<String, Object> m = new LinkedHashMap<>();
            skipWhitespace();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipWhitespace();
                if (pos >= s.length() || s.charAt(pos) != '"') throw error("unexpected " + describeHere() + ", expected a string key");
                int keyPos = pos;
                String key = string();
                skipWhitespace();
                if (pos >= s.length() || s.charAt(pos) != ':') throw error("unexpected " + describeHere() + ", expected ':'");
                pos++;
                skipWhitespace();
                Object v = value(depth);
                if (m.putIfAbsent(key, v) != null) {
                    pos = keyPos;
                    throw error("duplicate key " + quote(key));
                }
                skipWhitespace();
                if (pos >= s.length()) throw error("unexpected end of input, expected ',' or '}'");
                char c = s.charAt(pos++);
                if (c == '}') return m;
                if (c != ',') {
                    pos--;
                    throw error("unexpected " + describeHere() + ", expected ',' or '}'");
                }
            }
        }

        private List<Object> array(int depth) throws ParseException {
            if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
            pos++; // '['
            List<Object> a = new ArrayList<>();
            skipWhitespace();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return Collections.unmodifiableList(a);
            }
            while (true) {
                skipWhitespace();
                a.add(value(depth));
                skipWhitespace();
                if (pos >= s.length()) throw error("unexpected end of input, expected ',' or ']'");
                char c = s.charAt(pos++);
                if (c == ']') return Collections.unmodifiableList(a);
                if (c != ',') {
                    pos--;
                    throw error("unexpected " + describeHere() + ", expected ',' or ']'");
                }
            }
        }

        private String string() throws ParseException {
            pos++; // opening quote
            StringBuilder sb = null;
            int start = pos;
            while (true) {
                if (pos >= s.length()) throw error("unterminated string");
                char c = s.charAt(pos);
                if (c == '"') {
                    String out = sb == null ? s.substring(start, pos) : sb.append(s, start, pos).toString();
                    pos++;
                    return out;
                }
                if (c < 0x20) throw error("unescaped control character U+" + String.format("%04X", (int) c) + " in string");
                if (Character.isSurrogate(c)) {
                    // The UTF-8 decoder only produces well-formed pairs; check anyway for parse(String) callers.
                    if (Character.isHighSurrogate(c) && pos + 1 < s.length() && Character.isLowSurrogate(s.charAt(pos + 1))) {
                        pos += 2;
                        continue;
                    }
                    throw error("unpaired surrogate in string");
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) sb = new StringBuilder();
                sb.append(s, start, pos);
                pos++;
                if (pos >= s.length()) throw error("unterminated string");
                char e = s.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        char u = hex4();
                        if (Character.isHighSurrogate(u)) {
                            if (!s.startsWith("\\u", pos)) throw error("unpaired surrogate escape in string");
                            pos += 2;
                            char lo = hex4();
                            if (!Character.isLowSurrogate(lo)) throw error("unpaired surrogate escape in string");
                            sb.append(u).append(lo);
                        } else if (Character.isLowSurrogate(u)) {
                            throw error("unpaired surrogate escape in string");
                        } else sb.append(u);
                    }
                    default -> {
                        pos--;
                        throw error("invalid escape '\\" + (e >= 0x20 && e < 0x7f ? String.valueOf(e) : String.format("U+%04X", (int) e)) + "' in string");
                    }
                }
                start = pos;
            }
        }

        private char hex4() throws ParseException {
            if (pos + 4 > s.length()) throw error("truncated \\u escape");
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(s.charAt(pos), 16);
                // Character.digit accepts non-ASCII digits; JSON allows only [0-9a-fA-F].
                if (d < 0 || s.charAt(pos) > 'f') throw error("invalid hex digit in \\u escape");
                v = v * 16 + d;
                pos++;
            }
            return (char) v;
        }

        private Num number() throws ParseException {
            int start = pos;
            if (s.charAt(pos) == '-') pos++;
            if (pos >= s.length()) throw error("truncated number");
            char c = s.charAt(pos);
            if (c == '0') {
                pos++;
            } else if (c >= '1' && c <= '9') {
                while (pos < s.length() && isDigit(s.charAt(pos))) pos++;
            } else throw error("invalid number");
            if (pos < s.length() && s.charAt(pos) == '.') {
                pos++;
                if (pos >= s.length() || !isDigit(s.charAt(pos))) throw error("invalid number: digits must follow '.'");
                while (pos < s.length() && isDigit(s.charAt(pos))) pos++;
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
                if (pos >= s.length() || !isDigit(s.charAt(pos))) throw error("invalid number: digits must follow the exponent");
                while (pos < s.length() && isDigit(s.charAt(pos))) pos++;
            }
            if (pos < s.length() && isDigit(s.charAt(pos))) throw error("invalid number: leading zero");
            return new Num(s.substring(start, pos));
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }

    /** A value rendered as compact JSON for an error message, cut after about {@code max} characters. */
    static String render(Object v, int max) {
        StringBuilder sb = new StringBuilder();
        render(sb, v, max);
        if (sb.length() > max) {
            sb.setLength(max);
            sb.append("...");
        }
        return sb.toString();
    }

    private static void render(StringBuilder sb, Object v, int max) {
        if (sb.length() > max) return;
        if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (sb.length() > max) return;
                if (!first) sb.append(',');
                first = false;
                writeString(sb, String.valueOf(e.getKey()));
                sb.append(':');
                render(sb, e.getValue(), max);
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size() && sb.length() <= max; i++) {
                if (i > 0) sb.append(',');
                render(sb, l.get(i), max);
            }
            sb.append(']');
        } else if (v instanceof String s) {
            writeString(sb, s.length() > max ? s.substring(0, max) : s);
        } else sb.append(v);
    }

    /** {@code s} quoted for an error message: escaped like JSON and cut to 100 characters. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder("'");
        int n = Math.min(s.length(), 100);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '\\') sb.append('\\').append(c);
            else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) sb.append(c).append(s.charAt(++i));
            else if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        if (s.length() > n) sb.append("...' (").append(s.length()).append(" characters)");
        else sb.append('\'');
        return sb.toString();
    }
}
