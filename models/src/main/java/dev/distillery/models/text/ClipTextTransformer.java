package dev.distillery.models.text;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Embedding;
import dev.distillery.autograd.nn.LayerNorm;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CLIP text transformer that checkpoints store under {@code text_model.} (transformers' {@code CLIPTextTransformer}
 * up to 4.x, the body of its {@code CLIPTextModel} in 5.x): token + position embeddings, pre-LN encoder layers with
 * causal self-attention, a final layer norm, and pooling at the EOS token. Parameter names below it are transformers':
 * {@code embeddings.token_embedding}, {@code embeddings.position_embedding},
 * {@code encoder.layers.N.self_attn.{k,v,q,out}_proj}, {@code layer_norm1}, {@code mlp.fc1}, {@code mlp.fc2},
 * {@code layer_norm2}, {@code final_layer_norm}, registered in transformers' order.
 *
 * <p>Weights start as transformers' {@code CLIPPreTrainedModel._init_weights} sets them (embeddings N(0, 0.02);
 * attention in/out projections N(0, d^-1/2 (2L)^-1/2) and N(0, d^-1/2); fc1 N(0, (2d)^-1/2), fc2
 * N(0, d^-1/2 (2L)^-1/2); biases 0; layer norms 1 and 0), so a model trained from scratch starts like its PyTorch twin.
 */
public final class ClipTextTransformer extends Module {
    public final ClipTextConfig config;
    public final Embeddings embeddings;
    public final Encoder encoder;
    public final LayerNorm finalLayerNorm;

    public ClipTextTransformer(ClipTextConfig config, Rng rng) {
        this.config = config;
        embeddings = child("embeddings", new Embeddings(config, rng));
        encoder = child("encoder", new Encoder(config, rng));
        finalLayerNorm = child("final_layer_norm", new LayerNorm(config.hiddenSize(), config.layerNormEps(), true));
    }

    /**
     * Runs the encoder on token ids [B, L] (or [L], taken as one row) of type I64, L at most
     * {@code max_position_embeddings}. The result holds every hidden state, the final-normed last one and the
     * pooled EOS features; see {@link ClipTextOutput}.
     */
    public ClipTextOutput forward(Tensor inputIds) {
        Tensor ids = checkIds(inputIds);
        Variable h = embeddings.forward(ids);
        List<Variable> hidden = new ArrayList<>(encoder.layers.size() + 1);
        hidden.add(h);
        for (EncoderLayer layer : encoder.layers) {
            h = layer.forward(h);
            hidden.add(h);
        }
        Variable last = finalLayerNorm.forward(h);
        long[] positions = poolPositions(ids, config);
        return new ClipTextOutput(last, pool(last, positions), hidden, null, positions);
    }

