package dev.distillery.models.text;

import java.text.Normalizer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text cleaning of the two CLIP tokenizer flavours ({@link ClipTokenizer.Cleaning}).
 *
 * <p>{@link #cleanHf}: HF's CLIPTokenizer (tokenizers backend) normalizer: NFC, every run of Unicode
 * {@code White_Space} to one space, then per-character full lower-casing (no final-sigma context, U+0130 to
 * "i&#x0307;").
 *
 * <p>{@link #cleanOpenAi}: OpenAI/open_clip {@code SimpleTokenizer} with {@code clean='lower'}:
 * {@code whitespace_clean(html.unescape(html.unescape(ftfy.fix_text(text)))).lower()}, where ftfy is reproduced
 * except for its mojibake repair (see {@link #ftfySubset}).
 */
final class ClipTokenizerText {
    private ClipTokenizerText() {}

    // ---------------------------------------------------------------- HF

    static String cleanHf(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFC);
        StringBuilder sb = new StringBuilder(s.length());
        boolean inSpace = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isUnicodeWhiteSpace(cp)) {
                if (!inSpace) sb.append(' ');
                inSpace = true;
                continue;
            }
            inSpace = false;
            if (cp == 0x130) sb.append("i\u0307"); // the one unconditional multi-character lower-case mapping
            else sb.appendCodePoint(Character.toLowerCase(cp));
        }
        return sb.toString();
    }

    /** Unicode's White_Space property (what Oniguruma's and the regex module's {@code \s} match). */
    static boolean isUnicodeWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    // ---------------------------------------------------------------- OpenAI

    static String cleanOpenAi(String text) {
        String s = ftfySubset(text);
        s = htmlUnescape(htmlUnescape(s));
        return pythonLower(pythonWhitespaceJoin(s)); // the join also strips
    }

    /**
     * Python's {@code str.lower()}: full lower-case mappings (U+0130 to "i&#x0307;"), and U+03A3 to final ς in
     * Python's Final_Sigma context (a cased letter before it and none after it, skipping case-ignorable characters),
     * which is not Java's word-boundary-based rule.
     */
    static String pythonLower(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (cp == 0x130) sb.append("i\u0307");
            else if (cp == 0x3A3) sb.append(isFinalSigma(s, i) ? '\u03C2' : '\u03C3');
            else sb.appendCodePoint(Character.toLowerCase(cp));
            i += Character.charCount(cp);
        }
        return sb.toString();
    }

    private static boolean isFinalSigma(String s, int i) {
        int j = i;
        int c = -1;
        while (j > 0) {
            c = s.codePointBefore(j);
            j -= Character.charCount(c);
            if (!isCaseIgnorable(c)) break;
            c = -1;
        }
        if (c < 0 || !isCased(c)) return false;
        for (j = i + 1; j < s.length(); ) {
            c = s.codePointAt(j);
            j += Character.charCount(c);
            if (!isCaseIgnorable(c)) return !isCased(c);
        }
        return true;
    }

    /** Unicode's Cased: Lu, Ll, Lt, Other_Lowercase, Other_Uppercase. */
    private static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /** Unicode's Case_Ignorable: Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter, MidNumLet, Single_Quote. */
    private static boolean isCaseIgnorable(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
                    Character.MODIFIER_SYMBOL -> {
                return true;
            }
            default -> {
                return switch (cp) {
                    case 0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52,
                            0xFE55, 0xFF07, 0xFF0E, 0xFF1A -> true;
                    default -> false;
                };
            }
        }
    }

    /** Python's {@code " ".join(s.split())}. */
    static String pythonWhitespaceJoin(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean pending = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isPythonWhitespace(cp)) {
                pending = !sb.isEmpty();
            } else {
                if (pending) sb.append(' ');
                pending = false;
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString();
    }

    /** Python's {@code str.isspace()} for one character: White_Space plus U+001C..U+001F. */
    static boolean isPythonWhitespace(int cp) {
        return isUnicodeWhiteSpace(cp) || (cp >= 0x1C && cp <= 0x1F);
    }

    /** Python's {@code str.strip()} (no arguments). */
    static String pythonStrip(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && isPythonWhitespace(s.charAt(b))) b++;
        while (e > b && isPythonWhitespace(s.charAt(e - 1))) e--;
        return s.substring(b, e);
    }

    // ---------------------------------------------------------------- ftfy 6.3 fix_text, minus fix_encoding

    /**
     * ftfy 6.3's {@code fix_text} with its default configuration, except {@code fix_encoding} (mojibake repair:
     * re-decoding text that was decoded with the wrong codec, {@code restore_byte_a0}, {@code replace_lossy_sequences},
     * {@code decode_inconsistent_utf8}) and {@code fix_surrogates} (Java strings cannot hold Python's
     * surrogate-escaped text). Per line, until nothing changes: HTML entities ending in ';' (only while no line so
     * far contained '&lt;'), C1 controls as Windows-1252, Latin ligatures, full/half-width forms, curly quotes,
     * line breaks, terminal escapes, control characters, NFC.
     */
    static String ftfySubset(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean unescape = true;
        for (int pos = 0; pos < text.length(); ) {
            int nl = text.indexOf('\n', pos);
            int end = nl < 0 ? text.length() : nl + 1;
            String segment = text.substring(pos, end);
            if (segment.indexOf('<') >= 0) unescape = false; // sticky, as in fix_text
            for (int round = 0; round < 100; round++) {
                String before = segment;
                if (unescape) segment = ftfyUnescape(segment);
                segment = fixC1Controls(segment);
                segment = translate(segment, LIGATURES);
                segment = translate(segment, WIDTH_MAP);
                segment = uncurlQuotes(segment);
                segment = fixLineBreaks(segment);
                segment = ANSI.matcher(segment).replaceAll("");
                segment = removeControlChars(segment);
                segment = Normalizer.normalize(segment, Normalizer.Form.NFC);
                if (segment.equals(before)) break;
            }
            out.append(segment);
            pos = end;
        }
        return out.toString();
    }

    private static final Pattern ANSI = Pattern.compile("\u001b\\[((?:\\d|;)*)([a-zA-Z])",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern FTFY_ENTITY = Pattern.compile("&#?[0-9A-Za-z]{1,24};");

    private static String ftfyUnescape(String s) {
        if (s.indexOf('&') < 0) return s;
        Matcher m = FTFY_ENTITY.matcher(s);
        return m.replaceAll(r -> {
            String e = r.group();
            String v = FTFY_ENTITIES.get(e);
            if (v == null && e.startsWith("&#")) {
                String u = htmlUnescape(e);
                v = u.indexOf(';') >= 0 ? e : u;
            }
            return Matcher.quoteReplacement(v == null ? e : v);
        });
    }

    private static String fixC1Controls(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80 && c <= 0x9F) {
                if (sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
                sb.append(CP1252_C1[c - 0x80]); // ftfy's sloppy-windows-1252: undefined bytes stay themselves
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }

    private static String uncurlQuotes(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            char r = c;
            if (c == '\u02BC' || (c >= '\u2018' && c <= '\u201B')) r = '\'';
            else if (c >= '\u201C' && c <= '\u201F') r = '"';
            if (r != c && sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
            if (sb != null) sb.append(r);
        }
        return sb == null ? s : sb.toString();
    }

    private static String fixLineBreaks(String s) {
        return s.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n')
                .replace('\u0085', '\n');
    }

    private static boolean isFtfyControl(int cp) {
        return cp <= 0x08 || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) || cp == 0x7F || (cp >= 0x206A && cp <= 0x206F)
                || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFC);
    }

    private static String removeControlChars(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean drop = isFtfyControl(c);
            if (drop && sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
            if (!drop && sb != null) sb.append(c);
        }
        return sb == null ? s : sb.toString();
    }

    private static String translate(String s, Map<Character, String> table) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String r = table.get(c);
            if (r != null && sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
            if (sb != null) {
                if (r != null) sb.append(r);
                else sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }

    private static final String[] CP1252_C1 = {
        "\u20AC", "\u0081", "\u201A", "\u0192", "\u201E", "\u2026", "\u2020", "\u2021",
        "\u02C6", "\u2030", "\u0160", "\u2039", "\u0152", "\u008D", "\u017D", "\u008F",
        "\u0090", "\u2018", "\u2019", "\u201C", "\u201D", "\u2022", "\u2013", "\u2014",
        "\u02DC", "\u2122", "\u0161", "\u203A", "\u0153", "\u009D", "\u017E", "\u0178",
    };

    /** ftfy's LIGATURES. */
    private static final Map<Character, String> LIGATURES = Map.ofEntries(
            Map.entry('\u0132', "IJ"), Map.entry('\u0133', "ij"), Map.entry('\u0149', "\u02BCn"),
            Map.entry('\u01F1', "DZ"), Map.entry('\u01F2', "Dz"), Map.entry('\u01F3', "dz"),
            Map.entry('\u01C4', "D\u017D"), Map.entry('\u01C5', "D\u017E"), Map.entry('\u01C6', "d\u017E"),
            Map.entry('\u01C7', "LJ"), Map.entry('\u01C8', "Lj"), Map.entry('\u01C9', "lj"),
            Map.entry('\u01CA', "NJ"), Map.entry('\u01CB', "Nj"), Map.entry('\u01CC', "nj"),
            Map.entry('\uFB00', "ff"), Map.entry('\uFB01', "fi"), Map.entry('\uFB02', "fl"),
            Map.entry('\uFB03', "ffi"), Map.entry('\uFB04', "ffl"), Map.entry('\uFB05', "\u017Ft"),
            Map.entry('\uFB06', "st"));

    /** ftfy's WIDTH_MAP: U+3000 to a space, and U+FF01..U+FFEF to their NFKC forms where those differ. */
    private static final Map<Character, String> WIDTH_MAP;

    static {
        Map<Character, String> m = new HashMap<>();
        m.put('\u3000', " ");
        for (char c = '\uFF01'; c < '\uFFF0'; c++) {
            String alt = Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC);
            if (!alt.equals(String.valueOf(c))) m.put(c, alt);
        }
        WIDTH_MAP = Map.copyOf(m);
    }

    // ---------------------------------------------------------------- html.unescape (Python 3.11)

    /** Python's {@code html._charref} (declared before the tables, whose initializer uses it). */
    private static final Pattern CHARREF =
            Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

    /** Python's {@code html.entities.html5}: names with and without ';'. */
    private static final Map<String, String> HTML5;
    /** ftfy's HTML_ENTITIES: '&amp;name;' for the ';' names, plus upper-cased forms of all-lower-case names. */
    private static final Map<String, String> FTFY_ENTITIES;

    static {
        Map<String, String> m = new HashMap<>(4096);
        String data = ClipTokenizerHtmlEntities.DATA;
        for (int pos = 0; pos < data.length(); ) {
            int sep = data.indexOf('\u0001', pos);
            int end = data.indexOf('\u0002', sep);
            m.put(data.substring(pos, sep), data.substring(sep + 1, end));
            pos = end + 1;
        }
        HTML5 = Map.copyOf(m);
        Map<String, String> f = new HashMap<>(8192);
        for (Map.Entry<String, String> e : HTML5.entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(";")) continue;
            f.put("&" + name, e.getValue());
            if (name.equals(name.toLowerCase(Locale.ROOT))) {
                String upper = "&" + name.toUpperCase(Locale.ROOT);
                if (htmlUnescape(upper).equals(upper)) f.put(upper, e.getValue().toUpperCase(Locale.ROOT));
            }
        }
        FTFY_ENTITIES = Map.copyOf(f);
    }

    /** Python 3.11's {@code html.unescape}. */
    static String htmlUnescape(String s) {
        if (s.indexOf('&') < 0) return s;
        return CHARREF.matcher(s).replaceAll(r -> Matcher.quoteReplacement(replaceCharref(r.group(1))));
    }

    private static String replaceCharref(String s) {
        if (s.charAt(0) == '#') {
            boolean hex = s.charAt(1) == 'x' || s.charAt(1) == 'X';
            String digits = s.substring(hex ? 2 : 1);
            if (digits.endsWith(";")) digits = digits.substring(0, digits.length() - 1);
            int i = 0;
            while (i < digits.length() - 1 && digits.charAt(i) == '0') i++;
            digits = digits.substring(i);
            long num = digits.length() > 8 ? Long.MAX_VALUE : Long.parseLong(digits, hex ? 16 : 10);
            if (num == 0x00) return "\uFFFD";
            if (num == 0x0D) return "\r";
            if (num >= 0x80 && num <= 0x9F) return CP1252_C1[(int) num - 0x80];
            if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return "\uFFFD";
            int cp = (int) num;
            if ((cp >= 0x1 && cp <= 0x8) || (cp >= 0xE && cp <= 0x1F) || cp == 0x7F || (cp >= 0xFDD0 && cp <= 0xFDEF)
                    || cp == 0xB || (cp & 0xFFFE) == 0xFFFE) {
                return "";
            }
            return Character.toString(cp);
        }
        String v = HTML5.get(s);
        if (v != null) return v;
        // the longest prefix (at least 2 characters, at most all but one) that is a name
        int[] offsets = s.codePoints().toArray();
        for (int x = offsets.length - 1; x > 1; x--) {
            int cut = s.offsetByCodePoints(0, x);
            String prefix = HTML5.get(s.substring(0, cut));
            if (prefix != null) return prefix + s.substring(cut);
        }
        return "&" + s;
    }
}
