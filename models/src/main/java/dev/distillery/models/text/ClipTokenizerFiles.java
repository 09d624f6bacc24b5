package dev.distillery.models.text;

import dev.distillery.tensor.io.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/** Reads the HF tokenizer files (optionally gzip-compressed) into a {@link BpeModel}; every error names its file. */
final class ClipTokenizerFiles {
    private ClipTokenizerFiles() {}

    static final String BOS = "<|startoftext|>";
    static final String EOS = "<|endoftext|>";
    static final String SUFFIX = "</w>";

    /** Settings read from tokenizer_config.json / special_tokens_map.json; null where absent. */
    record Settings(String padToken, Integer maxLength) {}

    static BpeModel loadVocabAndMerges(Path vocabJson, Path mergesTxt, int cacheCapacity) throws IOException {
        Map<String, Integer> vocab = readVocab(vocabJson, parseJson(vocabJson, read(vocabJson, "vocabulary file")));
        requireSpecials(vocab, vocabJson);
        String text = utf8(mergesTxt, read(mergesTxt, "merges file"));
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (i == 0 && line.startsWith("#version")) continue;
            if (line.isEmpty()) continue;
            String[] parts = line.split(" ", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new ClipTokenizerException(mergesTxt + ": line " + (i + 1)
                        + " is not a merge of two tokens separated by one space: '" + line + "'");
            }
            checkMerge(vocab, parts[0], parts[1], mergesTxt + ": line " + (i + 1), vocabJson);
            first.add(parts[0]);
            second.add(parts[1]);
        }
        return new BpeModel(vocab, first.toArray(String[]::new), second.toArray(String[]::new), SUFFIX, EOS,
                cacheCapacity);
    }

    static BpeModel loadTokenizerJson(Path file, int cacheCapacity) throws IOException {
        Object root = parseJson(file, read(file, "tokenizer file"));
        if (!(root instanceof Map<?, ?> top)) throw new ClipTokenizerException(file + ": not a JSON object");
        if (!(top.get("model") instanceof Map<?, ?> model)) {
            throw new ClipTokenizerException(file + ": no \"model\" object (not a HF tokenizers file)");
        }
        Object type = model.get("type");
        if (type != null && !"BPE".equals(type)) {
            throw new ClipTokenizerException(file + ": model.type is " + type + ", expected BPE");
        }
        Object suffix = model.get("end_of_word_suffix");
        if (!SUFFIX.equals(suffix)) {
            throw new ClipTokenizerException(file + ": model.end_of_word_suffix is " + suffix
                    + ", expected \"</w>\" (not a CLIP tokenizer)");
        }
        Object prefix = model.get("continuing_subword_prefix");
        if (prefix != null && prefix != Json.NULL && !"".equals(prefix)) {
            throw new ClipTokenizerException(file + ": model.continuing_subword_prefix " + prefix + " is not supported");
        }
        if (!model.containsKey("vocab")) throw new ClipTokenizerException(file + ": no model.vocab");
        Map<String, Integer> vocab = readVocab(file, model.get("vocab"));
        if (top.get("added_tokens") instanceof List<?> added) {
            for (Object o : added) {
                if (o instanceof Map<?, ?> t && t.get("content") instanceof String content
                        && t.get("id") instanceof Json.Num n && n.asNonNegativeLong() >= 0
                        && n.asNonNegativeLong() <= Integer.MAX_VALUE && !vocab.containsKey(content)) {
                    vocab.put(content, (int) n.asNonNegativeLong());
                }
            }
        }
        requireSpecials(vocab, file);
        if (!(model.get("merges") instanceof List<?> merges)) {
            throw new ClipTokenizerException(file + ": model.merges is missing or not an array");
        }
        String[] first = new String[merges.size()];
        String[] second = new String[merges.size()];
        for (int i = 0; i < merges.size(); i++) {
            Object m = merges.get(i);
            String where = file + ": model.merges[" + i + "]";
            if (m instanceof String s) {
                String[] parts = s.split(" ", -1);
                if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                    throw new ClipTokenizerException(where + " is not \"a b\": '" + s + "'");
                }
                first[i] = parts[0];
                second[i] = parts[1];
            } else if (m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String a
                    && pair.get(1) instanceof String b) {
                first[i] = a;
                second[i] = b;
            } else {
                throw new ClipTokenizerException(where + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            checkMerge(vocab, first[i], second[i], where, file);
        }
        Object unk = model.get("unk_token");
        return new BpeModel(vocab, first, second, SUFFIX, unk instanceof String u ? u : null, cacheCapacity);
    }

    /** Pad token and max length from a diffusers/HF tokenizer folder's JSON side files, where present. */
    static Settings readSettings(Path dir) throws IOException {
        String pad = null;
        Integer maxLength = null;
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            Object root = parseJson(config, read(config, "tokenizer config"));
            if (root instanceof Map<?, ?> m) {
                pad = tokenContent(m.get("pad_token"));
                if (m.get("model_max_length") instanceof Json.Num n) {
                    long v = n.asNonNegativeLong();
                    if (v >= 2 && v <= 1 << 20) maxLength = (int) v; // HF writes 1e30 for "no limit"
                }
            }
        }
        Path map = dir.resolve("special_tokens_map.json");
        if (Files.isRegularFile(map)) {
            Object root = parseJson(map, read(map, "special tokens map"));
            if (root instanceof Map<?, ?> m && tokenContent(m.get("pad_token")) != null) {
                pad = tokenContent(m.get("pad_token"));
            }
        }
        return new Settings(pad, maxLength);
    }

    private static String tokenContent(Object o) {
        if (o instanceof String s) return s;
        if (o instanceof Map<?, ?> m && m.get("content") instanceof String s) return s;
        return null;
    }

    /** The first of {@code names} that exists in {@code dir} (each also tried with ".gz"), or null. */
    static Path find(Path dir, String name) {
        for (String n : new String[] {name, name + ".gz"}) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static void requireSpecials(Map<String, Integer> vocab, Path file) throws ClipTokenizerException {
        for (String t : new String[] {BOS, EOS}) {
            if (!vocab.containsKey(t)) {
                throw new ClipTokenizerException(file + ": the vocabulary has no " + t + " token (not a CLIP vocabulary)");
            }
        }
    }

    private static void checkMerge(Map<String, Integer> vocab, String a, String b, String where, Path vocabFile)
            throws ClipTokenizerException {
        for (String t : new String[] {a, b, a + b}) {
            if (!vocab.containsKey(t)) {
                throw new ClipTokenizerException(where + ": merge '" + a + " " + b + "' needs '" + t
                        + "', which is not in the vocabulary of " + vocabFile);
            }
        }
    }

    private static Map<String, Integer> readVocab(Path file, Object json) throws ClipTokenizerException {
        if (!(json instanceof Map<?, ?> map)) {
            throw new ClipTokenizerException(file + ": the vocabulary is " + Json.typeName(json)
                    + ", expected an object of token to id");
        }
        if (map.isEmpty()) throw new ClipTokenizerException(file + ": the vocabulary is empty");
        Map<String, Integer> vocab = new HashMap<>(map.size() * 2);
        Map<Integer, String> byId = new HashMap<>(map.size() * 2);
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String token = (String) e.getKey();
            long id = e.getValue() instanceof Json.Num n ? n.asNonNegativeLong() : -1;
            if (id < 0 || id > Integer.MAX_VALUE - 8) {
                throw new ClipTokenizerException(file + ": the id of token '" + token + "' is "
                        + e.getValue() + ", expected a non-negative integer");
            }
            String other = byId.putIfAbsent((int) id, token);
            if (other != null) {
                throw new ClipTokenizerException(file + ": id " + id + " is given to both '" + other + "' and '"
                        + token + "'");
            }
            vocab.put(token, (int) id);
        }
        if (byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) > 16 * vocab.size() + 1024) {
            throw new ClipTokenizerException(file + ": the ids are implausibly sparse for " + vocab.size() + " tokens");
        }
        return vocab;
    }

    private static Object parseJson(Path file, byte[] bytes) throws ClipTokenizerException {
        try {
            return Json.parse(bytes);
        } catch (Json.ParseException e) {
            throw new ClipTokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String utf8(Path file, byte[] bytes) throws ClipTokenizerException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ClipTokenizerException(file + ": not valid UTF-8", e);
        }
    }

    /** The file's bytes, gunzipped when it starts with the gzip magic number. */
    static byte[] read(Path file, String role) throws ClipTokenizerException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ClipTokenizerException("CLIP tokenizer " + role + " not found: " + file, e);
        } catch (IOException e) {
            throw new ClipTokenizerException("CLIP tokenizer " + role + " cannot be read: " + file + " (" + e + ")", e);
        }
        if (bytes.length >= 2 && (bytes[0] & 0xFF) == 0x1F && (bytes[1] & 0xFF) == 0x8B) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                throw new ClipTokenizerException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
            }
        }
        return bytes;
    }
}
