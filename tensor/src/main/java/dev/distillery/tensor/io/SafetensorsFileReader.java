package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.HalfFloats;
import dev.distillery.tensor.Shapes;
import dev.distillery.tensor.Storage;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A single memory-mapped {@code .safetensors} file. The whole file is mapped read-only into a {@link MemorySegment}
 * owned by a shared {@link Arena} (so files over 2 GB work and loads may run on any thread); the header is parsed
 * and validated in the constructor, tensor bytes are copied out on {@link #load}.
 */
final class SafetensorsFileReader implements SafetensorsReader {
    /** Headers longer than this are rejected unread, as the reference implementation does. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String SUPPORTED = "F32, F64, F16, BF16, I64, BOOL";

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Elements converted per step when a load changes the dtype. */
    private static final int CHUNK = 8192;
    /** The largest Java array the VM reliably allocates. */
    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final Path file;
    private final Arena arena;
    private final MemorySegment segment;
    private final long dataStart;
    private final Map<String, TensorInfo> infos;
    private final List<String> names;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFileReader(Path file, Arena arena, MemorySegment segment) throws SafetensorsException {
        this.file = file;
        this.arena = arena;
        this.segment = segment;
        long size = segment.byteSize();
        if (size < 8) throw fail("truncated: the file is " + size + " bytes, too short for the 8-byte header length");
        long n = segment.get(U64, 0);
        if (n < 0 || n > MAX_HEADER_BYTES)
            throw fail("header length " + Long.toUnsignedString(n) + " is over the " + MAX_HEADER_BYTES + "-byte limit (corrupt, or not a safetensors file)");
        if (n > size - 8)
            throw fail("truncated: the header length field says " + n + " bytes but only " + (size - 8) + " follow it");
        if (n == 0 || segment.get(ValueLayout.JAVA_BYTE, 8) != '{')
            throw fail("the header must start with '{' (corrupt, or not a safetensors file)");
        this.dataStart = 8 + n;
        long dataLength = size - dataStart;

        Object root;
        try {
            root = Json.parse(segment.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE));
        } catch (Json.ParseException e) {
            throw fail("the header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> entries)) throw fail("the header is " + Json.typeName(root) + ", not a JSON object");

        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        Map<String, String> meta = Map.of();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String key = (String) e.getKey();
            if (key.equals("__metadata__")) meta = parseMetadata(e.getValue());
            else infos.put(key, parseEntry(key, e.getValue(), dataLength));
        }
        checkLayout(infos.values(), dataLength);
        this.infos = Collections.unmodifiableMap(infos);
        this.names = List.copyOf(infos.keySet());
        this.metadata = meta;
    }

    /** Maps and validates {@code file}; the mapping is released again if validation fails. */
    static SafetensorsFileReader open(Path file) throws SafetensorsException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                segment = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException | UnsupportedOperationException e) {
                throw new SafetensorsException(file, null, "cannot open: " + e, e);
            }
            return new SafetensorsFileReader(file, arena, segment);
        } catch (SafetensorsException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------------------------------ header validation

    private SafetensorsException fail(String problem) {
        return new SafetensorsException(file, null, problem);
    }

    private SafetensorsException fail(String tensor, String problem) {
        return new SafetensorsException(file, tensor, problem);
    }

    private Map<String, String> parseMetadata(Object v) throws SafetensorsException {
        if (v == Json.NULL) return Map.of();
        if (!(v instanceof Map<?, ?> m)) throw fail("__metadata__ is " + Json.typeName(v) + ", expected an object mapping strings to strings");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s))
                throw fail("__metadata__ must map strings to strings, but key " + Json.quote((String) e.getKey()) + " has " + Json.typeName(e.getValue()));
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private TensorInfo parseEntry(String name, Object v, long dataLength) throws SafetensorsException {
        if (!(v instanceof Map<?, ?> m))
            throw fail(name, "the header entry is " + Json.typeName(v) + ", expected an object with dtype, shape and data_offsets");
        Object dt = field(name, m, "dtype");
        if (!(dt instanceof String dtName)) throw fail(name, "'dtype' is " + Json.typeName(dt) + ", expected a string");
        DType dtype = DType.fromSafetensorsName(dtName);
        if (dtype == null) throw fail(name, "unknown dtype " + Json.quote(dtName) + " (supported: " + SUPPORTED + ")");

        Object sh = field(name, m, "shape");
        if (!(sh instanceof List<?> dims)) throw fail(name, "'shape' is " + Json.typeName(sh) + ", expected an array of non-negative integers");
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            long d = nonNegative(name, "shape", dims, i);
            if (d > Integer.MAX_VALUE) throw fail(name, "dimension " + d + " in shape " + Json.render(dims, 80) + " is larger than " + Integer.MAX_VALUE);
            shape[i] = (int) d;
        }
        long numel = 1;
        if (Arrays.stream(shape).anyMatch(d -> d == 0)) numel = 0;
        else for (int d : shape) numel = multiply(name, numel, d, dims);
        long bytes = multiply(name, numel, dtype.byteSize(), dims);

        Object off = field(name, m, "data_offsets");
        if (!(off instanceof List<?> offs) || offs.size() != 2)
            throw fail(name, "'data_offsets' is " + (off instanceof List<?> l ? "an array of " + l.size() + " values" : Json.typeName(off)) + ", expected [begin, end]");
        long begin = nonNegative(name, "data_offsets", offs, 0), end = nonNegative(name, "data_offsets", offs, 1);
        if (end < begin) throw fail(name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end - begin != bytes)
            throw fail(name, "shape " + Shapes.str(shape) + " of " + dtype + " needs " + bytes + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        if (end > dataLength)
            throw fail(name, "truncated: data_offsets [" + begin + ", " + end + "] reach beyond the data section, which has " + dataLength + " bytes");
        return new TensorInfo(name, dtype, shape, begin, end, file);
    }

    private Object field(String name, Map<?, ?> m, String key) throws SafetensorsException {
        Object v = m.get(key);
        if (v == null) throw fail(name, "missing field '" + key + "'");
        return v;
    }

    private long nonNegative(String name, String field, List<?> list, int i) throws SafetensorsException {
        Object v = list.get(i);
        if (!(v instanceof Json.Num num)) throw fail(name, "'" + field + "' " + Json.render(list, 80) + " holds " + Json.typeName(v) + ", expected non-negative integers");
        if (!num.isInteger()) throw fail(name, "'" + field + "' " + Json.render(list, 80) + " holds " + num + ", expected non-negative integers");
        if (num.isNegative()) throw fail(name, (field.equals("shape") ? "negative dimension " : "negative offset ") + num + " in '" + field + "' " + Json.render(list, 80));
        long x = num.asNonNegativeLong();
        if (x < 0) throw fail(name, "'" + field + "' " + Json.render(list, 80) + " holds " + num + ", which is too large");
        return x;
    }

    private long multiply(String name, long a, long b, List<?> dims) throws SafetensorsException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw fail(name, "shape " + Json.render(dims, 80) + " is too large (its byte size overflows 64 bits)");
        }
    }

    /** Sorted by offset, the tensors must tile the data section exactly: start at 0, no gaps, no overlaps, no tail. */
    private void checkLayout(java.util.Collection<TensorInfo> all, long dataLength) throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            String range = "data_offsets [" + t.begin() + ", " + t.end() + "]";
            if (t.begin() < expected)
                throw fail(t.name(), range + " overlap tensor " + Json.quote(prev.name()) + " [" + prev.begin() + ", " + prev.end() + "]");
            if (t.begin() > expected)
                throw fail(t.name(), prev == null
                        ? range + " leave bytes [0, " + t.begin() + ") of the data section unused: the first tensor must start at 0"
                        : range + " leave a gap of " + (t.begin() - expected) + " bytes after tensor " + Json.quote(prev.name()) + " (which ends at " + expected + ")");
            expected = t.end();
            prev = t;
        }
        if (expected != dataLength)
            throw fail("the data section has " + dataLength + " bytes but the tensors cover only " + expected + " (" + (dataLength - expected) + " trailing bytes)");
    }

    // ------------------------------------------------------------------------------------------ reader API

    @Override
    public Path file() {
        return file;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) throws SafetensorsException {
        checkOpen();
        TensorInfo t = infos.get(name);
        if (t == null) throw fail(name, "no such tensor (the file has " + infos.size() + " tensors)");
        return t;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Tensor load(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        int n = elements(t);
        long at = dataStart + t.begin();
        try {
            Storage s = switch (t.dtype()) {
                case F32 -> {
                    float[] a = new float[n];
                    MemorySegment.copy(segment, F32, at, a, 0, n);
                    yield new Storage.FloatStorage(a);
                }
                case F64 -> {
                    double[] a = new double[n];
                    MemorySegment.copy(segment, F64, at, a, 0, n);
                    yield new Storage.DoubleStorage(a);
                }
                case I64 -> {
                    long[] a = new long[n];
                    MemorySegment.copy(segment, I64, at, a, 0, n);
                    yield new Storage.LongStorage(a);
                }
                case F16, BF16 -> {
                    short[] a = new short[n];
                    MemorySegment.copy(segment, U16, at, a, 0, n);
                    yield new Storage.HalfStorage(a, t.dtype());
                }
                case BOOL -> {
                    byte[] a = new byte[n];
                    MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, at, a, 0, n);
                    for (int i = 0; i < n; i++) if (a[i] != 0) a[i] = 1; // any non-zero byte is true, as in NumPy
                    yield new Storage.BoolStorage(a);
                }
            };
            return Tensor.of(s, t.shape());
        } catch (InternalError e) {
            throw mappingFault(name, e);
        }
    }

    @Override
    public Tensor load(String name, DType as) throws SafetensorsException {
        Objects.requireNonNull(as, "dtype to load as");
        TensorInfo t = info(name);
        if (as == t.dtype()) return load(name);
        if (!as.isFloatingPoint() || !t.dtype().isFloatingPoint()) return load(name).to(as);
        int n = elements(t);
        long at = dataStart + t.begin();
        try {
            Storage s = Storage.allocate(as, n);
            switch (s) {
                case Storage.FloatStorage f -> readFloats(t.dtype(), at, f.data(), 0, n);
                case Storage.DoubleStorage d -> readDoubles(t.dtype(), at, d.data(), n);
                case Storage.HalfStorage h -> {
                    short[] out = h.data();
                    float[] buf = new float[Math.min(n, CHUNK)];
                    boolean f16 = as == DType.F16;
                    for (int i = 0; i < n; i += CHUNK) {
                        int k = Math.min(CHUNK, n - i);
                        readFloats(t.dtype(), at + (long) i * t.dtype().byteSize(), buf, 0, k);
                        for (int j = 0; j < k; j++) out[i + j] = f16 ? Float.floatToFloat16(buf[j]) : HalfFloats.floatToBf16(buf[j]);
                    }
                }
                default -> throw new AssertionError(s);
            }
            return Tensor.of(s, t.shape());
        } catch (InternalError e) {
            throw mappingFault(name, e);
        }
    }

    /** Decodes {@code n} elements of a floating-point {@code src} dtype at byte {@code at} into {@code out[pos..]}. */
    private void readFloats(DType src, long at, float[] out, int pos, int n) {
        switch (src) {
            case F32 -> MemorySegment.copy(segment, F32, at, out, pos, n);
            case F64 -> {
                double[] buf = new double[Math.min(n, CHUNK)];
                for (int i = 0; i < n; i += CHUNK) {
                    int k = Math.min(CHUNK, n - i);
                    MemorySegment.copy(segment, F64, at + 8L * i, buf, 0, k);
                    for (int j = 0; j < k; j++) out[pos + i + j] = (float) buf[j];
                }
            }
            case F16, BF16 -> {
                short[] buf = new short[Math.min(n, CHUNK)];
                boolean f16 = src == DType.F16;
                for (int i = 0; i < n; i += CHUNK) {
                    int k = Math.min(CHUNK, n - i);
                    MemorySegment.copy(segment, U16, at + 2L * i, buf, 0, k);
                    for (int j = 0; j < k; j++) out[pos + i + j] = f16 ? Float.float16ToFloat(buf[j]) : HalfFloats.bf16ToFloat(buf[j]);
                }
            }
            default -> throw new AssertionError(src);
        }
    }

    private void readDoubles(DType src, long at, double[] out, int n) {
        if (src == DType.F64) {
            MemorySegment.copy(segment, F64, at, out, 0, n);
            return;
        }
        float[] buf = new float[Math.min(n, CHUNK)];
        for (int i = 0; i < n; i += CHUNK) {
            int k = Math.min(CHUNK, n - i);
            readFloats(src, at + (long) i * src.byteSize(), buf, 0, k);
            for (int j = 0; j < k; j++) out[i + j] = buf[j];
        }
    }

    private int elements(TensorInfo t) throws SafetensorsException {
        long n = t.numel();
        if (n > MAX_ELEMENTS)
            throw fail(t.name(), "shape " + Shapes.str(t.shape()) + " has " + n + " elements; a Distillery tensor holds at most " + MAX_ELEMENTS);
        return (int) n;
    }

    /** The JVM reports a fault on a mapped page (the file shrank under us) as an InternalError. */
    private SafetensorsException mappingFault(String name, InternalError e) {
        checkOpen();
        return new SafetensorsException(file, name, "reading the mapped file failed (was it truncated while open?): " + e.getMessage(), e);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(file + ": the safetensors reader is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsReader[" + file + ", " + names.size() + " tensors]";
    }

    /** For tests and diagnostics: the absolute offset of the data section. */
    long dataStart() {
        return dataStart;
    }
}
