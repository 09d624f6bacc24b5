package dev.distillery.distill.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data file that is missing, truncated or malformed. The message names the file and, where it applies, the byte
 * offset (in the decompressed stream for {@code .gz} files) at which reading failed.
 */
public final class DataFileException extends IOException {
    private final Path file;
    private final long offset;

    public DataFileException(Path file, long offset, String message) {
        super(file + (offset >= 0 ? " (byte offset " + offset + ")" : "") + ": " + message);
        this.file = file;
        this.offset = offset;
    }

    public DataFileException(Path file, long offset, String message, Throwable cause) {
        this(file, offset, message);
        initCause(cause);
    }

    public Path file() {
        return file;
    }

    /** Byte offset of the failure, or -1 when it is not about a position in the file. */
    public long offset() {
        return offset;
    }
}
