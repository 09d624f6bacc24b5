package dev.distillery.distill.data;

/** A random-access collection of {@link Sample}s; {@link DataLoader} shuffles and batches it. */
public interface Dataset {
    /** Number of items. */
    int size();

    /** Item {@code i} in [0, size()). Every item of a dataset has the same image shape. */
    Sample get(int i);
}