    private Tensor checkIds(Tensor inputIds) {
        if (inputIds.dtype() != DType.I64) throw new IllegalArgumentException("CLIP text model: input ids must be I64, got " + inputIds.dtype());
        Tensor ids = inputIds.dim() == 1 ? inputIds.unsqueeze(0) : inputIds;
        if (ids.dim() != 2 || ids.size(1) == 0)
            throw new IllegalArgumentException("CLIP text model: input ids must be [batch, length] with length >= 1, got " + Shapes.str(inputIds.shape()));
        if (ids.size(1) > config.maxPositionEmbeddings())
            throw new IllegalArgumentException("CLIP text model: sequence length " + ids.size(1) + " exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        for (long id : ids.toLongArray())
            if (id < 0 || id >= config.vocabSize())
                throw new IllegalArgumentException("CLIP text model: token id " + id + " outside the vocabulary [0, " + config.vocabSize() + ")");
        return ids.contiguous();
    }

    /**
     * The position pooled in each row, as transformers' {@code CLIPTextModel.forward} picks it: with the legacy
     * {@code eos_token_id == 2} ({@link ClipTextConfig#legacyPooling()}) the first position of the row's largest id;
     * otherwise the first position holding {@code eos_token_id}, or 0 if the row has none (argmax of all zeros).
     */
    public static long[] poolPositions(Tensor ids, ClipTextConfig config) {
        int b = ids.size(0), l = ids.size(1);
        long[] flat = ids.contiguous().toLongArray();
        long[] pos = new long[b];
        for (int r = 0; r < b; r++) {
            int best = 0;
            if (config.legacyPooling()) {
                for (int i = 1; i < l; i++) if (flat[r * l + i] > flat[r * l + best]) best = i;
            } else {
                for (int i = 0; i < l; i++)
                    if (flat[r * l + i] == config.eosTokenId()) {
                        best = i;
                        break;
                    }
            }
            pos[r] = best;
        }
        return pos;
    }

    /** Rows {@code positions[b]} of {@code x} [B, L, D]: [B, D]. */
    static Variable pool(Variable x, long[] positions) {
        int b = x.size(0), l = x.size(1), d = x.size(2);
        long[] rows = new long[b];
        for (int i = 0; i < b; i++) rows[i] = (long) i * l + positions[i];
        return x.reshape(b * l, d).indexSelect(0, Tensor.ofLongs(rows, b).to(x.device()));
    }

    /**
     * A checkpoint's tensors under the names this module tree uses: keys saved by transformers 5 (no
     * {@code text_model.} prefix: {@code embeddings.*}, {@code encoder.*}, {@code final_layer_norm.*}) get the prefix,
     * and the {@code embeddings.position_ids} buffer that transformers before 4.31 saved (0..L-1, recomputed here) is
     * dropped, as transformers drops it. Other keys pass through unchanged.
     */
    public static Map<String, Tensor> checkpointNames(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : state.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("embeddings.") || k.startsWith("encoder.") || k.startsWith("final_layer_norm.")) k = PREFIX + k;
            if (k.equals(PREFIX + "embeddings.position_ids")) continue;
            out.put(k, e.getValue());
        }
        return out;
    }

    static final String PREFIX = "text_model.";

    /**
     * Overwrites a parameter with N(0, std), as transformers' init does; shape-only placeholders (device
     * {@code meta}, built under autograd's shape-only construction) have no values and are left alone.
     */
    static void normal(Parameter p, double std, Rng rng) {
        if (!isPlaceholder(p)) p.value().copyFrom(Tensor.normal(rng, 0, std, DType.F32, p.shape()));
    }

    static void zero(Parameter p) {
        if (p != null && !isPlaceholder(p)) p.value().copyFrom(Tensor.zeros(DType.F32, p.device(), p.shape()));
    }

    private static boolean isPlaceholder(Parameter p) {
        return p.value().device().kind().equals("meta");
    }

    // ------------------------------------------------------------------------------------------ parts

    /** {@code token_embedding(ids) + position_embedding(0..L-1)}. */
    public static final class Embeddings extends Module {
        public final Embedding tokenEmbedding, positionEmbedding;

        Embeddings(ClipTextConfig c, Rng rng) {
            tokenEmbedding = child("token_embedding", new Embedding(c.vocabSize(), c.hiddenSize(), rng));
            positionEmbedding = child("position_embedding", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize(), rng));
            normal(tokenEmbedding.weight, 0.02, rng);
            normal(positionEmbedding.weight, 0.02, rng);
        }

        public Variable forward(Tensor ids) {
            int l = ids.size(1);
            return tokenEmbedding.forward(ids).add(positionEmbedding.weight.narrow(0, 0, l));
        }
    }

    /** {@code layers}: the encoder layers. */
    public static final class Encoder extends Module {
        public final ModuleList<EncoderLayer> layers;

        Encoder(ClipTextConfig c, Rng rng) {
            layers = child("layers", new ModuleList<>());
            for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(new EncoderLayer(c, rng));
        }
    }

    /** Pre-LN block: {@code x += self_attn(layer_norm1(x)); x += mlp(layer_norm2(x))}. */
    public static final class EncoderLayer extends Module {
        public final SelfAttention selfAttn;
        public final LayerNorm layerNorm1, layerNorm2;
        public final Mlp mlp;

        EncoderLayer(ClipTextConfig c, Rng rng) {
            selfAttn = child("self_attn", new SelfAttention(c, rng));
            layerNorm1 = child("layer_norm1", new LayerNorm(c.hiddenSize(), c.layerNormEps(), true));
            mlp = child("mlp", new Mlp(c, rng));
            layerNorm2 = child("layer_norm2", new LayerNorm(c.hiddenSize(), c.layerNormEps(), true));
        }

        public Variable forward(Variable x) {
            Variable h = x.add(selfAttn.forward(layerNorm1.forward(x)));
            return h.add(mlp.forward(layerNorm2.forward(h)));
        }
    }

    /** Causal multi-head self-attention with transformers' {@code k_proj, v_proj, q_proj, out_proj}. */
    public static final class SelfAttention extends Module {
        public final Linear kProj, vProj, qProj, outProj;
        public final int heads, headDim;

        SelfAttention(ClipTextConfig c, Rng rng) {
            int d = c.hiddenSize();
            heads = c.numAttentionHeads();
            headDim = c.headDim();
            kProj = child("k_proj", new Linear(d, d, true, rng));
            vProj = child("v_proj", new Linear(d, d, true, rng));
            qProj = child("q_proj", new Linear(d, d, true, rng));
            outProj = child("out_proj", new Linear(d, d, true, rng));
            double inStd = Math.pow(d, -0.5) * Math.pow(2.0 * Math.max(1, c.numHiddenLayers()), -0.5), outStd = Math.pow(d, -0.5);
            for (Linear p : List.of(qProj, kProj, vProj)) {
                normal(p.weight, inStd, rng);
                zero(p.bias);
            }
            normal(outProj.weight, outStd, rng);
            zero(outProj.bias);
        }

        public Variable forward(Variable x) {
            int b = x.size(0), l = x.size(1);
            Variable q = split(qProj.forward(x), b, l), k = split(kProj.forward(x), b, l), v = split(vProj.forward(x), b, l);
            Variable o = Variable.attention(q, k, v, true, Math.pow(headDim, -0.5));
            return outProj.forward(o.permute(0, 2, 1, 3).reshape(b, l, heads * headDim));
        }

        private Variable split(Variable t, int b, int l) {
            return t.reshape(b, l, heads, headDim).permute(0, 2, 1, 3);
        }
    }

    /** {@code fc2(act(fc1(x)))} with the config's {@code hidden_act}. */
    public static final class Mlp extends Module {
        public final Linear fc1, fc2;
        public final ClipTextActivation activation;

        Mlp(ClipTextConfig c, Rng rng) {
            activation = c.activation();
            fc1 = child("fc1", new Linear(c.hiddenSize(), c.intermediateSize(), true, rng));
            fc2 = child("fc2", new Linear(c.intermediateSize(), c.hiddenSize(), true, rng));
            normal(fc1.weight, Math.pow(2.0 * c.hiddenSize(), -0.5), rng);
            normal(fc2.weight, Math.pow(c.hiddenSize(), -0.5) * Math.pow(2.0 * Math.max(1, c.numHiddenLayers()), -0.5), rng);
            zero(fc1.bias);
            zero(fc2.bias);
        }

        public Variable forward(Variable x) {
            return fc2.forward(activation.apply(fc1.forward(x)));
        }
    }
}
