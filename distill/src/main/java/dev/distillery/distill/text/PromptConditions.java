package dev.distillery.distill.text;

import dev.distillery.autograd.NoGrad;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.distill.score.Conditioning;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.models.text.ClipTextModel;
import dev.distillery.models.text.ClipTokenizer;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prompt conditioning of a text-conditional teacher (Stable Diffusion's): every prompt is encoded once, under
 * {@link NoGrad}, by the CLIP tokenizer and text encoder, and its {@code last_hidden_state} [L, D] is the conditioning.
 * Held on the host:
 * <ul>
 *   <li>the training prompts' embeddings [P, L, D]; a batch of n draws prompt indices uniformly from the sampler's
 *       stream ({@code Tensor.randint(rng, 0, P, n)}, like class labels) and gathers their rows;</li>
 *   <li>the empty prompt's ("") embedding [1, L, D], the unconditional branch of classifier-free guidance on the
 *       target, {@code D_u + w (D_c - D_u)} with {@code D_u = D(x; sigma, e(""))};</li>
 *   <li>the evaluation prompts' embeddings [E, L, D]; evaluation sample i gets prompt {@code i mod E}.</li>
 * </ul>
 * Token sequences are padded/truncated to the tokenizer's max length, capped at the encoder's
 * {@code max_position_embeddings}.
 */
public final class PromptConditions implements Conditioning {
    private final List<String> prompts, evalPrompts;
    private final Tensor embeddings, empty, evalEmbeddings;
    private final String key;

    private PromptConditions(List<String> prompts, List<String> evalPrompts, Tensor embeddings, Tensor empty, Tensor evalEmbeddings) {
        this.prompts = List.copyOf(prompts);
        this.evalPrompts = List.copyOf(evalPrompts);
        this.embeddings = embeddings;
        this.empty = empty;
        this.evalEmbeddings = evalEmbeddings;
        Map<String, Tensor> all = new LinkedHashMap<>();
        all.put("prompts", embeddings);
        all.put("empty", empty);
        this.key = WeightsDigest.of(all).substring(0, 8); // embeddings, so the encoder's weights count as well as the text
    }

    /**
     * Encodes {@code prompts} (training) and {@code evalPrompts} (evaluation; may be the same list) and the empty prompt.
     *
     * @throws IllegalArgumentException when either list is empty or a prompt is null
     */
    public static PromptConditions encode(ClipTokenizer tokenizer, ClipTextModel encoder, List<String> prompts, List<String> evalPrompts) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("--prompts: no prompts to distil on");
        if (evalPrompts.isEmpty()) throw new IllegalArgumentException("no evaluation prompts");
        int maxPositions = encoder.config.maxPositionEmbeddings();
        ClipTokenizer tok = tokenizer.maxLength() > maxPositions ? tokenizer.withMaxLength(maxPositions) : tokenizer;
        return new PromptConditions(prompts, evalPrompts, embed(tok, encoder, prompts), embed(tok, encoder, List.of("")), embed(tok, encoder, evalPrompts));
    }

    /** last_hidden_state [N, L, D] of the prompts, on the host. */
    static Tensor embed(ClipTokenizer tokenizer, ClipTextModel encoder, List<String> texts) {
        for (int i = 0; i < texts.size(); i++)
            if (texts.get(i) == null) throw new IllegalArgumentException("prompt " + i + " is null");
        int[][] ids = tokenizer.encodeBatch(texts);
        int n = ids.length, l = ids[0].length;
        long[] flat = new long[n * l];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < l; j++) flat[i * l + j] = ids[i][j];
        Device where = encoder.namedParameters().values().iterator().next().device();
        try (var g = NoGrad.enter()) {
            return encoder.forward(Tensor.ofLongs(flat, n, l).to(where)).lastHiddenState().value().to(Device.CPU).contiguous();
        }
    }

    public List<String> prompts() {
        return prompts;
    }

    public List<String> evalPrompts() {
        return evalPrompts;
    }

    /** The training prompts' embeddings [P, L, D] (host). */
    public Tensor embeddings() {
        return embeddings;
    }

    /** The empty prompt's embedding [1, L, D] (host). */
    public Tensor emptyEmbedding() {
        return empty;
    }

    /** The evaluation prompts' embeddings [E, L, D] (host). */
    public Tensor evalEmbeddings() {
        return evalEmbeddings;
    }

    /** Rows {@code index} [n] (I64) of the training embeddings: [n, L, D]. */
    public Tensor rows(Tensor index) {
        return embeddings.indexSelect(0, index);
    }

    @Override
    public ScoreDistiller.ConditionSampler sampler() {
        int p = prompts.size();
        return (rng, n) -> rows(Tensor.randint(rng, 0, p, n));
    }

    /** The empty prompt's embedding for every row of {@code cond} [B, L, D], on cond's device. */
    public Tensor unconditional(Tensor cond) {
        return empty.expand(cond.size(0), empty.size(1), empty.size(2)).contiguous().to(cond.device());
    }

    @Override
    public TargetScore.Guidance guidance(double w) {
        return w == 1 ? null : new TargetScore.Guidance(w, this::unconditional);
    }

    /** Evaluation sample i gets evaluation prompt {@code i mod E}: [n, L, D] (host). */
    @Override
    public Tensor evaluation(int n) {
        long[] idx = new long[n];
        for (int i = 0; i < n; i++) idx[i] = i % evalPrompts.size();
        return evalEmbeddings.indexSelect(0, Tensor.ofLongs(idx, n));
    }

    @Override
    public String key() {
        return key;
    }

    /** Reads one prompt per line; blank lines and lines starting with '#' are skipped. Errors name the file. */
    public static List<String> readPromptFile(java.nio.file.Path file) throws java.io.IOException {
        if (!java.nio.file.Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString(), null, "--prompts: no such file");
        List<String> out = new ArrayList<>();
        for (String line : java.nio.file.Files.readAllLines(file, java.nio.charset.StandardCharsets.UTF_8)) {
            String t = line.strip();
            if (!t.isEmpty() && !t.startsWith("#")) out.add(t);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--prompts " + file + ": no prompts (one per line)");
        return out;
    }
}
