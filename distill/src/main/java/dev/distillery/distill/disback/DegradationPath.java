package dev.distillery.distill.disback;

import dev.distillery.distill.score.EdmDenoiserNet;
import dev.distillery.distill.train.Fs;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.tensor.Tensor;

import static dev.distillery.distill.train.ConfigMap.integer;
import static dev.distillery.distill.train.ConfigMap.longInt;
import static dev.distillery.distill.train.ConfigMap.real;
import dev.distillery.tensor.io.Json;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recorded degradation path P = [P_0 = teacher, P_1, ..., P_N] on disk (spec disback.md §2.5 Stage 1): one
 * directory holding {@code node-000.safetensors ... node-NNN.safetensors} (the score network's weights only, F32, as
 * state-dict keys) and {@code path.json}, which records the recording spec, the teacher's {@link WeightsDigest}, and
 * each completed node's file, size and weights digest. Nodes are read only when they become the target: no node is
 * held in memory by this class.
 *
 * <p>Every file is written atomically and {@code path.json} last, so an interrupted recording leaves a valid prefix
 * of the path that {@link DegradationRecorder} continues. A directory whose {@code path.json} names another spec or
 * teacher is never reused: the error names the field that differs.
 */
public final class DegradationPath {
    public static final String INDEX = "path.json", FORMAT = "distillery-degradation-path-1";

    /**
     * How the path is recorded.
     *
     * @param steps     K_deg, fine-tuning steps of the teacher's copy on the initial generator's samples
     * @param every     Delta_deg, steps between saved nodes (N = K_deg / Delta_deg)
     * @param batchSize samples per step
     * @param lr        Adam learning rate of the degrading copy
     * @param beta1     Adam beta1
     * @param beta2     Adam beta2
     * @param noise     noise levels of its DSM loss ({@link dev.distillery.distill.score.NoiseLevels#describe()} form)
     * @param sigmaInit sigma_init of the frozen initial generator G^0 = teacher(sigma_init z; sigma_init)
     * @param seed      seed of the latents, noise levels and noise
     */
    public record Spec(int steps, int every, int batchSize, double lr, double beta1, double beta2, String noise, double sigmaInit, long seed) {
        public Spec {
            if (steps < 0) throw new IllegalArgumentException("--degradation-steps must be >= 0, got " + steps);
            if (every < 1) throw new IllegalArgumentException("--degradation-every must be >= 1, got " + every);
            if (steps % every != 0) throw new IllegalArgumentException("--degradation-steps (" + steps + ") must be a multiple of --degradation-every (" + every + ")");
            if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
            if (!(lr >= 0)) throw new IllegalArgumentException("degradation lr must be >= 0, got " + lr);
        }

        /** N, the number of nodes after the teacher. */
        public int nodes() {
            return steps / every;
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("steps", steps);
            m.put("every", every);
            m.put("batch_size", batchSize);
            m.put("lr", lr);
            m.put("beta1", beta1);
            m.put("beta2", beta2);
            m.put("noise", noise);
            m.put("sigma_init", sigmaInit);
            m.put("seed", seed);
            return m;
        }
    }

    /** One saved node: its file name, size on disk and weights digest. */
    public record Node(int index, String file, long bytes, String digest) {}

    private final Path dir;
    private final Spec spec;
    private final String teacherDigest;
    private final List<Node> nodes;

    DegradationPath(Path dir, Spec spec, String teacherDigest, List<Node> nodes) {
        this.dir = dir;
        this.spec = spec;
        this.teacherDigest = teacherDigest;
        this.nodes = List.copyOf(nodes);
    }

    public Path dir() { return dir; }
    public Spec spec() { return spec; }
    public String teacherDigest() { return teacherDigest; }
    public List<Node> nodes() { return nodes; }

    /** N + 1 when complete. */
    public int size() {
        return nodes.size();
    }

    public boolean isComplete() {
        return nodes.size() == spec.nodes() + 1;
    }

    public static String nodeFileName(int j) {
        return String.format("node-%03d.safetensors", j);
    }

