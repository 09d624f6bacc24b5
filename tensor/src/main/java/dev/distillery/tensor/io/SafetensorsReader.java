package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Read access to a safetensors checkpoint: one {@code .safetensors} file or a sharded checkpoint described by a
 * {@code *.safetensors.index.json}. Obtain one with {@link Safetensors#open(Path)}.
 *
 * <p>Headers are parsed and validated eagerly (a sharded reader validates the index on open and each shard when it
 * is first touched); tensor data is read lazily, one tensor per {@link #load} call, from a memory mapping of the
 * file. Loaded tensors are heap copies, independent of the reader: they stay valid after {@link #close()}.
 *
 * <p>Every failure caused by the file is a {@link SafetensorsException} naming the file and, where one is
 * involved, the tensor. Using a reader after {@link #close()} is an {@link IllegalStateException}. Loads may run
 * concurrently from several threads; {@link #close()} must not race with them.
 */
public sealed interface SafetensorsReader extends AutoCloseable permits SafetensorsFileReader, ShardedSafetensorsReader {

    /** The file this reader was opened on (the {@code .safetensors} file or the index). */
    Path file();

    /** Tensor names in file order (header order; for a sharded checkpoint, the index's weight_map order). */
    List<String> names();

    boolean contains(String name);

    /** Dtype, shape and byte range of a tensor; a missing name is a {@link SafetensorsException}. */
    TensorInfo info(String name) throws SafetensorsException;

    /** The {@code __metadata__} map (a sharded checkpoint: the index's {@code metadata}, values as text); may be empty. */
    Map<String, String> metadata();

    /** Loads a tensor with the file's dtype into the matching heap storage (F16/BF16 as bit patterns). */
    Tensor load(String name) throws SafetensorsException;

    /**
     * Loads a tensor converted to {@code as}. Conversions among F16, BF16, F32 and F64 decode straight from the
     * mapping without an intermediate copy (F16/BF16 to F32 is exact; narrowing rounds to nearest even, F64 to
     * F16/BF16 via F32 as {@link Tensor#to} does); any other pair goes through {@link Tensor#to}.
     */
    Tensor load(String name, DType as) throws SafetensorsException;

    /** Every tensor, in {@link #names()} order, with the file's dtypes. */
    default Map<String, Tensor> loadAll() throws SafetensorsException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : names()) out.put(n, load(n));
        return out;
    }

    /** Unmaps the file(s). Idempotent. */
    @Override
    void close();
}
