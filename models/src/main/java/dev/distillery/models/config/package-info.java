/**
 * Reading Hugging Face {@code config.json} files (diffusers model and scheduler configs, transformers configs):
 * {@link dev.distillery.models.config.ConfigJson} loads and parses the file, reads typed fields with errors that
 * name the key (and the file), and keeps the keys no field read as the config's extras.
 */
package dev.distillery.models.config;
