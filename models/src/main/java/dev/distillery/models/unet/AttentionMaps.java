package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Attention;
import dev.distillery.autograd.nn.Module;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Finds the attentions of a module tree by their dotted state-dict path and switches the keeping of their
 * probabilities (SFERD's attention guidance reads them). A path names the module that owns the projections:
 * {@code down_blocks.1.attentions.0.transformer_blocks.0.attn2} (cross-attention of a transformer block) or
 * {@code mid_block.attentions.0} (a UNet2DModel {@link AttentionBlock}, whose projections sit at its own level).
 * Kept maps are graph values: gradients flow through them into the UNet's parameters and inputs.
 */
public final class AttentionMaps {
    private AttentionMaps() {}

    /** Every attention below {@code root} by path, in state-dict order. */
    public static Map<String, Attention> find(Module root) {
        Map<String, Attention> out = new LinkedHashMap<>();
        walk("", root, out);
        return out;
    }

    private static void walk(String path, Module m, Map<String, Attention> out) {
        if (m instanceof Attention a) out.put(path, a);
        else if (m instanceof AttentionBlock b) out.put(path, b.attention);
        for (var e : m.children().entrySet()) walk(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out);
    }

    /** Keeps maps on the attentions whose path matches {@code which}; stops (and forgets) on all others. */
    public static void keep(Module root, Predicate<String> which) {
        find(root).forEach((path, a) -> a.keepAttentionMaps(which.test(path)));
    }

    /** Keeps maps on exactly the named attentions; an unknown name is an error listing the known ones. */
    public static void keep(Module root, Collection<String> names) {
        Map<String, Attention> all = find(root);
        Set<String> unknown = new LinkedHashSet<>(names);
        unknown.removeAll(all.keySet());
        if (!unknown.isEmpty()) throw new IllegalArgumentException("no attention named " + unknown + "; attentions are " + all.keySet());
        Set<String> wanted = Set.copyOf(names);
        all.forEach((path, a) -> a.keepAttentionMaps(wanted.contains(path)));
    }

    /** The kept probabilities [B, heads, Lq, Lk] of the last forward, by path (attentions not keeping are absent). */
    public static Map<String, Variable> maps(Module root) {
        Map<String, Variable> out = new LinkedHashMap<>();
        find(root).forEach((path, a) -> {
            Variable p = a.lastAttentionMap();
            if (p != null) out.put(path, p);
        });
        return out;
    }
}
