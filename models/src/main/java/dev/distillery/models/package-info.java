/**
 * UNets, text encoder, VAE, schedules and samplers with diffusers-compatible names (issue: models).
 * Empty until that issue lands.
 */
package dev.distillery.models;
