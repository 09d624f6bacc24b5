package dev.distillery.autograd.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Children named 0, 1, 2, ... (PyTorch's nn.ModuleList), e.g. {@code down_blocks.0}. */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> items = new ArrayList<>();

    public M add(M module) {
        child(Integer.toString(items.size()), module);
        items.add(module);
        return module;
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    @Override
    public Iterator<M> iterator() {
        return items.iterator();
    }
}
