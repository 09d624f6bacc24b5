package dev.distillery.models.text;

import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * transformers' {@code CLIPTextModel}: a {@link ClipTextTransformer} under {@code text_model}, so its state-dict
 * names are the checkpoints' ({@code text_model.embeddings.token_embedding.weight},
 * {@code text_model.encoder.layers.N.self_attn.q_proj.weight}, ..., {@code text_model.final_layer_norm.bias}): SD 1.x
 * and 2.x {@code text_encoder}, SDXL {@code text_encoder}, openai/clip-* text towers.
 *
 * <pre>
 *   ClipTextModel clip = ClipTextModel.fromPretrained(Path.of("sd15/text_encoder"));
 *   ClipTextOutput out = clip.forward(ids);          // ids: I64 [B, 77]
 *   Variable cond = out.lastHiddenState();           // SD 1.x conditioning [B, 77, 768]
 *   Variable sdxl = out.penultimateHiddenState();    // SDXL's hidden_states[-2]
 * </pre>
 */
public final class ClipTextModel extends Module {
    public final ClipTextConfig config;
    public final ClipTextTransformer textModel;

    public ClipTextModel(ClipTextConfig config, Rng rng) {
        this.config = config;
        textModel = child("text_model", new ClipTextTransformer(config, rng));
    }

    /** See {@link ClipTextTransformer#forward}. */
    public ClipTextOutput forward(Tensor inputIds) {
        return textModel.forward(inputIds);
    }

    /**
     * Loads a checkpoint's tensors, first renaming them with {@link ClipTextTransformer#checkpointNames} (transformers
     * 5's unprefixed names, the obsolete {@code position_ids} buffer); with {@code strict} anything else that does not
     * match fails.
     */
    public LoadReport loadCheckpoint(Map<String, Tensor> state, boolean strict) {
        return loadStateDict(ClipTextTransformer.checkpointNames(state), strict);
    }

    /**
     * Builds the model from a transformers directory ({@code config.json} plus {@code model.safetensors} or a sharded
     * index) and loads its weights strictly.
     */
    public static ClipTextModel fromPretrained(Path dir) throws IOException {
        ClipTextModel m = new ClipTextModel(ClipTextConfig.load(dir.resolve("config.json")), new Rng(0));
        m.loadCheckpoint(Safetensors.read(dir), true);
        return m;
    }
}
