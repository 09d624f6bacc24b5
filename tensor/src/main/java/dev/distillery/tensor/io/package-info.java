/**
 * Safetensors checkpoints: {@link dev.distillery.tensor.io.Safetensors} opens single files and sharded
 * ({@code *.safetensors.index.json}) checkpoints as a {@link dev.distillery.tensor.io.SafetensorsReader}
 * (memory-mapped, header validated eagerly, tensors loaded lazily) and writes files atomically. Every failure
 * caused by a file is a {@link dev.distillery.tensor.io.SafetensorsException} naming the file and the tensor.
 */
package dev.distillery.tensor.io;
