package dev.distillery.distill.train;

import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.optim.Ema;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Json;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * Atomic, resumable checkpoints in a run's {@code checkpoints/} folder. Each is a directory {@code step-000123/}:
 * <pre>
 *   model.safetensors       the module's state dict
 *   ema.safetensors         the EMA shadow weights (only when an {@link Ema} is given)
 *   optimizer.safetensors   the optimiser state (moments, step count)
 *   state.json              written last: step, RNG seeds and offsets by name, the data-loader state string, extra
 *                           strings, and each file's size and CRC-32C
 * </pre>
 *
 * <h2>Atomicity</h2>
 * {@link #save} writes everything into a hidden {@code .tmp-step-000123-...} directory, fsyncs each file and the
 * directory, renames it to {@code step-000123} in one atomic step and fsyncs {@code checkpoints/}. A process killed at
 * any point leaves either the complete new checkpoint or a temporary directory that {@link #latest()} ignores (and the
 * next {@code save} removes). Only after the new checkpoint is in place are older ones beyond the last
 * {@code keepLast} removed (each first renamed to a hidden name, so a half-deleted one is never taken for complete).
 *
 * <h2>Validation</h2>
 * {@link #complete()} (and pruning) consider a {@code step-N} directory complete when its {@code state.json}
 * parses, names step N and every file it lists exists with the recorded size; {@link #verify} also checks the
 * CRC-32Cs, and {@link #latest()} returns the newest checkpoint that verifies. {@link #load} verifies before
 * restoring anything. Errors name the file. One writer per {@code checkpoints/} folder: {@link #save} removes
 * temporary directories it finds there.
 */
public final class Checkpoint {
    public static final String MODEL_FILE = "model.safetensors";
    public static final String EMA_FILE = "ema.safetensors";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "state.json";
    static final String FORMAT = "distillery-checkpoint-1";
    private static final Pattern NAME = Pattern.compile("step-(\\d{6,18})");

    /**
     * Everything besides tensors that a resumed run needs: the step reached, its random generators by name (new
     * {@link Rng}s at the saved offsets after a load), the data loader's state string (e.g.
     * {@code DataLoader.State.encode()}, may be null) and any other values as strings.
     */
    public record State(long step, Map<String, Rng> rngs, String dataState, Map<String, String> extra) {
        public State {
            if (step < 0) throw new IllegalArgumentException("checkpoint step must be >= 0, got " + step);
            rngs = Collections.unmodifiableMap(new LinkedHashMap<>(rngs == null ? Map.of() : rngs));
            extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra == null ? Map.of() : extra));
        }

        public State(long step, Map<String, Rng> rngs, String dataState) {
            this(step, rngs, dataState, Map.of());
        }

        /** The generator saved under {@code name}; fails naming the known names if there is none. */
        public Rng rng(String name) {
            Rng r = rngs.get(name);
            if (r == null) throw new IllegalArgumentException("checkpoint has no RNG '" + name + "' (has " + rngs.keySet() + ")");
            return r;
        }
    }

    private final Path dir;
    private final int keepLast;

    /**
     * Checkpoints in {@code dir} (created if missing), keeping the newest {@code keepLast} (at least 1). Removes
     * leftovers of a killed {@link #save} (temporary directories) and of a killed prune; a checkpoint that was being
     * replaced by one of the same step is put back if its replacement never arrived.
     */
    public Checkpoint(Path dir, int keepLast) throws IOException {
        if (keepLast < 1) throw new IllegalArgumentException("keepLast must be >= 1, got " + keepLast);
        this.dir = dir.toAbsolutePath().normalize();
        this.keepLast = keepLast;
        Files.createDirectories(this.dir);
        removeStale(null);
    }

    public Path dir() {
        return dir;
    }

    public int keepLast() {
        return keepLast;
    }

    /** The directory name for {@code step}: {@code step-} and at least six digits. */
    public static String dirName(long step) {
        return String.format("step-%06d", step);
    }

    /**
     * Writes a checkpoint of {@code model}, {@code ema} (null: none), {@code optimizer} (null: none) and
     * {@code state}, atomically, then prunes to the last {@code keepLast}. The tensors are read while saving, so
     * call it between steps. An existing checkpoint of the same step is replaced (the old one is kept until the new
     * one is in place).
     *
     * @return the new checkpoint's directory
     */
    public Path save(Module model, Ema ema, Optimizer optimizer, State state) throws IOException {
        Map<String, Map<String, Tensor>> tensorFiles = new LinkedHashMap<>();
        tensorFiles.put(MODEL_FILE, model.stateDict());
        if (ema != null) tensorFiles.put(EMA_FILE, ema.stateDict());
        if (optimizer != null) tensorFiles.put(OPTIMIZER_FILE, optimizer.stateDict());
        return save(tensorFiles, state);
    }

    /**
     * Writes a checkpoint made of named safetensors files (e.g. {@code generator.safetensors},
     * {@code fake.safetensors}, one per network and optimiser of a multi-network run) and {@code state}, with the same
     * atomicity, validation and pruning as {@link #save(Module, Ema, Optimizer, State)}. Read the files back with
     * {@link #readTensors}.
     */
    public Path save(Map<String, Map<String, Tensor>> tensorFiles, State state) throws IOException {
        for (String f : tensorFiles.keySet())
            if (f.equals(STATE_FILE) || f.contains("/") || f.startsWith(".")) throw new IllegalArgumentException("checkpoint file name not allowed: " + f);
        String name = dirName(state.step());
        Path target = dir.resolve(name);
        Path tmp = dir.resolve(".tmp-" + name + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        removeStale(tmp);
        try {
            Files.createDirectory(tmp);
            Map<String, Object> files = new LinkedHashMap<>();
            for (var e : tensorFiles.entrySet()) writeTensors(tmp, e.getKey(), e.getValue(), files);

            Map<String, Object> rngs = new LinkedHashMap<>();
            state.rngs().forEach((k, r) -> {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("seed", r.seed());
                o.put("offset", r.offset());
                rngs.put(k, o);
            });
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("format", FORMAT);
            json.put("step", state.step());
            json.put("rngs", rngs);
            json.put("data", state.dataState());
            json.put("extra", state.extra());
            json.put("files", files);
            Fs.writeAtomically(tmp.resolve(STATE_FILE), (JsonWriter.write(json) + "\n").getBytes(StandardCharsets.UTF_8));
            Fs.fsyncDir(tmp);

            Path old = null;
            if (Files.exists(target)) {
                old = dir.resolve(".old-" + name + "-" + System.nanoTime());
                Fs.move(target, old);
            }
            Fs.move(tmp, target);
            Fs.fsyncDir(dir);
            if (old != null) Fs.deleteRecursively(old);
        } catch (IOException | RuntimeException e) {
            try {
                Fs.deleteRecursively(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        prune();
        return target;
    }

    private static void writeTensors(Path tmp, String file, Map<String, Tensor> tensors, Map<String, Object> files) throws IOException {
        Path p = tmp.resolve(file);
        Safetensors.write(p, tensors);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("bytes", Files.size(p));
        o.put("crc32c", Long.toHexString(crc32c(p)));
        files.put(file, o);
    }

    /** Deletes hidden leftovers (temporary or half-deleted checkpoints) other than {@code keep}. */
    private void removeStale(Path keep) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (p.equals(keep)) continue;
                if (n.startsWith(".old-step-")) {
                    // A kill while replacing a checkpoint of the same step: put the old one back if the new one never arrived.
                    Path orig = dir.resolve(n.substring(5, n.lastIndexOf('-')));
                    if (!Files.exists(orig) && isComplete(p)) {
                        Fs.move(p, orig);
                        Fs.fsyncDir(dir);
                    } else Fs.deleteRecursively(p);
                } else if (n.startsWith(".tmp-step-") || n.startsWith(".del-step-")) Fs.deleteRecursively(p);
            }
        }
    }

    /** Removes complete checkpoints beyond the newest {@code keepLast}, and incomplete {@code step-N} directories older than the newest complete one. */
    public void prune() throws IOException {
        List<Path> done = complete();
        if (done.isEmpty()) return;
        long newest = stepOf(done.getLast());
        List<Path> doomed = new ArrayList<>(done.subList(0, Math.max(0, done.size() - keepLast)));
        for (Path p : list()) if (!done.contains(p) && stepOf(p) < newest) doomed.add(p);
        for (Path p : doomed) {
            Path del = dir.resolve(".del-" + p.getFileName() + "-" + System.nanoTime());
            Fs.move(p, del);
            Fs.fsyncDir(dir);
            Fs.deleteRecursively(del);
        }
    }

    /** Every {@code step-N} directory, complete or not, by step. */
    private List<Path> list() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (var s = Files.list(dir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(Checkpoint::stepOf)).toList();
        }
    }

    /** The complete checkpoints (see the class comment), oldest first. */
    public List<Path> complete() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : list()) if (isComplete(p)) out.add(p);
        return out;
    }

    /**
     * The newest checkpoint that passes {@link #verify} (state.json, sizes and CRC-32Cs), if any; temporary,
     * partial and corrupt ones are skipped. Reads the newest checkpoints' files in full, so call it when resuming,
     * not every step.
     */
    public Optional<Path> latest() throws IOException {
        List<Path> c = complete();
        for (int i = c.size() - 1; i >= 0; i--) {
            try {
                verify(c.get(i));
                return Optional.of(c.get(i));
            } catch (IOException e) {
                // corrupt: try the one before
            }
        }
        return Optional.empty();
    }

    /** Whether {@code ckpt} has a parsable {@code state.json} for its step whose files all exist with their sizes. */
    public static boolean isComplete(Path ckpt) {
        try {
            check(ckpt, false);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Checks {@code ckpt} fully (state.json, sizes and CRC-32Cs); the exception names the offending file. */
    public static void verify(Path ckpt) throws IOException {
        check(ckpt, true);
    }

    private static Map<String, Object> check(Path ckpt, boolean crc) throws IOException {
        Map<String, Object> json = readStateJson(ckpt);
        Path sf = ckpt.resolve(STATE_FILE);
        Matcher m = NAME.matcher(ckpt.getFileName().toString());
        long step = longField(json, "step", sf);
        if (m.matches() && Long.parseLong(m.group(1)) != step)
            throw new IOException(sf + ": step " + step + " does not match the directory name");
        Map<String, Object> files = objectField(json, "files", sf);
        if (!files.containsKey(MODEL_FILE)) throw new IOException(sf + ": lists no " + MODEL_FILE);
        for (var e : files.entrySet()) {
            Path f = ckpt.resolve(e.getKey());
            if (!(e.getValue() instanceof Map<?, ?> info)) throw new IOException(sf + ": entry for " + e.getKey() + " is not an object");
            if (!Files.isRegularFile(f)) throw new IOException(f + ": missing (listed in " + sf + ")");
            long size;
            try {
                size = JsonWriter.toLong(info.get("bytes"));
            } catch (IllegalArgumentException ex) {
                throw new IOException(sf + ": bad size for " + e.getKey() + ": " + ex.getMessage());
            }
            if (Files.size(f) != size) throw new IOException(f + ": " + Files.size(f) + " bytes, " + sf + " records " + size);
            if (crc) {
                Object want = info.get("crc32c");
                String got = Long.toHexString(crc32c(f));
                if (!got.equals(want)) throw new IOException(f + ": CRC-32C " + got + " does not match " + want + " recorded in " + sf + " (corrupt file)");
            }
        }
        return json;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readStateJson(Path ckpt) throws IOException {
        Path sf = ckpt.resolve(STATE_FILE);
        if (!Files.isRegularFile(sf)) throw new IOException(sf + ": missing (incomplete checkpoint)");
        Object v;
        try {
            v = Json.parse(Files.readAllBytes(sf));
        } catch (Json.ParseException e) {
            throw new IOException(sf + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(v instanceof Map)) throw new IOException(sf + ": expected an object, got " + Json.typeName(v));
        Map<String, Object> json = (Map<String, Object>) v;
        if (!FORMAT.equals(json.get("format"))) throw new IOException(sf + ": format is " + json.get("format") + ", expected " + FORMAT);
        return json;
    }

    /**
     * Verifies {@code ckpt} and restores it: {@code model} (strictly), {@code ema} and {@code optimizer} (each
     * skipped when null; required in the checkpoint when given). Returns the saved {@link State}, whose RNGs are
     * fresh generators at the saved offsets. Nothing is restored if verification fails; errors name the file. A
     * load that fails later (e.g. an optimiser of another shape) may have restored the model already: discard the
     * objects then.
     */
    public static State load(Path ckpt, Module model, Ema ema, Optimizer optimizer) throws IOException {
        Map<String, Object> json = check(ckpt, true);
        Path sf = ckpt.resolve(STATE_FILE);
        State state = parseState(json, sf);
        Map<String, Object> files = objectField(json, "files", sf);
        if (ema != null && !files.containsKey(EMA_FILE)) throw new IOException(ckpt.resolve(EMA_FILE) + ": missing, but an EMA was given to restore");
        if (optimizer != null && !files.containsKey(OPTIMIZER_FILE))
            throw new IOException(ckpt.resolve(OPTIMIZER_FILE) + ": missing, but an optimizer was given to restore");
        Map<String, Tensor> m = Safetensors.read(ckpt.resolve(MODEL_FILE));
        Map<String, Tensor> e = ema == null ? null : Safetensors.read(ckpt.resolve(EMA_FILE));
        Map<String, Tensor> o = optimizer == null ? null : Safetensors.read(ckpt.resolve(OPTIMIZER_FILE));
        restore(ckpt.resolve(MODEL_FILE), () -> model.loadStateDict(m, true));
        if (ema != null) restore(ckpt.resolve(EMA_FILE), () -> ema.loadStateDict(e));
        if (optimizer != null) restore(ckpt.resolve(OPTIMIZER_FILE), () -> optimizer.loadStateDict(o));
        return state;
    }

    /** Verifies {@code ckpt} and reads one of its tensor files (written by {@link #save(Map, State)}); errors name the file. */
    public static Map<String, Tensor> readTensors(Path ckpt, String file) throws IOException {
        Map<String, Object> json = check(ckpt, true);
        if (!objectField(json, "files", ckpt.resolve(STATE_FILE)).containsKey(file)) throw new IOException(ckpt.resolve(file) + ": not part of this checkpoint");
        return Safetensors.read(ckpt.resolve(file));
    }

    /** Reads only {@code state.json} of {@code ckpt} (after a full {@link #verify}). */
    public static State readState(Path ckpt) throws IOException {
        return parseState(check(ckpt, true), ckpt.resolve(STATE_FILE));
    }

    private static void restore(Path file, Runnable r) throws IOException {
        try {
            r.run();
        } catch (IllegalArgumentException | IllegalStateException ex) {
            throw new IOException(file + ": " + ex.getMessage(), ex);
        }
    }

    private static State parseState(Map<String, Object> json, Path sf) throws IOException {
        long step = longField(json, "step", sf);
        Map<String, Rng> rngs = new LinkedHashMap<>();
        for (var e : objectField(json, "rngs", sf).entrySet()) {
            if (!(e.getValue() instanceof Map<?, ?>)) throw new IOException(sf + ": rng '" + e.getKey() + "' is not an object");
            @SuppressWarnings("unchecked") Map<String, Object> r = (Map<String, Object>) e.getValue();
            rngs.put(e.getKey(), new Rng(longField(r, "seed", sf), longField(r, "offset", sf)));
        }
        Object d = json.get("data");
        if (d != null && d != Json.NULL && !(d instanceof String)) throw new IOException(sf + ": 'data' is " + Json.typeName(d) + ", expected a string");
        Map<String, String> extra = new LinkedHashMap<>();
        for (var e : objectField(json, "extra", sf).entrySet()) {
            if (!(e.getValue() instanceof String s)) throw new IOException(sf + ": extra '" + e.getKey() + "' is not a string");
            extra.put(e.getKey(), s);
        }
        return new State(step, rngs, d instanceof String s ? s : null, extra);
    }

    private static long longField(Map<String, Object> o, String key, Path sf) throws IOException {
        if (!o.containsKey(key)) throw new IOException(sf + ": missing '" + key + "'");
        try {
            return JsonWriter.toLong(o.get(key));
        } catch (IllegalArgumentException e) {
            throw new IOException(sf + ": '" + key + "': " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> objectField(Map<String, Object> o, String key, Path sf) throws IOException {
        Object v = o.get(key);
        if (!(v instanceof Map)) throw new IOException(sf + ": '" + key + "' is " + (v == null ? "missing" : Json.typeName(v)) + ", expected an object");
        return (Map<String, Object>) v;
    }

    private static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private static long crc32c(Path f) throws IOException {
        CRC32C c = new CRC32C();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) c.update(buf, 0, n);
        }
        return c.getValue();
    }
}
