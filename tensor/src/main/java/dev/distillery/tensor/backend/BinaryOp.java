package dev.distillery.tensor.backend;

/** Elementwise ops of two inputs of the same shape (broadcasting is resolved into stride-0 views first). */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM
}
