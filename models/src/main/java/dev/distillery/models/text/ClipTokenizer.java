package dev.distillery.models.text;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CLIP byte-level BPE tokenizer (Stable Diffusion's text encoders' tokenizer), from HF's {@code vocab.json} +
 * {@code merges.txt} or {@code tokenizer.json} (either may be gzip-compressed).
 *
 * <p>Pipeline: clean the text ({@link Cleaning}), pre-tokenize with CLIP's pattern
 * {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}, map each
 * piece's UTF-8 bytes to GPT-2's byte-level characters, BPE each piece with {@code </w>} on its last symbol (results
 * cached per piece, bounded), add {@code <|startoftext|>} (49406 in CLIP's vocabulary; the id is looked up) and
 * {@code <|endoftext|>} (49407), truncate to {@link #maxLength()} (default 77) keeping EOS as the last token, and pad
 * with the pad token: EOS by default (SD 1.x/2.x, SDXL's first tokenizer), {@code "!"} (id 0) for SDXL's second
 * tokenizer and open_clip ({@link #withPadToken}).
 *
 * <p>Two cleanings, each checked id for id against its reference on the fixture prompts of
 * {@code models/src/test/resources/tokenizer/gen_clip_fixtures.py}:
 * <ul>
 *   <li>{@link Cleaning#HF} (default): HF transformers' {@code CLIPTokenizer} as diffusers uses it (the
 *       tokenizers-library backend, {@code CLIPTokenizerFast} in transformers 4.x): NFC, runs of Unicode
 *       whitespace to one space (the {@code re.sub(r"\s+", " ", text).strip()} of the Python tokenizer), per-character
 *       lower-casing; {@code <|startoftext|>}/{@code <|endoftext|>} anywhere in the (lower-cased) text become their
 *       ids before pre-tokenization, and the pattern is case-sensitive. HTML entities are kept as text.
 *   <li>{@link Cleaning#OPENAI}: OpenAI CLIP's / open_clip's {@code SimpleTokenizer}:
 *       {@code ftfy.fix_text}, {@code html.unescape} twice, whitespace collapse, {@code str.lower()} (final sigma
 *       becomes ς), then the case-insensitive pattern, where special tokens count only where the pattern matches
 *       them (so {@code "!!<|endoftext|>"} is BPE'd as text). ftfy is reproduced except its mojibake repair
 *       (text decoded with the wrong codec, e.g. {@code "cafÃ©"}, stays as it is); its entity decoding, C1
 *       controls, ligatures, full-width forms, curly quotes, line breaks, terminal escapes, control characters and
 *       NFC are implemented, and {@code html.unescape} uses Python's full HTML5 entity table.
 * </ul>
 * Differences from HF's Python {@code CLIPTokenizer}: with ftfy installed, HF's slow tokenizer cleans with
 * {@code ftfy.fix_text} (without {@code html.unescape}) and Python's final-sigma lower-casing, which neither
 * cleaning here reproduces exactly; without ftfy, older slow tokenizers (transformers 4.x) used BERT's
 * BasicTokenizer, which also puts spaces around CJK characters and drops control characters, and that is not
 * reproduced either. The tokenizers library's own NFC has old Unicode data and leaves some newer combining marks
 * unreordered (Java's and Python's NFC reorder them), so rare sequences of several such marks differ; characters
 * whose Unicode category changed after Unicode 14 (Python 3.11) may pre-tokenize differently. Only the vocabulary
 * and merges of a {@code tokenizer.json} are read; its normalizer, pre-tokenizer and post-processor are taken to
 * be CLIP's, and its special tokens are matched in the normalized text (as {@code "normalized": true} in the hub's
 * CLIP files).
 *
 * <p>Instances are immutable and thread-safe; the {@code with*} methods return new instances sharing the
 * vocabulary (and, except {@link #withCacheCapacity}, the BPE cache).
 */
public final class ClipTokenizer {
    /** CLIP's context length. */
    public static final int DEFAULT_MAX_LENGTH = 77;
    public static final String BOS_TOKEN = ClipTokenizerFiles.BOS;
    public static final String EOS_TOKEN = ClipTokenizerFiles.EOS;

    /** How text is cleaned before pre-tokenization (see the class documentation). */
    public enum Cleaning {
        /** HF transformers' CLIPTokenizer: NFC, whitespace collapse, per-character lower-casing. */
        HF,
        /** OpenAI CLIP / open_clip SimpleTokenizer: ftfy (minus mojibake repair), html.unescape x2, collapse, lower. */
        OPENAI
    }

    /** Token ids and the matching attention mask (1 for BOS, text and EOS; 0 for padding). Compared by content. */
    public record Encoding(int[] ids, int[] attentionMask) {
        /** Positions that are not padding. */
        public int length() {
            int n = 0;
            for (int m : attentionMask) n += m;
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Encoding e && Arrays.equals(ids, e.ids) && Arrays.equals(attentionMask, e.attentionMask);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(ids) + Arrays.hashCode(attentionMask);
        }

        @Override
        public String toString() {
            return "Encoding[ids=" + Arrays.toString(ids) + ", attentionMask=" + Arrays.toString(attentionMask) + "]";
        }
    }

    private static final String CONTRACTIONS_ETC = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
    /**
     * OpenAI's pattern: specials first, case-insensitive (so {@code 'ſ} is a contraction too). Under the regex
     * module's IGNORECASE a character is outside {@code [^\s\p{L}\p{N}]} when any of its case variants is a
     * letter: U+0345 (a mark whose upper case is Ι) is the one such character, and no alternative matches it.
     */
    private static final Pattern OPENAI_PATTERN = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}\\u0345]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
    /** HF's Split pattern (Oniguruma, case-sensitive); specials were split out before. */
    private static final Pattern HF_PATTERN = Pattern.compile(CONTRACTIONS_ETC, Pattern.UNICODE_CHARACTER_CLASS);

    private final BpeModel model;
    private final Cleaning cleaning;
    private final int maxLength;
    private final int padId;
    private final int bosId;
    private final int eosId;

    private ClipTokenizer(BpeModel model, Cleaning cleaning, int maxLength, int padId) {
        this.model = model;
        this.cleaning = cleaning;
        this.maxLength = maxLength;
        this.padId = padId;
        this.bosId = model.id(BOS_TOKEN);
        this.eosId = model.id(EOS_TOKEN);
    }

    private static ClipTokenizer of(BpeModel model) {
        return new ClipTokenizer(model, Cleaning.HF, DEFAULT_MAX_LENGTH, model.id(EOS_TOKEN));
    }

    // ---------------------------------------------------------------- loading

    /** From HF's {@code vocab.json} and {@code merges.txt} (either may be gzip-compressed). */
    public static ClipTokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt) throws IOException {
        return of(ClipTokenizerFiles.loadVocabAndMerges(vocabJson, mergesTxt, BpeModel.DEFAULT_CACHE_CAPACITY));
    }

    /**
     * From a HF tokenizers {@code tokenizer.json} (may be gzip-compressed): {@code model.vocab} and
     * {@code model.merges} ({@code "a b"} strings or {@code ["a", "b"]} pairs). The CLIP normalizer and
     * pre-tokenizer are implied, not read: the file must be a BPE model with the {@code </w>} suffix.
     */
    public static ClipTokenizer fromTokenizerJson(Path tokenizerJson) throws IOException {
        return of(ClipTokenizerFiles.loadTokenizerJson(tokenizerJson, BpeModel.DEFAULT_CACHE_CAPACITY));
    }

    /**
     * From a HF/diffusers tokenizer folder: {@code tokenizer.json} if present, else {@code vocab.json} +
     * {@code merges.txt} (each also as {@code .gz}); the pad token ({@code special_tokens_map.json}, else
     * {@code tokenizer_config.json}) and {@code model_max_length} ({@code tokenizer_config.json}) where given.
     */
    public static ClipTokenizer fromDirectory(Path dir) throws IOException {
        ClipTokenizer t;
        Path tj = ClipTokenizerFiles.find(dir, "tokenizer.json");
        if (tj != null) {
            t = fromTokenizerJson(tj);
        } else {
            Path vocab = ClipTokenizerFiles.find(dir, "vocab.json");
            Path merges = ClipTokenizerFiles.find(dir, "merges.txt");
            if (vocab == null || merges == null) {
                throw new ClipTokenizerException("CLIP tokenizer folder " + dir + " has neither tokenizer.json nor "
                        + (vocab == null ? "vocab.json" : "merges.txt") + " (plain or .gz)");
            }
            t = fromVocabAndMerges(vocab, merges);
        }
        ClipTokenizerFiles.Settings s = ClipTokenizerFiles.readSettings(dir);
        if (s.padToken() != null) {
            if (t.model.id(s.padToken()) < 0) {
                throw new ClipTokenizerException(dir + ": pad_token '" + s.padToken() + "' is not in the vocabulary");
            }
            t = t.withPadToken(s.padToken());
        }
        if (s.maxLength() != null) t = t.withMaxLength(s.maxLength());
        return t;
    }

    // ---------------------------------------------------------------- configuration

    /** Sequences are truncated and padded to {@code maxLength} (at least 2: BOS and EOS). */
    public ClipTokenizer withMaxLength(int maxLength) {
        if (maxLength < 2) throw new IllegalArgumentException("maxLength must be at least 2, got " + maxLength);
        return new ClipTokenizer(model, cleaning, maxLength, padId);
    }

    /** Pads with {@code token} ({@code "<|endoftext|>"} for SD 1.x, {@code "!"} for SDXL's second tokenizer). */
    public ClipTokenizer withPadToken(String token) {
        int id = model.id(token);
        if (id < 0) throw new IllegalArgumentException("pad token not in the vocabulary: '" + token + "'");
        return new ClipTokenizer(model, cleaning, maxLength, id);
    }

    /** Pads with id {@code id} (must be in the vocabulary). */
    public ClipTokenizer withPadId(int id) {
        if (model.token(id) == null) throw new IllegalArgumentException("pad id not in the vocabulary: " + id);
        return new ClipTokenizer(model, cleaning, maxLength, id);
    }

    public ClipTokenizer withCleaning(Cleaning cleaning) {
        return new ClipTokenizer(model, Objects.requireNonNull(cleaning), maxLength, padId);
    }

    /** A fresh BPE cache holding at most {@code words} words (0 disables caching). */
    public ClipTokenizer withCacheCapacity(int words) {
        return new ClipTokenizer(model.withCacheCapacity(words), cleaning, maxLength, padId);
    }

    public int maxLength() {
        return maxLength;
    }

    public int padId() {
        return padId;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public Cleaning cleaning() {
        return cleaning;
    }

    public int vocabSize() {
        return model.vocabSize();
    }

    /** The id of {@code token}, or -1. */
    public int tokenId(String token) {
        return model.id(token);
    }

    /** The token with id {@code id}, or null. */
    public String token(int id) {
        return model.token(id);
    }

    int cachedWords() {
        return model.cachedWords();
    }

    // ---------------------------------------------------------------- encoding

    /** The cleaned text the pre-tokenizer sees (for {@link Cleaning#HF} a leading or trailing space may remain). */
    public String clean(String text) {
        return cleaning == Cleaning.HF ? ClipTokenizerText.cleanHf(text) : ClipTokenizerText.cleanOpenAi(text);
    }

    /** BOS, the text's ids, EOS, truncated and padded to exactly {@link #maxLength()} ids. */
    public int[] encode(String text) {
        return encodeWithMask(text).ids();
    }

    /** {@link #encode} and its attention mask. */
    public Encoding encodeWithMask(String text) {
        int[] content = tokenIds(text);
        int n = Math.min(content.length, maxLength - 2);
        int[] ids = new int[maxLength];
        int[] mask = new int[maxLength];
        ids[0] = bosId;
        System.arraycopy(content, 0, ids, 1, n);
        ids[n + 1] = eosId;
        Arrays.fill(ids, n + 2, maxLength, padId);
        Arrays.fill(mask, 0, n + 2, 1);
        return new Encoding(ids, mask);
    }

    /** {@link #encode} for each text: a {@code [texts.size()][maxLength]} array. */
    public int[][] encodeBatch(List<String> texts) {
        int[][] out = new int[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = encode(texts.get(i));
        return out;
    }

    /** {@link #encodeWithMask} for each text. */
    public List<Encoding> encodeBatchWithMask(List<String> texts) {
        List<Encoding> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(encodeWithMask(t));
        return out;
    }

    /** BOS, the text's ids, EOS: neither truncated nor padded (HF's {@code tokenizer(text).input_ids}). */
    public int[] encodeUntruncated(String text) {
        int[] content = tokenIds(text);
        int[] ids = new int[content.length + 2];
        ids[0] = bosId;
        System.arraycopy(content, 0, ids, 1, content.length);
        ids[ids.length - 1] = eosId;
        return ids;
    }

    /** The text's ids without BOS/EOS, truncation or padding (special tokens written in the text included). */
    public int[] tokenIds(String text) {
        IntList out = new IntList();
        forEachPiece(clean(text), (special, piece) -> {
            if (special >= 0) out.add(special);
            else out.addAll(model.encodeWord(BpeByteLevel.encode(piece)));
        });
        return out.toArray();
    }

    /** The BPE tokens of the text in byte-level form (e.g. {@code "photo</w>"}), without BOS/EOS. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        forEachPiece(clean(text), (special, piece) -> {
            if (special >= 0) {
                out.add(model.token(special));
            } else {
                for (int id : model.encodeWord(BpeByteLevel.encode(piece))) out.add(model.token(id));
            }
        });
        return out;
    }

    private interface PieceSink {
        /** {@code special} is the id of a special token (then {@code piece} is its text), or -1. */
        void accept(int special, String piece);
    }

    private void forEachPiece(String cleaned, PieceSink sink) {
        if (cleaning == Cleaning.OPENAI) {
            Matcher m = OPENAI_PATTERN.matcher(cleaned);
            while (m.find()) {
                String piece = m.group();
                if (piece.equals(BOS_TOKEN)) sink.accept(bosId, piece);
                else if (piece.equals(EOS_TOKEN)) sink.accept(eosId, piece);
                else sink.accept(-1, piece);
            }
            return;
        }
        // HF: added tokens are split out of the normalized text first, then the Split pattern runs on the gaps
        int pos = 0;
        while (pos <= cleaned.length()) {
            int b = cleaned.indexOf(BOS_TOKEN, pos);
            int e = cleaned.indexOf(EOS_TOKEN, pos);
            int next;
            String special;
            if (b < 0 && e < 0) {
                next = cleaned.length();
                special = null;
            } else if (e < 0 || (b >= 0 && b < e)) {
                next = b;
                special = BOS_TOKEN;
            } else {
                next = e;
                special = EOS_TOKEN;
            }
            Matcher m = HF_PATTERN.matcher(cleaned).region(pos, next);
            while (m.find()) sink.accept(-1, m.group());
            if (special == null) break;
            sink.accept(special.equals(BOS_TOKEN) ? bosId : eosId, special);
            pos = next + special.length();
        }
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Text from ids, like HF's {@code decode(ids, skip_special_tokens=True)}: BOS and EOS are skipped (and, when the
     * pad token is another token, the run of pad ids after the last EOS), the byte-level tokens are turned back into
     * UTF-8 (malformed sequences become U+FFFD), each {@code </w>} becomes a space and the ends are stripped. For
     * cleaned ASCII text this gives the text back with spaces around punctuation runs (e.g. "a , b").
     */
    public String decode(int[] ids) {
        int end = ids.length;
        if (padId != eosId && padId != bosId) {
            int lastEos = -1;
            for (int i = ids.length - 1; i >= 0; i--) {
                if (ids[i] == eosId) {
                    lastEos = i;
                    break;
                }
            }
            if (lastEos >= 0) {
                boolean allPad = true;
                for (int i = lastEos + 1; i < ids.length; i++) allPad &= ids[i] == padId;
                if (allPad) end = lastEos + 1;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < end; i++) {
            int id = ids[i];
            if (id == bosId || id == eosId) continue;
            String t = model.token(id);
            if (t == null) throw new IllegalArgumentException("id " + id + " at position " + i + " is not in the vocabulary");
            sb.append(t);
        }
        return ClipTokenizerText.pythonStrip(BpeByteLevel.decode(sb).replace(ClipTokenizerFiles.SUFFIX, " "));
    }

    /** A growable int array. */
    private static final class IntList {
        private int[] a = new int[32];
        private int n;

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] vs) {
            if (n + vs.length > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + vs.length));
            System.arraycopy(vs, 0, a, n, vs.length);
            n += vs.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
