package dev.distillery.models.text;

import java.io.IOException;

/** A CLIP tokenizer file is missing, unreadable or malformed; the message names the file. */
public final class ClipTokenizerException extends IOException {
    private static final long serialVersionUID = 1L;

    public ClipTokenizerException(String message) {
        super(message);
    }

    public ClipTokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
