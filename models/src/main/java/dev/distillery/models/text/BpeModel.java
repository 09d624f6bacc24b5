package dev.distillery.models.text;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte-level BPE vocabulary with ranked merges and an end-of-word suffix ({@code </w>} for CLIP), and the merge
 * loop of OpenAI's {@code SimpleTokenizer.bpe}: repeatedly merge every occurrence (left to right, not overlapping)
 * of the adjacent pair with the lowest rank until no pair has a rank. Words are BPE'd once and cached (bounded).
 *
 * <p>Immutable apart from the cache; safe to share between threads.
 */
final class BpeModel {
    /** Default number of distinct words whose BPE result is cached. */
    static final int DEFAULT_CACHE_CAPACITY = 16_384;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final String suffix;
    private final int unkId;
    private final MergeTable merges;
    private final int cacheCapacity;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab token to id (ids need not be dense; they must be distinct and non-negative)
     * @param mergeFirst left parts of the merges, in rank order (all in {@code vocab}, as are their concatenations)
     * @param mergeSecond right parts of the merges
     * @param suffix the end-of-word suffix appended to the last symbol of every word ({@code "</w>"}, or "")
     * @param unkToken the token for symbols missing from the vocabulary, or null (then such a symbol is an error)
     */
    BpeModel(Map<String, Integer> vocab, String[] mergeFirst, String[] mergeSecond, String suffix, String unkToken,
             int cacheCapacity) {
        this.vocab = Map.copyOf(vocab);
        int max = -1;
        for (int id : vocab.values()) max = Math.max(max, id);
        this.idToToken = new String[max + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (idToToken[e.getValue()] != null) throw new IllegalArgumentException("duplicate id " + e.getValue());
            idToToken[e.getValue()] = e.getKey();
        }
        this.suffix = suffix;
        Integer unk = unkToken == null ? null : vocab.get(unkToken);
        this.unkId = unk == null ? -1 : unk;
        this.merges = new MergeTable(mergeFirst.length);
        for (int r = 0; r < mergeFirst.length; r++) {
            int a = vocab.get(mergeFirst[r]);
            int b = vocab.get(mergeSecond[r]);
            int ab = vocab.get(mergeFirst[r] + mergeSecond[r]);
            merges.put(a, b, r, ab); // a repeated pair keeps its last rank, like dict(zip(merges, range(n)))
        }
        this.cacheCapacity = Math.max(0, cacheCapacity);
    }

    /** The same vocabulary and merges with an empty cache of another capacity. */
    BpeModel withCacheCapacity(int capacity) {
        return new BpeModel(this, capacity);
    }

    private BpeModel(BpeModel other, int cacheCapacity) {
        this.vocab = other.vocab;
        this.idToToken = other.idToToken;
        this.suffix = other.suffix;
        this.unkId = other.unkId;
        this.merges = other.merges;
        this.cacheCapacity = Math.max(0, cacheCapacity);
    }

    int vocabSize() {
        return vocab.size();
    }

    /** The id of {@code token}, or -1. */
    int id(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    /** The token with id {@code id}, or null. */
    String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    int mergeCount() {
        return merges.size;
    }

    int cacheCapacity() {
        return cacheCapacity;
    }

    int cachedWords() {
        return cache.size();
    }

    /**
     * The ids of one pre-tokenized word in byte-level form (non-empty). The returned array is shared with the
     * cache: callers must not modify it.
     */
    int[] encodeWord(String byteLevelWord) {
        int[] ids = cache.get(byteLevelWord);
        if (ids != null) return ids;
        ids = bpe(byteLevelWord);
        if (cacheCapacity > 0) {
            if (cache.size() >= cacheCapacity) cache.clear(); // crude but bounded; hot words come straight back
            cache.put(byteLevelWord, ids);
        }
        return ids;
    }

    private int[] bpe(String word) {
        int n = word.codePointCount(0, word.length());
        int[] sym = new int[n];
        String[] parts = new String[n];
        for (int i = 0, k = 0; k < n; k++) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            parts[k] = word.substring(i, i + len) + (k == n - 1 ? suffix : "");
            i += len;
        }
        for (int k = 0; k < n; k++) {
            Integer id = vocab.get(parts[k]);
            sym[k] = id == null ? -1 : id;
        }
        int len = n;
        while (len > 1) {
            int bestRank = Integer.MAX_VALUE;
            int bestA = -1;
            int bestB = -1;
            for (int i = 0; i + 1 < len; i++) {
                int r = merges.rank(sym[i], sym[i + 1]);
                if (r >= 0 && r < bestRank) {
                    bestRank = r;
                    bestA = sym[i];
                    bestB = sym[i + 1];
                }
            }
            if (bestRank == Integer.MAX_VALUE) break;
            int merged = merges.merged(bestRank);
            int out = 0;
            for (int i = 0; i < len; ) {
                if (i + 1 < len && sym[i] == bestA && sym[i + 1] == bestB) {
                    sym[out++] = merged;
                    i += 2;
                } else {
                    sym[out++] = sym[i++];
                }
            }
            len = out;
        }
        int[] ids = Arrays.copyOf(sym, len);
        for (int i = 0; i < len; i++) {
            if (ids[i] < 0) {
                if (unkId < 0) {
                    throw new IllegalArgumentException("symbol not in the vocabulary and no unknown token: " + word);
                }
                ids[i] = unkId;
            }
        }
        return ids;
    }

    /** Open-addressing map from an id pair to (rank, merged id). */
    private static final class MergeTable {
        private final long[] keys;
        private final int[] ranks;
        private final int[] mergedByRank;
        private final int mask;
        int size;

        MergeTable(int n) {
            int cap = Integer.highestOneBit(Math.max(4, n * 2 + 1)) << 1;
            keys = new long[cap];
            Arrays.fill(keys, -1L);
            ranks = new int[cap];
            mergedByRank = new int[Math.max(n, 1)];
            mask = cap - 1;
        }

        private static long key(int a, int b) {
            return ((long) a << 32) | (b & 0xFFFFFFFFL);
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        void put(int a, int b, int rank, int merged) {
            long k = key(a, b);
            int s = slot(k);
            while (keys[s] != -1L && keys[s] != k) s = (s + 1) & mask;
            if (keys[s] == -1L) size++;
            keys[s] = k;
            ranks[s] = rank;
            mergedByRank[rank] = merged;
        }

        /** The rank of the pair, or -1. */
        int rank(int a, int b) {
            if (a < 0 || b < 0) return -1;
            long k = key(a, b);
            for (int s = slot(k); ; s = (s + 1) & mask) {
                long v = keys[s];
                if (v == k) return ranks[s];
                if (v == -1L) return -1;
            }
        }

        int merged(int rank) {
            return mergedByRank[rank];
        }
    }
}
