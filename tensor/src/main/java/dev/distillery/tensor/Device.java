package dev.distillery.tensor;

/**
 * Where a tensor's storage lives: {@code cpu} (the JVM heap) or an accelerator such as {@code tornado:0}.
 * A runtime value, not a type parameter, so code moves between devices without changing signatures.
 */
public record Device(String kind, int index) {
    public static final Device CPU = new Device("cpu", 0);

    public Device {
        if (kind == null || kind.isBlank()) throw new IllegalArgumentException("device kind must not be empty");
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
    }

    /** Parses {@code cpu} or {@code kind:index} ({@code tornado:0}). */
    public static Device parse(String spec) {
        String s = spec.trim();
        int colon = s.indexOf(':');
        if (colon < 0) return s.equals("cpu") ? CPU : new Device(s, 0);
        try {
            return new Device(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + spec + "': expected 'cpu' or 'kind:index' such as 'tornado:0'");
        }
    }

    @Override
    public String toString() {
        return kind.equals("cpu") ? "cpu" : kind + ":" + index;
    }
}
