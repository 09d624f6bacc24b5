package dev.distillery.models.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.tensor.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Padding, truncation, masks, decoding, the file formats and their errors. */
class ClipTokenizerTest {
    static ClipTokenizer clip;
    static final int BOS = 49406;
    static final int EOS = 49407;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        clip = ClipTokenizer.fromVocabAndMerges(ClipTokenizerReferenceTest.resource("vocab.json.gz"),
                ClipTokenizerReferenceTest.resource("merges.txt.gz"));
    }

    // ---------------------------------------------------------------- padding, truncation, mask

    @Test
    void padsWithEosByDefaultAndMasksThePadding() {
        ClipTokenizer.Encoding e = clip.encodeWithMask("a photo of a cat");
        int[] head = {BOS, 320, 1125, 539, 320, 2368, EOS};
        assertEquals(77, e.ids().length);
        assertArrayEquals(head, Arrays.copyOf(e.ids(), 7));
        for (int i = 7; i < 77; i++) assertEquals(EOS, e.ids()[i]);
        for (int i = 0; i < 77; i++) assertEquals(i < 7 ? 1 : 0, e.attentionMask()[i]);
        assertEquals(7, e.length());
        assertArrayEquals(e.ids(), clip.encode("a photo of a cat"));
        assertArrayEquals(head, clip.encodeUntruncated("a photo of a cat"));
        assertArrayEquals(Arrays.copyOfRange(head, 1, 6), clip.tokenIds("a photo of a cat"));
    }

    @Test
    void padTokenIsConfigurable() {
        ClipTokenizer bang = clip.withPadToken("!");
        assertEquals(0, bang.padId());
        int[] ids = bang.encode("a photo of a cat");
        assertArrayEquals(new int[] {BOS, 320, 1125, 539, 320, 2368, EOS, 0, 0}, Arrays.copyOf(ids, 9));
        assertEquals(0, ids[76]);
        assertArrayEquals(ids, clip.withPadId(0).encode("a photo of a cat"));
        assertArrayEquals(clip.encodeWithMask("a photo of a cat").attentionMask(),
                bang.encodeWithMask("a photo of a cat").attentionMask());
        assertEquals(EOS, clip.padId()); // the original is unchanged
        assertThrows(IllegalArgumentException.class, () -> clip.withPadToken("<pad>"));
        assertThrows(IllegalArgumentException.class, () -> clip.withPadId(49408));
    }

    @Test
    void truncationKeepsEosLast() {
        String words = String.join(" ", java.util.Collections.nCopies(100, "word"));
        int word = clip.tokenId("word</w>");
        ClipTokenizer.Encoding e = clip.encodeWithMask(words);
        assertEquals(77, e.ids().length);
        assertEquals(BOS, e.ids()[0]);
        for (int i = 1; i < 76; i++) assertEquals(word, e.ids()[i]);
        assertEquals(EOS, e.ids()[76]);
        assertEquals(77, e.length());
        assertEquals(102, clip.encodeUntruncated(words).length);

        String exact = String.join(" ", java.util.Collections.nCopies(75, "word")); // 75 + BOS + EOS = 77
        assertArrayEquals(clip.encodeUntruncated(exact), clip.encode(exact));
        String oneMore = exact + " cat";
        assertArrayEquals(clip.encode(exact), clip.encode(oneMore));

        ClipTokenizer ten = clip.withMaxLength(10);
        int[] t = ten.encode(words);
        assertEquals(10, t.length);
        assertEquals(EOS, t[9]);
        assertArrayEquals(new int[] {BOS, 320, EOS, EOS}, clip.withMaxLength(4).encode("a"));
        assertArrayEquals(new int[] {BOS, EOS}, clip.withMaxLength(2).encode("a photo of a cat"));
        assertThrows(IllegalArgumentException.class, () -> clip.withMaxLength(1));
    }

    @Test
    void batchesEncodeEachText() {
        List<String> texts = List.of("a photo of a cat", "", "an astronaut riding a horse on mars");
        int[][] batch = clip.encodeBatch(texts);
        assertEquals(3, batch.length);
        for (int i = 0; i < 3; i++) assertArrayEquals(clip.encode(texts.get(i)), batch[i]);
        List<ClipTokenizer.Encoding> masked = clip.encodeBatchWithMask(texts);
        assertEquals(2, masked.get(1).length());
        assertArrayEquals(new int[] {BOS, EOS}, Arrays.copyOf(masked.get(1).ids(), 2));
    }

    @Test
    void concurrentEncodingMatchesSequential() {
        List<String> texts = IntStream.range(0, 400).mapToObj(i -> "prompt number " + i + " of a cat_" + (i % 37))
                .toList();
        ClipTokenizer small = clip.withCacheCapacity(16); // force clears while other threads read
        List<int[]> sequential = texts.stream().map(clip::encode).toList();
        List<int[]> parallel = texts.parallelStream().map(small::encode).toList();
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(sequential.get(i), parallel.get(i));
    }

    @Test
    void cacheIsBounded() {
        ClipTokenizer small = clip.withCacheCapacity(8);
        ClipTokenizer none = clip.withCacheCapacity(0);
        for (int i = 0; i < 200; i++) {
            String w = "zq" + Integer.toString(i * 7919, 36);
            assertArrayEquals(none.encode(w), small.encode(w));
            assertTrue(small.cachedWords() <= 8, "cached " + small.cachedWords());
        }
        assertEquals(0, none.cachedWords());
    }

    // ---------------------------------------------------------------- decoding

    @Test
    void decodeRoundTripsCleanAsciiText() {
        for (String t : List.of("a photo of a cat", "an astronaut riding a horse on mars", "hello world",
                "supercalifragilisticexpialidocious", "")) {
            assertEquals(t, clip.decode(clip.encode(t)));
            assertEquals(t, clip.withPadToken("!").decode(clip.withPadToken("!").encode(t)));
            assertEquals(t, clip.decode(clip.encodeUntruncated(t)));
            assertEquals(t, clip.decode(clip.tokenIds(t)));
        }
        // cleaning is not undone, and pieces are separated by spaces (as HF's decode does)
        assertEquals("a photo of a cat", clip.decode(clip.encode("  A  Photo\tof a\nCAT ")));
        assertEquals("hello , world !", clip.decode(clip.encode("hello, world!")));
        assertEquals("4 k uhd", clip.decode(clip.encode("4k UHD")));
        assertEquals("it 's", clip.decode(clip.encode("it's")));
        // "!" as pad: only the trailing run after the last EOS is padding
        ClipTokenizer bang = clip.withPadToken("!");
        assertEquals("wow !", bang.decode(bang.encode("wow!")));
        assertEquals("wow !!!!", bang.decode(bang.encodeUntruncated("wow!!!!")));
        assertEquals("café 🐶", clip.decode(clip.encode("Café 🐶")));

        Random rnd = new Random(7);
        for (int n = 0; n < 200; n++) {
            StringBuilder sb = new StringBuilder();
            int words = 1 + rnd.nextInt(8);
            for (int w = 0; w < words; w++) {
                if (w > 0) sb.append(' ');
                int len = 1 + rnd.nextInt(12);
                for (int i = 0; i < len; i++) sb.append((char) ('a' + rnd.nextInt(26)));
            }
            String t = sb.toString();
            assertEquals(t, clip.decode(clip.encodeUntruncated(t)), t);
        }
        assertThrows(IllegalArgumentException.class, () -> clip.decode(new int[] {BOS, 49408, EOS}));
        assertThrows(IllegalArgumentException.class, () -> clip.decode(new int[] {-1}));
    }

    @Test
    void tokenizeGivesByteLevelBpeTokens() {
        assertEquals(List.of("a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>"), clip.tokenize("a photo of a cat"));
        assertEquals(List.of("hello</w>", "<|endoftext|>", "world</w>"), clip.tokenize("hello<|endoftext|>world"));
        assertEquals(List.of(), clip.tokenize("   "));
    }

    @Test
    void cleaningsDifferAsDocumented() {
        ClipTokenizer openai = clip.withCleaning(ClipTokenizer.Cleaning.OPENAI);
        assertEquals(ClipTokenizer.Cleaning.HF, clip.cleaning());
        assertEquals("tom &amp; jerry", clip.clean("Tom  &amp;\nJerry"));
        assertEquals("tom & jerry", openai.clean("Tom  &amp;\nJerry"));
        assertEquals("οδοσ", clip.clean("ΟΔΟΣ"));
        assertEquals("οδος", openai.clean("ΟΔΟΣ"));
        assertEquals("it’s", clip.clean("It’s"));
        assertEquals("it's", openai.clean("It’s"));
        assertEquals("fine loud", openai.clean("ﬁne ＬＯＵＤ"));
        assertEquals("café", clip.clean("cafe\u0301"));
        assertEquals("café", openai.clean("cafe\u0301"));
        // special tokens: HF splits them out of the text, OpenAI only where its pattern matches them
        assertArrayEquals(new int[] {BOS, 3306, 748, EOS, EOS}, clip.encodeUntruncated("hello!!<|endoftext|>"));
        assertEquals(List.of("hello</w>", "!!", "<", "|</w>", "endof", "text</w>", "|", "></w>"),
                openai.tokenize("hello!!<|endoftext|>"));
    }

    // ---------------------------------------------------------------- the file formats

    @Test
    void vocabAndMergesAndTokenizerJsonGiveTheSameIds() throws Exception {
        ClipTokenizer tj = ClipTokenizer.fromTokenizerJson(ClipTokenizerReferenceTest.resource("tokenizer.json.gz"));
        for (String t : List.of("a photo of a cat", "Crème brûlée 🍮, 3.14!", "東京の夜景", "")) {
            assertArrayEquals(clip.encode(t), tj.encode(t), t);
        }

        // a tiny vocabulary in all three forms: merges.txt, tokenizer.json with "a b" strings, with [a, b] pairs
        List<String[]> merges = merges("h e", "l l", "he ll", "hell o</w>", "w o", "wo r", "l d</w>", "wor ld</w>");
        Map<String, Integer> vocab = tinyVocab(merges);
        Path dir = Files.createDirectories(tmp.resolve("tiny"));
        Path vocabJson = write(dir.resolve("vocab.json"), vocabJson(vocab));
        Path mergesTxt = write(dir.resolve("merges.txt"), mergesTxt(merges));
        Path strings = write(dir.resolve("strings.json"), tokenizerJson(vocab, merges, false));
        Path pairs = write(dir.resolve("pairs.json"), tokenizerJson(vocab, merges, true));
        ClipTokenizer a = ClipTokenizer.fromVocabAndMerges(vocabJson, mergesTxt);
        ClipTokenizer b = ClipTokenizer.fromTokenizerJson(strings);
        ClipTokenizer c = ClipTokenizer.fromTokenizerJson(pairs);
        int hello = vocab.get("hello</w>");
        int world = vocab.get("world</w>");
        int bos = vocab.get(ClipTokenizer.BOS_TOKEN);
        int eos = vocab.get(ClipTokenizer.EOS_TOKEN);
        for (ClipTokenizer t : List.of(a, b, c)) {
            assertArrayEquals(new int[] {bos, hello, world, eos}, t.encodeUntruncated("Hello  WORLD"));
            assertEquals(List.of("hello</w>"), t.tokenize("hello"));
            assertEquals(List.of("world</w>"), t.tokenize("world"));
            assertEquals(List.of("hell", "o", "s</w>"), t.tokenize("hellos")); // no merge makes "os</w>"
            assertEquals(List.of("h", "i</w>"), t.tokenize("hi")); // no "h i</w>" merge here
            assertEquals("hello world", t.decode(t.encode("hello world")));
        }
        assertArrayEquals(a.encode("hello world, hello"), b.encode("hello world, hello"));
        assertArrayEquals(a.encode("hello world, hello"), c.encode("hello world, hello"));

        // gzip is detected by its magic number, whatever the name
        Path gz = write(dir.resolve("merges.bin"), gzip(mergesTxt(merges)));
        assertArrayEquals(a.encode("hello world"), ClipTokenizer.fromVocabAndMerges(vocabJson, gz).encode("hello world"));
    }

    @Test
    void directoryReadsPadTokenAndMaxLength() throws Exception {
        List<String[]> merges = merges("h i</w>");
        Map<String, Integer> vocab = tinyVocab(merges);
        Path dir = Files.createDirectories(tmp.resolve("tokenizer_2"));
        write(dir.resolve("vocab.json"), vocabJson(vocab));
        write(dir.resolve("merges.txt.gz"), gzip(mergesTxt(merges)));
        write(dir.resolve("tokenizer_config.json"),
                "{\"model_max_length\": 16, \"pad_token\": {\"content\": \"<|endoftext|>\", \"normalized\": true}}");
        write(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"!\", \"bos_token\": \"<|startoftext|>\"}");
        ClipTokenizer t = ClipTokenizer.fromDirectory(dir);
        assertEquals(16, t.maxLength());
        assertEquals(vocab.get("!"), t.padId());
        int[] ids = t.encode("hi");
        assertEquals(16, ids.length);
        assertEquals(vocab.get("hi</w>"), ids[1]);
        assertEquals(vocab.get("!"), ids[15]);

        write(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<nope>\"}");
        ClipTokenizerException e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromDirectory(dir));
        assertTrue(e.getMessage().contains("<nope>"), e.getMessage());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromDirectory(empty));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("vocab.json"), e.getMessage());

        Path withJson = Files.createDirectories(tmp.resolve("withjson"));
        write(withJson.resolve("tokenizer.json"), tokenizerJson(vocab, merges, true));
        assertEquals(77, ClipTokenizer.fromDirectory(withJson).maxLength());
    }

    // ---------------------------------------------------------------- errors name the file

    @Test
    void missingFilesAreNamed() throws Exception {
        List<String[]> merges = merges("h i</w>");
        Path vocab = write(tmp.resolve("vocab.json"), vocabJson(tinyVocab(merges)));
        Path mergesTxt = write(tmp.resolve("merges.txt"), mergesTxt(merges));
        Path missing = tmp.resolve("no-such-vocab.json");
        ClipTokenizerException e = assertThrows(ClipTokenizerException.class,
                () -> ClipTokenizer.fromVocabAndMerges(missing, mergesTxt));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("not found"), e.getMessage());
        Path missingMerges = tmp.resolve("no-merges.txt");
        e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromVocabAndMerges(vocab, missingMerges));
        assertTrue(e.getMessage().contains(missingMerges.toString()), e.getMessage());
        Path missingJson = tmp.resolve("tokenizer.json");
        e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromTokenizerJson(missingJson));
        assertTrue(e.getMessage().contains(missingJson.toString()), e.getMessage());
    }

    @Test
    void corruptVocabularyIsNamed() throws Exception {
        List<String[]> merges = merges("h i</w>");
        Map<String, Integer> vocab = tinyVocab(merges);
        Path mergesTxt = write(tmp.resolve("merges.txt"), mergesTxt(merges));
        String good = vocabJson(vocab);

        assertVocabError(good.substring(0, good.length() / 2), mergesTxt, "not valid JSON");
        assertVocabError("[\"a\", \"b\"]", mergesTxt, "an array");
        assertVocabError("{}", mergesTxt, "empty");
        assertVocabError(good.replace("\"hi</w>\":", "\"hi</w>\": \"x\", \"dummy\":"), mergesTxt, "'hi</w>'");
        assertVocabError(good.replace("\"hi</w>\":", "\"hi</w>\": -3, \"dummy\":"), mergesTxt, "'hi</w>'");
        assertVocabError(good.replace("\"hi</w>\": " + vocab.get("hi</w>"), "\"hi</w>\": 0"), mergesTxt, "id 0");
        assertVocabError(good.replace("<|startoftext|>", "<|start|>"), mergesTxt, "<|startoftext|>");
        assertVocabError(good.replace("\"hi</w>\":", "\"hx</w>\":"), mergesTxt, "'hi</w>'");
        Path vocabPath = write(tmp.resolve("vocab.json"), new byte[] {0x1F, (byte) 0x8B, 1, 2, 3});
        ClipTokenizerException e = assertThrows(ClipTokenizerException.class,
                () -> ClipTokenizer.fromVocabAndMerges(vocabPath, mergesTxt));
        assertTrue(e.getMessage().contains(vocabPath.toString()) && e.getMessage().contains("gzip"), e.getMessage());
        write(tmp.resolve("vocab.json"), new byte[] {'{', '"', (byte) 0xC3, '"', ':', '0', '}'});
        e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromVocabAndMerges(vocabPath, mergesTxt));
        assertTrue(e.getMessage().contains(vocabPath.toString()), e.getMessage());
    }

    @Test
    void corruptMergesAreNamedWithTheLine() throws Exception {
        List<String[]> merges = merges("h i</w>");
        Path vocab = write(tmp.resolve("vocab.json"), vocabJson(tinyVocab(merges)));
        Path m = tmp.resolve("merges.txt");
        write(m, "#version: 0.2\nh i</w>\nh i </w>\n");
        ClipTokenizerException e = assertThrows(ClipTokenizerException.class,
                () -> ClipTokenizer.fromVocabAndMerges(vocab, m));
        assertTrue(e.getMessage().contains(m.toString()) && e.getMessage().contains("line 3"), e.getMessage());
        write(m, "#version: 0.2\nh i</w>\nq z\n");
        e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromVocabAndMerges(vocab, m));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("'qz'"), e.getMessage());
        write(m, new byte[] {'h', ' ', (byte) 0xFF, '\n'});
        e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromVocabAndMerges(vocab, m));
        assertTrue(e.getMessage().contains(m.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void corruptTokenizerJsonIsNamed() throws Exception {
        List<String[]> merges = merges("h i</w>");
        Map<String, Integer> vocab = tinyVocab(merges);
        String good = tokenizerJson(vocab, merges, false);
        assertTokenizerJsonError("{\"version\": \"1.0\"}", "\"model\"");
        assertTokenizerJsonError(good.replace("\"BPE\"", "\"WordPiece\""), "WordPiece");
        assertTokenizerJsonError(good.replace("\"</w>\",", "null,"), "end_of_word_suffix");
        assertTokenizerJsonError(good.replace("\"h i</w>\"", "\"hi</w>\""), "model.merges[0]");
        assertTokenizerJsonError(good.replace("\"h i</w>\"", "42"), "model.merges[0]");
        assertTokenizerJsonError(good.replace("\"merges\"", "\"merged\""), "model.merges");
        assertTokenizerJsonError(good.substring(0, 100), "not valid JSON");
    }

    private void assertVocabError(String vocabText, Path merges, String expected) throws IOException {
        Path v = write(tmp.resolve("vocab.json"), vocabText);
        ClipTokenizerException e = assertThrows(ClipTokenizerException.class,
                () -> ClipTokenizer.fromVocabAndMerges(v, merges));
        assertTrue(e.getMessage().contains(v.toString()) && e.getMessage().contains(expected), e.getMessage());
    }

    private void assertTokenizerJsonError(String text, String expected) throws IOException {
        Path f = write(tmp.resolve("tokenizer.json"), text);
        ClipTokenizerException e = assertThrows(ClipTokenizerException.class, () -> ClipTokenizer.fromTokenizerJson(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(expected), e.getMessage());
    }

    // ---------------------------------------------------------------- tiny vocabularies

    static List<String[]> merges(String... lines) {
        return Arrays.stream(lines).map(l -> l.split(" ")).toList();
    }

    /** CLIP's layout: 256 byte characters, the same with "</w>", the merges, then the two special tokens. */
    static Map<String, Integer> tinyVocab(List<String[]> merges) {
        Map<String, Integer> v = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) v.put(String.valueOf(BpeByteLevel.charOf(b)), v.size());
        for (int b = 0; b < 256; b++) v.put(BpeByteLevel.charOf(b) + "</w>", v.size());
        for (String[] m : merges) v.putIfAbsent(m[0] + m[1], v.size());
        v.put(ClipTokenizer.BOS_TOKEN, v.size());
        v.put(ClipTokenizer.EOS_TOKEN, v.size());
        return v;
    }

    static String vocabJson(Map<String, Integer> vocab) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            Json.writeString(sb, e.getKey());
            sb.append(": ").append(e.getValue());
        }
        return sb.append('}').toString();
    }

    static String mergesTxt(List<String[]> merges) {
        StringBuilder sb = new StringBuilder("#version: 0.2\n");
        for (String[] m : merges) sb.append(m[0]).append(' ').append(m[1]).append('\n');
        return sb.toString();
    }

    static String tokenizerJson(Map<String, Integer> vocab, List<String[]> merges, boolean pairs) {
        List<String> ms = new ArrayList<>();
        for (String[] m : merges) {
            StringBuilder sb = new StringBuilder();
            if (pairs) {
                sb.append('[');
                Json.writeString(sb, m[0]);
                sb.append(", ");
                Json.writeString(sb, m[1]);
                sb.append(']');
            } else {
                Json.writeString(sb, m[0] + " " + m[1]);
            }
            ms.add(sb.toString());
        }
        return "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": " + vocab.get(ClipTokenizer.BOS_TOKEN)
                + ", \"content\": \"<|startoftext|>\", \"special\": true}], \"model\": {\"type\": \"BPE\", "
                + "\"dropout\": null, \"unk_token\": \"<|endoftext|>\", \"continuing_subword_prefix\": \"\", "
                + "\"end_of_word_suffix\": \"</w>\", \"fuse_unk\": false, \"vocab\": " + vocabJson(vocab)
                + ", \"merges\": [" + String.join(", ", ms) + "]}}";
    }

    static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    static Path write(Path p, String s) throws IOException {
        return Files.writeString(p, s, StandardCharsets.UTF_8);
    }

    static Path write(Path p, byte[] b) throws IOException {
        return Files.write(p, b);
    }
}
