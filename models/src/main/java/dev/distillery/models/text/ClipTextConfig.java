package dev.distillery.models.text;

import dev.distillery.models.config.ConfigJson;
import dev.distillery.tensor.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The fields of a transformers {@code CLIPTextConfig} ({@code config.json} of a CLIP text encoder, or the
 * {@code text_config} object of a full CLIP config) that {@link ClipTextModel} uses, with transformers' defaults.
 * Keys this record does not model ({@code architectures}, {@code initializer_range}, {@code dropout}, ...) are kept,
 * as parsed JSON values, in {@link #extras()}.
 *
 * @param vocabSize             {@code vocab_size} (49408)
 * @param hiddenSize            {@code hidden_size} (512)
 * @param intermediateSize      {@code intermediate_size} (2048)
 * @param numHiddenLayers       {@code num_hidden_layers} (12)
 * @param numAttentionHeads     {@code num_attention_heads} (8); must divide hidden_size
 * @param maxPositionEmbeddings {@code max_position_embeddings} (77): the longest token sequence
 * @param hiddenAct             {@code hidden_act} ("quick_gelu"); see {@link ClipTextActivation}
 * @param layerNormEps          {@code layer_norm_eps} (1e-5)
 * @param projectionDim         {@code projection_dim} (512): width of {@code text_projection} (with-projection model)
 * @param bosTokenId            {@code bos_token_id} (49406)
 * @param eosTokenId            {@code eos_token_id} (49407); 2 selects transformers' legacy pooling, see
 *                              {@link #legacyPooling()}
 * @param padTokenId            {@code pad_token_id} (1)
 * @param extras                every other key, in file order, as {@link Json} values
 */
public record ClipTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int maxPositionEmbeddings,
        String hiddenAct,
        double layerNormEps,
        int projectionDim,
        int bosTokenId,
        int eosTokenId,
        int padTokenId,
        Map<String, Object> extras) {

    public ClipTextConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        if (numHiddenLayers < 0) throw new IllegalArgumentException("num_hidden_layers must be >= 0, got " + numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("projection_dim", projectionDim);
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads);
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        ClipTextActivation.fromConfig(Objects.requireNonNull(hiddenAct, "hidden_act"));
        extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    private static void positive(String k, int v) {
        if (v < 1) throw new IllegalArgumentException(k + " must be >= 1, got " + v);
    }

    /** Width of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    public ClipTextActivation activation() {
        return ClipTextActivation.fromConfig(hiddenAct);
    }

    /**
     * True when {@code eos_token_id == 2}: configs written before transformers PR #24773 (the original OpenAI CLIP
     * configs, SD 1.x/2.x text encoders) carry that wrong id, and transformers then pools at the position of the
     * largest id of each row (CLIP's EOS, 49407, is the largest id of its vocabulary). Otherwise it pools at the
     * first position holding {@code eos_token_id}.
     */
    public boolean legacyPooling() {
        return eosTokenId == 2;
    }

    /** transformers' {@code CLIPTextConfig()} defaults (the text half of openai/clip-vit-base-patch32). */
    public static ClipTextConfig defaults() {
        return new ClipTextConfig(49408, 512, 2048, 12, 8, 77, "quick_gelu", 1e-5, 512, 49406, 49407, 1, Map.of());
    }

    /**
     * The text encoder of openai/clip-vit-large-patch14, as Stable Diffusion 1.x ships it
     * ({@code text_encoder/config.json}): width 768, 12 layers, 12 heads, MLP 3072, quick_gelu, 123M parameters.
     * Its ids are the pre-#24773 ones (bos 0, eos 2, pad 1), so pooling is by argmax.
     */
    public static ClipTextConfig clipVitLargePatch14() {
        return new ClipTextConfig(49408, 768, 3072, 12, 12, 77, "quick_gelu", 1e-5, 768, 0, 2, 1, Map.of());
    }

    /**
     * The small text encoder this project trains from scratch: CLIP's tokenizer and vocabulary (49408 ids, 77
     * tokens), width 256, 4 layers of 4 heads, MLP 1024, exact GELU, projection 256, and the real special ids
     * (bos 49406, eos 49407 = pad, as Stable Diffusion's tokenizer pads), so pooling is at the first EOS.
     * About 16M parameters, 12.6M of them the token table.
     */
    public static ClipTextConfig small() {
        return new ClipTextConfig(49408, 256, 1024, 4, 4, 77, "gelu", 1e-5, 256, 49406, 49407, 49407, Map.of());
    }

    // ------------------------------------------------------------------------------------------ withers

    public ClipTextConfig withHiddenAct(String act) {
        return new ClipTextConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, maxPositionEmbeddings, act,
                layerNormEps, projectionDim, bosTokenId, eosTokenId, padTokenId, extras);
    }

    public ClipTextConfig withNumHiddenLayers(int n) {
        return new ClipTextConfig(vocabSize, hiddenSize, intermediateSize, n, numAttentionHeads, maxPositionEmbeddings, hiddenAct,
                layerNormEps, projectionDim, bosTokenId, eosTokenId, padTokenId, extras);
    }

    public ClipTextConfig withTokenIds(int bos, int eos, int pad) {
        return new ClipTextConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, maxPositionEmbeddings, hiddenAct,
                layerNormEps, projectionDim, bos, eos, pad, extras);
    }

    // ------------------------------------------------------------------------------------------ JSON

    /** Reads a transformers {@code config.json} (a CLIPTextConfig, or a CLIPConfig whose {@code text_config} is used). */
    public static ClipTextConfig load(Path file) throws IOException {
        return ConfigJson.load(file, ClipTextConfig::fromJson);
    }

    /** Parses the text of a {@code config.json}. */
    public static ClipTextConfig parse(String json) {
        return ConfigJson.parse(json, "CLIP text config", ClipTextConfig::fromJson);
    }

    /**
     * Builds a config from a parsed JSON object; absent keys (and JSON null) take transformers' defaults. A full
     * CLIP config ({@code model_type "clip"}, with a {@code text_config} object) is read through its
     * {@code text_config}, as transformers' {@code CLIPTextConfig.from_pretrained} does.
     */
    public static ClipTextConfig fromJson(Object root) {
        if (root instanceof Map<?, ?> map && map.get("text_config") instanceof Map<?, ?> text && "clip".equals(map.get("model_type")))
            return fromJson(text);
        ConfigJson r = new ConfigJson(root, "CLIP text config", ConfigJson.Nulls.DEFAULT);
        ClipTextConfig d = defaults();
        return new ClipTextConfig(
                r.integer("vocab_size", d.vocabSize),
                r.integer("hidden_size", d.hiddenSize),
                r.integer("intermediate_size", d.intermediateSize),
                r.integer("num_hidden_layers", d.numHiddenLayers),
                r.integer("num_attention_heads", d.numAttentionHeads),
                r.integer("max_position_embeddings", d.maxPositionEmbeddings),
                r.string("hidden_act", d.hiddenAct),
                r.number("layer_norm_eps", d.layerNormEps),
                r.integer("projection_dim", d.projectionDim),
                r.integer("bos_token_id", d.bosTokenId),
                r.integer("eos_token_id", d.eosTokenId),
                r.integer("pad_token_id", d.padTokenId),
                r.extras());
    }

    /** The config as transformers' {@code config.json} keys (modelled fields, then the extras). */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("intermediate_size", intermediateSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("hidden_act", hiddenAct);
        m.put("layer_norm_eps", layerNormEps);
        m.put("projection_dim", projectionDim);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
        m.put("pad_token_id", padTokenId);
        extras.forEach(m::putIfAbsent);
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (var e : m.entrySet()) {
            sb.append("  ");
            Json.writeString(sb, e.getKey());
            sb.append(": ").append(jsonValue(e.getValue())).append(++i < m.size() ? ",\n" : "\n");
        }
        return sb.append("}\n").toString();
    }

    static String jsonValue(Object v) {
        if (v == Json.NULL || v == null) return "null";
        if (v instanceof String s) {
            StringBuilder sb = new StringBuilder();
            Json.writeString(sb, s);
            return sb.toString();
        }
        if (v instanceof Json.Num n) return n.text();
        if (v instanceof Number || v instanceof Boolean) return v.toString();
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(jsonValue(l.get(i)));
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            int i = 0;
            for (var e : m.entrySet()) sb.append(i++ > 0 ? ", " : "").append(jsonValue(e.getKey())).append(": ").append(jsonValue(e.getValue()));
            return sb.append('}').toString();
        }
        throw new IllegalArgumentException("not a JSON value: " + v.getClass());
    }

    @Override
    public String toString() {
        return "ClipTextConfig[width " + hiddenSize + ", " + numHiddenLayers + " layers x " + numAttentionHeads + " heads, mlp " + intermediateSize
                + ", " + hiddenAct + ", vocab " + vocabSize + ", " + maxPositionEmbeddings + " positions, projection " + projectionDim
                + ", bos/eos/pad " + bosTokenId + "/" + eosTokenId + "/" + padTokenId + (legacyPooling() ? " (argmax pooling)" : "") + "]";
    }
}
