package dev.distillery.models.unet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One block's entry of {@code transformer_layers_per_block}: a number of transformer layers for every attention of
 * the block ({@code uniform}), or a list with one number per attention (asymmetric UNets, with
 * {@code reverse_transformer_layers_per_block} for the decoder).
 *
 * @param uniform  the depth of every attention, when {@code perLayer} is null
 * @param perLayer the depth of each attention, or null
 */
public record TransformerDepth(int uniform, List<Integer> perLayer) {
    public TransformerDepth {
        perLayer = perLayer == null ? null : Collections.unmodifiableList(new ArrayList<>(perLayer));
    }

    public static TransformerDepth of(int layers) {
        return new TransformerDepth(layers, null);
    }

    public static TransformerDepth perLayer(List<Integer> layers) {
        return new TransformerDepth(0, layers);
    }

    /** The depth of each of {@code numLayers} attentions. */
    public int[] forLayers(int numLayers, String where) {
        int[] out = new int[numLayers];
        for (int i = 0; i < numLayers; i++) {
            if (perLayer == null) out[i] = uniform;
            else if (i < perLayer.size()) out[i] = perLayer.get(i);
            else throw new IllegalArgumentException(where + ": transformer_layers_per_block " + perLayer + " has no entry for attention " + i);
        }
        return out;
    }

    @Override
    public String toString() {
        return perLayer == null ? Integer.toString(uniform) : perLayer.toString();
    }
}
