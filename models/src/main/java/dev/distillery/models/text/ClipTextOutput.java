package dev.distillery.models.text;

import dev.distillery.autograd.Variable;

import java.util.List;

/**
 * What a CLIP text encoder returns (transformers' {@code BaseModelOutputWithPooling} with
 * {@code output_hidden_states=True}, or {@code CLIPTextModelOutput}).
 *
 * @param lastHiddenState [B, L, D]: the last layer's output after {@code final_layer_norm} (SD 1.x's conditioning)
 * @param pooledOutput    [B, D]: {@code lastHiddenState} at each row's pooled position ({@code pooler_output})
 * @param hiddenStates    L+1 entries of [B, L, D]: the embeddings, then each layer's output, none of them
 *                        final-normed; {@code hiddenStates[-1]} is the last layer's output before the final norm
 * @param textEmbeds      [B, projection_dim]: {@code text_projection(pooledOutput)}, only from
 *                        {@link ClipTextModelWithProjection} (null otherwise)
 * @param poolPositions   the position pooled in each row (see {@link ClipTextTransformer#poolPositions})
 */
public record ClipTextOutput(Variable lastHiddenState, Variable pooledOutput, List<Variable> hiddenStates, Variable textEmbeds,
                             long[] poolPositions) {
    public ClipTextOutput {
        hiddenStates = List.copyOf(hiddenStates);
        poolPositions = poolPositions.clone();
    }

    @Override
    public long[] poolPositions() {
        return poolPositions.clone();
    }

    /** {@code hidden_states[i]} with Python's indexing: 0 is the embeddings, -1 the last layer's (un-normed) output. */
    public Variable hiddenState(int i) {
        int n = hiddenStates.size();
        int j = i < 0 ? i + n : i;
        if (j < 0 || j >= n) throw new IndexOutOfBoundsException("hidden state " + i + " of " + n);
        return hiddenStates.get(j);
    }

    /**
     * {@code hidden_states[-2]}: the output of the second-to-last layer, not final-normed. SDXL conditions its UNet
     * on this state of both its text encoders; SD 1.x's "clip skip 1" takes it and applies {@code final_layer_norm}
     * ({@link ClipTextTransformer#finalLayerNorm}), as diffusers' {@code encode_prompt(clip_skip=1)} does.
     */
    public Variable penultimateHiddenState() {
        return hiddenState(-2);
    }
}
