/** The {@code distillery} command line (picocli): quickstart, train-teacher, sample. */
package dev.distillery.distill.cli;
