/**
 * EDM teachers: the one training loop ({@link dev.distillery.distill.teacher.EdmTeacherLoop}) and its two front ends,
 * {@link dev.distillery.distill.teacher.TeacherTrainer} (2-D toys, MLP) and
 * {@link dev.distillery.distill.teacher.ImageTeacherTrainer} (8x8 digits with an MLP, 32x32 (Fashion-)MNIST with a
 * class-conditional UNet), with their configurations.
 */
package dev.distillery.distill.teacher;
