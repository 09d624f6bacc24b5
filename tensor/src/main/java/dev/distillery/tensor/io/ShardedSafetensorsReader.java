package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sharded checkpoint: a {@code *.safetensors.index.json} of the form
 * {@code {"metadata": {...}, "weight_map": {"tensor name": "shard file name", ...}}} (the layout Hugging Face
 * writes). The index is parsed and validated on open; each shard is mapped and validated the first time one of its
 * tensors is asked for, and stays open until {@link #close()}.
 *
 * <p>Shard names resolve against the index's directory and may not leave it. Index metadata values may be strings,
 * numbers or booleans ({@code total_size} is a number) and are returned as text. Top-level keys other than
 * {@code metadata} and {@code weight_map} are ignored. Tensors present in a shard but absent from the weight map
 * are not visible.
 */
final class ShardedSafetensorsReader implements SafetensorsReader {
    private final Path index;
    private final Map<String, Path> weightMap;
    private final List<String> names;
    private final Map<String, String> metadata;
    private final Map<Path, SafetensorsFileReader> shards = new HashMap<>();
    private boolean closed;

    private ShardedSafetensorsReader(Path index, Map<String, Path> weightMap, Map<String, String> metadata) {
        this.index = index;
        this.weightMap = Collections.unmodifiableMap(weightMap);
        this.names = List.copyOf(weightMap.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    static ShardedSafetensorsReader open(Path index) throws SafetensorsException {
        byte[] bytes;
        try {
            long size = Files.size(index);
            if (size > SafetensorsFileReader.MAX_HEADER_BYTES)
                throw new SafetensorsException(index, null, "the index is " + size + " bytes, over the " + SafetensorsFileReader.MAX_HEADER_BYTES + "-byte limit");
            bytes = Files.readAllBytes(index);
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new SafetensorsException(index, null, "cannot read the index: " + e, e);
        }
        Object root;
        try {
            root = Json.parse(bytes);
        } catch (Json.ParseException e) {
            throw new SafetensorsException(index, null, "the index is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) throw new SafetensorsException(index, null, "the index is " + Json.typeName(root) + ", not a JSON object");

        Object wm = top.get("weight_map");
        if (wm == null) throw new SafetensorsException(index, null, "the index has no 'weight_map'");
        if (!(wm instanceof Map<?, ?> entries)) throw new SafetensorsException(index, null, "'weight_map' is " + Json.typeName(wm) + ", expected an object");
        Path dir = index.toAbsolutePath().getParent().normalize();
        Map<String, Path> weightMap = new LinkedHashMap<>();
        Map<String, Path> resolved = new HashMap<>();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof String shard))
                throw new SafetensorsException(index, name, "the weight_map entry is " + Json.typeName(e.getValue()) + ", expected a shard file name");
            Path p = resolved.get(shard);
            if (p == null) {
                p = resolveShard(index, dir, name, shard);
                resolved.put(shard, p);
            }
            weightMap.put(name, p);
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        Object md = top.get("metadata");
        if (md != null && md != Json.NULL) {
            if (!(md instanceof Map<?, ?> m)) throw new SafetensorsException(index, null, "'metadata' is " + Json.typeName(md) + ", expected an object");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object v = e.getValue();
                if (v instanceof String || v instanceof Json.Num || v instanceof Boolean) metadata.put((String) e.getKey(), v.toString());
                else throw new SafetensorsException(index, null, "metadata key " + Json.quote((String) e.getKey()) + " has " + Json.typeName(v) + ", expected a string, number or boolean");
            }
        }
        return new ShardedSafetensorsReader(index, weightMap, metadata);
    }

    private static Path resolveShard(Path index, Path dir, String tensor, String shard) throws SafetensorsException {
        if (shard.isEmpty()) throw new SafetensorsException(index, tensor, "empty shard file name in weight_map");
        Path p;
        try {
            Path rel = Path.of(shard);
            if (rel.isAbsolute()) throw new SafetensorsException(index, tensor, "shard " + Json.quote(shard) + " is an absolute path; shards must be in the index's directory");
            p = dir.resolve(rel).normalize();
        } catch (InvalidPathException e) {
            throw new SafetensorsException(index, tensor, "shard " + Json.quote(shard) + " is not a valid file name: " + e.getMessage());
        }
        if (!p.startsWith(dir) || p.equals(dir))
            throw new SafetensorsException(index, tensor, "shard " + Json.quote(shard) + " is outside the index's directory " + dir);
        return p;
    }

    /** The open reader for the shard holding {@code name}, mapping it on first use. */
    private synchronized SafetensorsFileReader shardOf(String name) throws SafetensorsException {
        checkOpen();
        Path p = weightMap.get(name);
        if (p == null) throw new SafetensorsException(index, name, "no such tensor in the weight_map (" + weightMap.size() + " tensors)");
        SafetensorsFileReader r = shards.get(p);
        if (r == null) {
            try {
                r = SafetensorsFileReader.open(p);
            } catch (SafetensorsException e) {
                throw new SafetensorsException(p, e.tensor().orElse(null), e.problem() + " (a shard of " + index + ")", e.getCause() != null ? e.getCause() : e);
            }
            shards.put(p, r);
        }
        if (!r.contains(name))
            throw new SafetensorsException(index, name, "the weight_map puts it in " + p + ", which has no such tensor");
        return r;
    }

    @Override
    public Path file() {
        return index;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return weightMap.containsKey(name);
    }

    /** The shard file the index assigns {@code name} to, or null; does not open it. */
    Path shardFile(String name) {
        return weightMap.get(name);
    }

    @Override
    public TensorInfo info(String name) throws SafetensorsException {
        return shardOf(name).info(name);
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Tensor load(String name) throws SafetensorsException {
        return shardOf(name).load(name);
    }

    @Override
    public Tensor load(String name, DType as) throws SafetensorsException {
        return shardOf(name).load(name, as);
    }

    /** Number of shards mapped so far (for tests: shards open lazily). */
    synchronized int openShardCount() {
        return shards.size();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(index + ": the safetensors reader is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        List<SafetensorsFileReader> all = new ArrayList<>(shards.values());
        shards.clear();
        for (SafetensorsFileReader r : all) r.close();
    }

    @Override
    public String toString() {
        return "SafetensorsReader[" + index + ", " + names.size() + " tensors in " + new java.util.HashSet<>(weightMap.values()).size() + " shards]";
    }
}
