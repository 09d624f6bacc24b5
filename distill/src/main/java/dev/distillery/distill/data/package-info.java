/**
 * Training data: readers for MNIST / Fashion-MNIST (IDX), scikit-learn's 8x8 digits CSV and image folders, 2-D toy
 * distributions with an exact Gaussian-mixture teacher, the {@link dev.distillery.distill.data.Dataset} interface and a
 * deterministic, resumable {@link dev.distillery.distill.data.DataLoader}.
 *
 * <p>All images come out as F32 tensors {@code [C, H, W]} scaled to [-1, 1].
 */
package dev.distillery.distill.data;
