package dev.distillery.tensor.io;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Shapes;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * One header entry of a safetensors file, already validated: {@code end - begin == numel * dtype.byteSize()} and
 * the range lies inside the file's data section.
 *
 * @param name  the tensor's name
 * @param dtype its element type in the file
 * @param shape its dims (empty for a 0-d tensor); the array is copied in and out
 * @param begin start of its bytes, relative to the first byte after the header (as {@code data_offsets[0]})
 * @param end   end of its bytes, exclusive, relative likewise (as {@code data_offsets[1]})
 * @param file  the file holding it (for a sharded checkpoint, the shard)
 */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end, Path file) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a 0-d tensor); may exceed what one {@code Tensor} can hold. */
    public long numel() {
        long n = 1;
        for (int d : shape) if (d == 0) return 0;
        for (int d : shape) n *= d; // validated on open: cannot overflow
        return n;
    }

    /** Bytes of data, {@code end - begin}. */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end && Objects.equals(file, t.file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end, file);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + ", " + dtype + Shapes.str(shape) + ", bytes " + begin + ".." + end + " of " + file + "]";
    }
}
