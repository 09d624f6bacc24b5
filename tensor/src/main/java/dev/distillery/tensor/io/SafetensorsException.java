package dev.distillery.tensor.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The one exception type for every safetensors failure: a malformed, truncated or inconsistent file or index, a
 * missing tensor, or an I/O error (then the original exception is the {@link #getCause() cause}).
 *
 * <p>The message always names the file, and the tensor when one is involved:
 * <pre>
 *   tensor 'model.embed.weight' in /ckpt/model.safetensors: unknown dtype 'F8_E4M3' (supported: F32, F64, F16, BF16, I64, BOOL)
 *   /ckpt/model.safetensors: truncated: the header length field says 1024 bytes but only 100 follow it
 * </pre>
 * Tensor names are quoted with control characters escaped and cut to 100 characters, so a hostile name cannot
 * garble a log. {@link #file()}, {@link #tensor()} and {@link #problem()} give the parts.
 */
public class SafetensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String tensor;
    private final String problem;

    public SafetensorsException(Path file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    public SafetensorsException(Path file, String tensor, String problem, Throwable cause) {
        super(format(file, tensor, problem), cause);
        this.file = file;
        this.tensor = tensor;
        this.problem = problem;
    }

    private static String format(Path file, String tensor, String problem) {
        String where = String.valueOf(file);
        return tensor == null ? where + ": " + problem : "tensor " + Json.quote(tensor) + " in " + where + ": " + problem;
    }

    /** The file (safetensors file or index) the failure concerns. */
    public Path file() {
        return file;
    }

    /** The tensor the failure concerns, if any. */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }

    /** The message without the file and tensor prefix. */
    public String problem() {
        return problem;
    }
}
