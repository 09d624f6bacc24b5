package dev.distillery.tensor.io;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The header parser: RFC 8259, strictly. */
class SafetensorsJsonTest {
    private static Object parse(String s) throws Json.ParseException {
        return Json.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void rejects(String s, String fragment) {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> parse(s), s);
        assertTrue(e.getMessage().contains(fragment), s + " -> " + e.getMessage());
    }

    @Test
    void parsesValues() throws Exception {
        Object v = parse(" {\"a\": [1, -2, 3.5e-3, 0, -0, 1E+2], \"b\": {\"c\": null, \"d\": true, \"e\": false}, \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\u4e2d\"} \n\t\r");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("a", "b", "s"), List.copyOf(m.keySet()));
        assertEquals(List.of(new Json.Num("1"), new Json.Num("-2"), new Json.Num("3.5e-3"), new Json.Num("0"), new Json.Num("-0"), new Json.Num("1E+2")), m.get("a"));
        Map<?, ?> b = (Map<?, ?>) m.get("b");
        assertSame(Json.NULL, b.get("c"));
        assertEquals(Boolean.TRUE, b.get("d"));
        assertEquals(Boolean.FALSE, b.get("e"));
        assertEquals("x\"\\/\b\f\n\r\t\u00e9\ud83d\ude00\u4e2d", m.get("s"));
        assertEquals("", parse("\"\""));
        assertEquals(List.of(), parse("[]"));
        assertEquals(Map.of(), parse("{ }"));
    }

    @Test
    void interpretsIntegers() {
        assertEquals(0, new Json.Num("0").asNonNegativeLong());
        assertEquals(123456789012345678L, new Json.Num("123456789012345678").asNonNegativeLong());
        assertEquals(-1, new Json.Num("1234567890123456789").asNonNegativeLong(), "19+ digits: too large for a file offset");
        assertEquals(-1, new Json.Num("-1").asNonNegativeLong());
        assertEquals(-1, new Json.Num("1.0").asNonNegativeLong());
        assertEquals(-1, new Json.Num("1e2").asNonNegativeLong());
    }

    @Test
    void rejectsWhatRfc8259Rejects() {
        rejects("", "unexpected end of input");
        rejects("{\"a\":1,}", "expected a string key");
        rejects("[1,]", "expected a value");
        rejects("[1 2]", "expected ',' or ']'");
        rejects("{\"a\" 1}", "expected ':'");
        rejects("{\"a\":1 \"b\":2}", "expected ',' or '}'");
        rejects("{a:1}", "expected a string key");
        rejects("['a']", "expected a value");
        rejects("01", "leading zero");
        rejects("-01", "leading zero");
        rejects("1.", "digits must follow '.'");
        rejects(".5", "expected a value");
        rejects("-", "truncated number");
        rejects("-a", "invalid number");
        rejects("+1", "expected a value");
        rejects("1e", "digits must follow the exponent");
        rejects("1e+", "digits must follow the exponent");
        rejects("NaN", "expected a value");
        rejects("Infinity", "expected a value");
        rejects("tru", "expected a value");
        rejects("nul", "expected a value");
        rejects("[1] // c", "after the JSON value");
        rejects("/* c */ 1", "expected a value");
        rejects("\"abc", "unterminated string");
        rejects("\"a\nb\"", "unescaped control character U+000A");
        rejects("\"\\x\"", "invalid escape '\\x'");
        rejects("\"\\u12zz\"", "invalid hex digit");
        rejects("\"\\u12", "truncated \\u escape");
        rejects("\"\\u\uff11\uff12\uff13\uff14\"", "invalid hex digit"); // full-width digits are not hex digits
        rejects("\"\\ud800\"", "unpaired surrogate");
        rejects("\"\\ud800\\u0041\"", "unpaired surrogate");
        rejects("\"\\udc00\"", "unpaired surrogate");
        rejects("\"\\", "unterminated string");
        rejects("{\"a\":1,\"a\":1}", "duplicate key 'a'");
        rejects("{\"a\":{\"b\":1,\"b\":2}}", "duplicate key 'b'");
        rejects("[" + "[".repeat(64) + "]".repeat(64) + "]", "nested deeper than 64 levels");
        rejects("\u00a0{}", "expected a value"); // only JSON whitespace is skipped
    }

    @Test
    void nestingUpToTheLimitIsFine() throws Exception {
        Object v = parse("[".repeat(64) + "]".repeat(64));
        for (int i = 0; i < 63; i++) v = ((List<?>) v).get(0);
        assertEquals(List.of(), v);
    }

    @Test
    void rejectsInvalidUtf8() {
        for (byte[] bad : new byte[][]{{'"', (byte) 0xff, '"'}, {'"', (byte) 0xc3, '"'}, {'"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"'} /* CESU surrogate */,
                {'"', (byte) 0xc0, (byte) 0x80, '"'} /* overlong */}) {
            try {
                Json.parse(bad);
                fail("accepted invalid UTF-8");
            } catch (Json.ParseException e) {
                assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
            }
        }
    }

    @Test
    void writtenStringsParseBack() throws Exception {
        String all = "a\"b\\c/d\u0000\u0001\u001f\u007f\b\f\n\r\t\u00e9\u2028\ud83d\ude00";
        StringBuilder sb = new StringBuilder();
        Json.writeString(sb, all);
        assertEquals(all, parse(sb.toString()));
        assertTrue(Json.isWellFormed(all));
        assertTrue(!Json.isWellFormed("a\ud800"));
        assertTrue(!Json.isWellFormed("\udc00a"));
    }

    @Test
    void rendersAndQuotesForMessages() throws Exception {
        assertEquals("[1,\"a\",{\"b\":null}]", Json.render(parse("[1, \"a\", {\"b\": null}]"), 80));
        assertEquals("[1,1,1...", Json.render(parse("[" + "1,".repeat(1000) + "1]"), 6));
        assertEquals("'it\\'s'", Json.quote("it's"));
        assertEquals("'\\u000a\\ud800'", Json.quote("\n\ud800"));
        assertEquals("'\ud83d\ude00'", Json.quote("\ud83d\ude00"));
    }
}
