package dev.distillery.models.text;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte-to-unicode map ({@code bytes_to_unicode}): every UTF-8 byte becomes one printable BMP
 * character, so BPE works on strings without whitespace or control characters. The printable Latin-1 bytes
 * {@code !..~}, {@code ¡..¬}, {@code ®..ÿ} map to themselves; the other 68 bytes map to U+0100.. in byte order.
 */
final class BpeByteLevel {
    private BpeByteLevel() {}

    /** Byte (0..255) to its character. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Character (below U+0144) to its byte, or -1. */
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The character byte {@code b} (0..255) maps to. */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte-level form of {@code text}: its UTF-8 bytes, one character each. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        return new String(out);
    }

    /**
     * Maps byte-level characters back to bytes (a character outside the table contributes its own UTF-8 bytes) and
     * decodes UTF-8, replacing malformed sequences with U+FFFD, like HF's ByteLevel decoder.
     */
    static String decode(CharSequence byteLevel) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(byteLevel.length());
        for (int i = 0; i < byteLevel.length(); ) {
            int cp = Character.codePointAt(byteLevel, i);
            i += Character.charCount(cp);
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) {
                bytes.write(CHAR_TO_BYTE[cp]);
            } else {
                bytes.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError(e); // REPLACE never throws
        }
    }
}
