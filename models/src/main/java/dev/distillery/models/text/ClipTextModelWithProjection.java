package dev.distillery.models.text;

import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * transformers' {@code CLIPTextModelWithProjection}: {@code text_model} ({@link ClipTextTransformer}) and a bias-free
 * {@code text_projection} [projection_dim, hidden_size] applied to the pooled output. SDXL's second text encoder
 * ({@code text_encoder_2}, OpenCLIP ViT-bigG) is one: its UNet takes {@code hidden_states[-2]} and the projected
 * {@link ClipTextOutput#textEmbeds()}.
 */
public final class ClipTextModelWithProjection extends Module {
    public final ClipTextConfig config;
    public final ClipTextTransformer textModel;
    public final Linear textProjection;

    public ClipTextModelWithProjection(ClipTextConfig config, Rng rng) {
        this.config = config;
        textModel = child("text_model", new ClipTextTransformer(config, rng));
        textProjection = child("text_projection", new Linear(config.hiddenSize(), config.projectionDim(), false, rng));
        ClipTextTransformer.normal(textProjection.weight, Math.pow(config.hiddenSize(), -0.5), rng);
    }

    /** {@link ClipTextTransformer#forward} plus {@code text_embeds = text_projection(pooled)}. */
    public ClipTextOutput forward(Tensor inputIds) {
        ClipTextOutput o = textModel.forward(inputIds);
        return new ClipTextOutput(o.lastHiddenState(), o.pooledOutput(), o.hiddenStates(), textProjection.forward(o.pooledOutput()), o.poolPositions());
    }

    /** As {@link ClipTextModel#loadCheckpoint}. */
    public LoadReport loadCheckpoint(Map<String, Tensor> state, boolean strict) {
        return loadStateDict(ClipTextTransformer.checkpointNames(state), strict);
    }

    /** Builds the model from a transformers directory ({@code config.json}, {@code model.safetensors}) and loads it strictly. */
    public static ClipTextModelWithProjection fromPretrained(Path dir) throws IOException {
        ClipTextModelWithProjection m = new ClipTextModelWithProjection(ClipTextConfig.load(dir.resolve("config.json")), new Rng(0));
        m.loadCheckpoint(Safetensors.read(dir), true);
        return m;
    }
}
