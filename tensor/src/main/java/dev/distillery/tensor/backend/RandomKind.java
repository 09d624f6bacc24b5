package dev.distillery.tensor.backend;

/** Distributions {@link Backend#fillRandom} draws from: UNIFORM on [a, b), NORMAL with mean a and std b. */
public enum RandomKind {
    UNIFORM, NORMAL
}
