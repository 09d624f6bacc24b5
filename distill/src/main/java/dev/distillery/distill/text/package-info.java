/**
 * Text-conditional teachers: prompt embeddings as conditioning ({@link dev.distillery.distill.text.PromptConditions}),
 * a diffusers-layout pipeline folder as a teacher ({@link dev.distillery.distill.text.DiffusersTextTeacher}) and the
 * evaluation of one-step generators against the teacher's guided multi-step samples
 * ({@link dev.distillery.distill.text.TextEvaluator}).
 */
package dev.distillery.distill.text;