    /**
     * Loads node {@code j} into {@code net} (strictly) and checks that the loaded weights have the recorded digest.
     *
     * @return the digest of the loaded weights
     */
    public String loadInto(int j, EdmDenoiserNet net) throws IOException {
        if (j < 0 || j >= nodes.size()) throw new IllegalArgumentException("degradation path " + dir + ": no node " + j + " (it has " + nodes.size() + ")");
        Node node = nodes.get(j);
        Path f = dir.resolve(node.file());
        Map<String, Tensor> w = Safetensors.read(f);
        try {
            net.module().loadStateDict(w, true);
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
        String got = WeightsDigest.of(net.module());
        if (!got.equals(node.digest())) throw new IOException(f + ": weights digest " + got + " differs from the one recorded in " + dir.resolve(INDEX) + " (" + node.digest() + ")");
        return got;
    }

    /** Bytes on disk of one node (all nodes have the same size). */
    public long bytesPerNode() {
        return nodes.isEmpty() ? 0 : nodes.get(0).bytes();
    }

    // ------------------------------------------------------------------------------------------- index file

    /** Reads {@code dir/path.json}, or returns null when there is none. */
    static DegradationPath readIndex(Path dir) throws IOException {
        Path idx = dir.resolve(INDEX);
        if (!Files.isRegularFile(idx)) return null;
        Object root;
        try {
            root = Json.parse(Files.readAllBytes(idx));
        } catch (Json.ParseException e) {
            throw new IOException(idx + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) root;
            if (!FORMAT.equals(m.get("format"))) throw new IOException(idx + ": format is " + m.get("format") + ", expected " + FORMAT);
            @SuppressWarnings("unchecked") Map<String, Object> s = (Map<String, Object>) m.get("spec");
            Spec spec = new Spec(integer(s, "steps"), integer(s, "every"), integer(s, "batch_size"), real(s, "lr"), real(s, "beta1"),
                    real(s, "beta2"), (String) s.get("noise"), real(s, "sigma_init"), longInt(s, "seed"));
            List<Node> nodes = new ArrayList<>();
            @SuppressWarnings("unchecked") List<Object> list = (List<Object>) m.get("nodes");
            for (Object o : list) {
                @SuppressWarnings("unchecked") Map<String, Object> n = (Map<String, Object>) o;
                nodes.add(new Node(integer(n, "index"), (String) n.get("file"), longInt(n, "bytes"), (String) n.get("digest")));
            }
            for (int j = 0; j < nodes.size(); j++)
                if (nodes.get(j).index() != j) throw new IOException(idx + ": node " + j + " is listed as index " + nodes.get(j).index());
            return new DegradationPath(dir, spec, (String) m.get("teacher_digest"), nodes);
        } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
            throw new IOException(idx + ": malformed (" + e + ")", e);
        }
    }


    /** Writes {@code path.json} atomically and durably ({@link Fs#writeAtomically}). */
    void writeIndex() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("spec", spec.toMap());
        m.put("teacher_digest", teacherDigest);
        List<Object> list = new ArrayList<>();
        for (Node n : nodes) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("index", n.index());
            o.put("file", n.file());
            o.put("bytes", n.bytes());
            o.put("digest", n.digest());
            list.add(o);
        }
        m.put("nodes", list);
        Fs.writeAtomically(dir.resolve(INDEX), (JsonWriter.write(m) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Fails, naming the field, when this path was recorded with another spec or teacher. */
    void requireSame(Spec wanted, String wantedTeacher) throws IOException {
        Path idx = dir.resolve(INDEX);
        if (!teacherDigest.equals(wantedTeacher))
            throw new IOException(idx + ": recorded from another teacher (weights digest " + teacherDigest + ", this teacher " + wantedTeacher + "); use another --path-dir");
        Map<String, Object> a = spec.toMap(), b = wanted.toMap();
        for (String k : a.keySet())
            if (!String.valueOf(a.get(k)).equals(String.valueOf(b.get(k))))
                throw new IOException(idx + ": recorded with " + k + " = " + a.get(k) + ", this run asks for " + b.get(k) + "; use another --path-dir");
    }
}
