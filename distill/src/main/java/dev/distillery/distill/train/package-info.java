/**
 * Training runs: a {@link dev.distillery.distill.train.RunDir run directory} (config, metrics, samples, plots),
 * atomic resumable {@link dev.distillery.distill.train.Checkpoint checkpoints}, a terminal
 * {@link dev.distillery.distill.train.Progress progress bar} and the {@link dev.distillery.distill.train.NanGuard}
 * that stops a run whose loss is no longer finite.
 */
package dev.distillery.distill.train;
