package dev.distillery.distill.train;

import dev.distillery.tensor.io.Json;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One training run's directory:
 * <pre>
 *   config.json      the resolved configuration, written once when the run is created
 *   metrics.jsonl    one JSON object per line, e.g. {"step":12,"loss":0.25}, appended and flushed per call
 *   checkpoints/     {@link Checkpoint}s, step-000012/ ...
 *   samples/         sample grids
 *   plots/           plots
 * </pre>
 * {@link #create} refuses a directory that already holds a run (a {@code config.json}) or any other file, so a run is
 * never overwritten by accident; {@link #resume} opens an existing one and, given the step of the checkpoint being
 * resumed, drops metric lines written after it (they will be written again) and a torn last line left by a kill.
 *
 * <p>Metric lines are flushed to the OS on every {@link #logMetrics} (they survive the process being killed) and
 * forced to disk on {@link #syncMetrics} (call it with each checkpoint, so a resumed run finds every line up to it).
 * Not thread-safe.
 */
public final class RunDir implements Closeable {
    public static final String CONFIG_FILE = "config.json";
    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String CHECKPOINTS = "checkpoints", SAMPLES = "samples", PLOTS = "plots";

    private final Path root;
    private FileChannel metrics;

    private RunDir(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        for (String d : List.of(CHECKPOINTS, SAMPLES, PLOTS)) Files.createDirectories(this.root.resolve(d));
    }

    /**
     * Creates a new run in {@code dir} (created if missing; it must be empty) and writes {@code config} (rendered by
     * {@link JsonWriter}, in the map's order) to {@code config.json} atomically.
     *
     * @throws IOException if {@code dir} already holds a run or other files (the message says to resume instead)
     */
    public static RunDir create(Path dir, Map<String, ?> config) throws IOException {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) throw new IOException(dir + " exists and is not a directory");
            if (Files.exists(dir.resolve(CONFIG_FILE)))
                throw new IOException("run directory " + dir + " already holds a run (" + CONFIG_FILE + "); resume it or choose another directory");
            try (var s = Files.list(dir)) {
                if (s.findAny().isPresent()) throw new IOException("run directory " + dir + " is not empty; refusing to overwrite it");
            }
        }
        Files.createDirectories(dir);
        RunDir run = new RunDir(dir);
        Fs.writeAtomically(run.configFile(), (JsonWriter.write(config) + "\n").getBytes(StandardCharsets.UTF_8));
        Files.createFile(run.metricsFile());
        Fs.fsyncDir(run.root);
        return run;
    }

    /** Opens an existing run, keeping every metric line. */
    public static RunDir resume(Path dir) throws IOException {
        return resume(dir, Long.MAX_VALUE);
    }

    /**
     * Opens an existing run that continues after step {@code resumeStep} (the checkpoint's step): metric lines whose
     * {@code step} is greater, and any unparsable line (a line torn by a kill), are removed.
     *
     * @throws IOException if {@code dir} has no {@code config.json}
     */
    public static RunDir resume(Path dir, long resumeStep) throws IOException {
        if (!Files.isRegularFile(dir.resolve(CONFIG_FILE)))
            throw new IOException("cannot resume " + dir + ": no " + CONFIG_FILE + " (not a run directory)");
        RunDir run = new RunDir(dir);
        Path m = run.metricsFile();
        if (Files.exists(m)) {
            List<String> lines = lines(m);
            StringBuilder kept = new StringBuilder();
            boolean changed = false;
            for (String line : lines) {
                Map<String, Object> o = parseLine(line);
                if (o == null || stepOf(o) > resumeStep) {
                    changed = true;
                    continue;
                }
                kept.append(line).append('\n');
            }
            byte[] now = Files.readAllBytes(m);
            if (changed || (now.length > 0 && now[now.length - 1] != '\n'))
                Fs.writeAtomically(m, kept.toString().getBytes(StandardCharsets.UTF_8));
        } else Files.createFile(m);
        return run;
    }

    public Path root() {
        return root;
    }

    public Path configFile() {
        return root.resolve(CONFIG_FILE);
    }

    public Path metricsFile() {
        return root.resolve(METRICS_FILE);
    }

    public Path checkpoints() {
        return root.resolve(CHECKPOINTS);
    }

    public Path samples() {
        return root.resolve(SAMPLES);
    }

    public Path plots() {
        return root.resolve(PLOTS);
    }

    /** The parsed {@code config.json} (numbers as {@link Json.Num}); errors name the file. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> readConfig() throws IOException {
        Object v;
        try {
            v = Json.parse(Files.readAllBytes(configFile()));
        } catch (Json.ParseException e) {
            throw new IOException(configFile() + ": " + e.getMessage(), e);
        }
        if (!(v instanceof Map)) throw new IOException(configFile() + ": expected an object, got " + Json.typeName(v));
        return (Map<String, Object>) v;
    }

    /**
     * Appends {@code {"step": step, ...values}} as one line (values rendered by {@link JsonWriter}) and hands it to the
     * OS, so it survives the process dying; {@link #syncMetrics} makes it durable.
     */
    public void logMetrics(long step, Map<String, ?> values) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("step", step);
        values.forEach((k, v) -> {
            if (!k.equals("step")) o.put(k, v);
        });
        byte[] line = (JsonWriter.write(o) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (metrics == null)
                metrics = FileChannel.open(metricsFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) metrics.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + metricsFile(), e);
        }
    }

    /** Forces the metric lines written so far to disk. */
    public void syncMetrics() throws IOException {
        if (metrics != null) metrics.force(false);
    }

    /** Every complete metric line of {@code metrics.jsonl}, in order; a torn last line is skipped. */
    public List<Map<String, Object>> readMetrics() throws IOException {
        return readMetrics(metricsFile());
    }

    /** {@link #readMetrics()} for any metrics file. Lines that do not parse are errors naming the file and line, except the last. */
    public static List<Map<String, Object>> readMetrics(Path file) throws IOException {
        List<String> lines = lines(file);
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            Map<String, Object> o = parseLine(lines.get(i));
            if (o == null) {
                if (i == lines.size() - 1) break;
                throw new IOException(file + ": line " + (i + 1) + " is not a JSON object");
            }
            out.add(o);
        }
        return out;
    }

    /** The values of metric {@code name} in order (lines without it skipped), as doubles. */
    public List<Double> metric(String name) throws IOException {
        List<Double> out = new ArrayList<>();
        for (Map<String, Object> o : readMetrics()) if (o.containsKey(name)) out.add(JsonWriter.toDouble(o.get(name)));
        return out;
    }

    /** The file's lines; bytes that are not UTF-8 (a multi-byte character torn by a kill) become U+FFFD. */
    private static List<String> lines(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parseLine(String line) {
        if (line.isBlank()) return null;
        try {
            Object v = Json.parse(line);
            return v instanceof Map ? (Map<String, Object>) v : null;
        } catch (Json.ParseException e) {
            return null;
        }
    }

    private static long stepOf(Map<String, Object> o) {
        Object s = o.get("step");
        try {
            return s == null ? Long.MIN_VALUE : JsonWriter.toLong(s);
        } catch (IllegalArgumentException e) {
            return Long.MIN_VALUE;
        }
    }

    @Override
    public void close() throws IOException {
        if (metrics != null) {
            metrics.force(false);
            metrics.close();
            metrics = null;
        }
    }
}
