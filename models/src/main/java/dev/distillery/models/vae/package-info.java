/**
 * diffusers' {@code AutoencoderKL}, the Stable Diffusion VAE, under diffusers' state-dict names:
 * {@link dev.distillery.models.vae.AutoencoderKLConfig} (a {@code vae/config.json}),
 * {@link dev.distillery.models.vae.AutoencoderKL} ({@code encode} to a
 * {@link dev.distillery.models.vae.DiagonalGaussian} posterior, {@code decode}, latent scaling by
 * {@code scaling_factor} / {@code shift_factor} / {@code latents_mean}, {@code latents_std}). Checked against diffusers'
 * key set for the SD 1.5 VAE and against diffusers' outputs and gradients on a tiny random-weight model
 * (test resources {@code vae/}, written by {@code gen_vae_reference.py}).
 */
package dev.distillery.models.vae;
