package dev.distillery.tensor.io;

import dev.distillery.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reading and writing the <a href="https://github.com/huggingface/safetensors">safetensors</a> format.
 *
 * <h2>Format</h2>
 * An 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON (possibly padded with trailing
 * whitespace) mapping tensor names to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional
 * {@code "__metadata__"} object of strings, then the data section: each tensor's elements little-endian and
 * row-major at its offsets, relative to the first byte after the header.
 *
 * <h2>Reading</h2>
 * {@link #open(Path)} returns a {@link SafetensorsReader} over one file (memory-mapped, so files over 2 GB work) or
 * over a sharded checkpoint's {@code *.safetensors.index.json}. Headers are validated eagerly and strictly, like the
 * reference implementation and then some:
 * <ul>
 *   <li>header length at most 100,000,000 bytes and within the file; header starts with '{';</li>
 *   <li>strict JSON: valid UTF-8, no duplicate keys at any level (so no duplicate tensor names), nesting at most 64;</li>
 *   <li>each entry has a dtype among F32, F64, F16, BF16, I64, BOOL (others, F8_E4M3, I32, U8, ... are rejected,
 *       naming the tensor), a shape of non-negative integers below 2^31 and two non-negative integer offsets;
 *       unknown extra fields in an entry are ignored, as by the reference implementation;</li>
 *   <li>{@code end - begin == numel * bytes per element}; sorted by offset the tensors start at 0 and cover the data
 *       section exactly, with no gap, overlap or trailing bytes;</li>
 *   <li>{@code __metadata__} maps strings to strings (JSON {@code null} reads as empty).</li>
 * </ul>
 * Tensor data are read only on {@link SafetensorsReader#load}, so nothing is allocated from a header's claims
 * before they are checked against the file's real size. BOOL bytes other than 0 read as true.
 *
 * <h2>Writing</h2>
 * {@link #write(Path, Map, Map)} writes tensors in the map's iteration order, contiguously (views are fine),
 * with the header padded by spaces to a multiple of 8 bytes, and replaces the target atomically.
 *
 * <h2>Errors</h2>
 * Every failure caused by a file's contents or by I/O is a {@link SafetensorsException} (an {@link java.io.IOException})
 * whose message names the file and, where one is involved, the tensor:
 * {@code tensor 'x' in /path/model.safetensors: unknown dtype 'F8_E4M3' (supported: ...)}. Wrong arguments to
 * {@link #write} (null or reserved names, unencodable strings) are {@link IllegalArgumentException}s naming the
 * file and tensor; using a closed reader is an {@link IllegalStateException}.
 */
public final class Safetensors {
    private Safetensors() {}

    /** Name of a single-file checkpoint that {@link #open(Path)} looks for in a directory. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** Name of a sharded checkpoint's index that {@link #open(Path)} looks for in a directory. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /**
     * Opens a checkpoint: a path ending in {@code .json} as a sharded index ({@link #openIndex}), a directory by its
     * {@value #INDEX_FILE} or else its {@value #SINGLE_FILE}, anything else as one safetensors file
     * ({@link #openFile}).
     */
    public static SafetensorsReader open(Path path) throws SafetensorsException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE), single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(index)) return openIndex(index);
            if (Files.isRegularFile(single)) return openFile(single);
            throw new SafetensorsException(path, null, "directory has neither " + INDEX_FILE + " nor " + SINGLE_FILE);
        }
        Path name = path.getFileName();
        if (name != null && name.toString().endsWith(".json")) return openIndex(path);
        return openFile(path);
    }

    /** Maps one {@code .safetensors} file and validates its header. */
    public static SafetensorsReader openFile(Path file) throws SafetensorsException {
        return SafetensorsFileReader.open(file);
    }

    /** Reads and validates a {@code *.safetensors.index.json}; shards are opened when first used. */
    public static SafetensorsReader openIndex(Path index) throws SafetensorsException {
        return ShardedSafetensorsReader.open(index);
    }

    /** Loads every tensor of a checkpoint, keeping the file's dtypes, in file order. */
    public static Map<String, Tensor> read(Path path) throws SafetensorsException {
        try (SafetensorsReader r = open(path)) {
            return r.loadAll();
        }
    }

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) throws SafetensorsException {
        write(file, tensors, null);
    }

    /**
     * Writes {@code tensors} (in iteration order, e.g. a {@link java.util.LinkedHashMap}; any layout or device)
     * with optional {@code metadata} (null or empty: no {@code __metadata__} entry) to {@code file}.
     *
     * <p>Atomic: the bytes go to a hidden temporary file in the same directory, which is fsynced and then renamed
     * over {@code file} ({@code ATOMIC_MOVE}, replacing it). If anything fails, including an exception thrown
     * while reading a tensor, the temporary file is deleted and a previous {@code file} is left untouched.
     *
     * @throws SafetensorsException on I/O failure (the cause attached)
     * @throws IllegalArgumentException for a null or reserved ({@code __metadata__}) name, a null tensor or metadata
     *                                  entry, or a string with an unpaired surrogate
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws SafetensorsException {
        SafetensorsWriter.write(file, tensors, metadata);
    }
}
