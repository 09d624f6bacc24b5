package dev.distillery.tensor.backend;

/** Padding modes as in {@code torch.nn.functional.pad}. */
public enum PadMode {
    CONSTANT, REFLECT, REPLICATE
}
