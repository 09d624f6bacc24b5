/** EDM teachers for the 2-D toy data sets: the MLP denoiser, its configuration and the training loop. */
package dev.distillery.distill.teacher;
