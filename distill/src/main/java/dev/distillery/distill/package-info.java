/**
 * Distillation and post-training methods, data, metrics, runs and the CLI (issues: training pipeline, DisBack, ...).
 * Empty until those issues land.
 */
package dev.distillery.distill;
