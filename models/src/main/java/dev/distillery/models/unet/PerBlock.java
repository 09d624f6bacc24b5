package dev.distillery.models.unet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A config value that diffusers accepts either as one value for every block or as a list with one value per
 * down block ({@code attention_head_dim}, {@code cross_attention_dim}, {@code layers_per_block},
 * {@code only_cross_attention}, {@code transformer_layers_per_block}, ...). Kept as written, so a config
 * round-trips and a list of the wrong length is reported where diffusers reports it (when the model is built).
 *
 * @param scalar true when the JSON held a single value (then {@code values} has exactly that one element)
 * @param values the value(s) as written
 */
public record PerBlock<T>(boolean scalar, List<T> values) {
    public PerBlock {
        values = Collections.unmodifiableList(new ArrayList<>(values));
        if (scalar && values.size() != 1) throw new IllegalArgumentException("a scalar PerBlock holds exactly one value, got " + values.size());
        for (T v : values) Objects.requireNonNull(v, "PerBlock values must not be null");
    }

    /** One value for every block. */
    public static <T> PerBlock<T> of(T value) {
        return new PerBlock<>(true, List.of(value));
    }

    /** One value per block. */
    public static <T> PerBlock<T> list(List<T> values) {
        return new PerBlock<>(false, values);
    }

    /** The values for {@code blocks} blocks: the scalar repeated, or the list if it has exactly that length. */
    public List<T> expand(int blocks, String field) {
        if (scalar) return Collections.nCopies(blocks, values.get(0));
        if (values.size() != blocks)
            throw new IllegalArgumentException("Must provide the same number of `" + field + "` as `down_block_types`: " + values.size() + " values for "
                    + blocks + " blocks");
        return values;
    }

    @Override
    public String toString() {
        return scalar ? String.valueOf(values.get(0)) : values.toString();
    }
}
