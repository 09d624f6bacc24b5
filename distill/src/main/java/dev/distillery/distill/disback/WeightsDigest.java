package dev.distillery.distill.disback;

import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * SHA-256 of a state dict: for each entry in key order, the key, the shape and the values' IEEE-754 bits (as
 * doubles, so F32 and F64 copies of the same numbers agree). Two modules with equal digests hold bit-identical
 * weights; used to prove that a path switch really loaded new weights (spec invariant 11) and that P[0] is the
 * teacher (invariant 6).
 */
public final class WeightsDigest {
    private WeightsDigest() {}

    public static String of(Module m) {
        return of(m.stateDict());
    }

    public static String of(Map<String, Tensor> state) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (var e : state.entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            for (int d : e.getValue().shape()) md.update(ByteBuffer.allocate(4).putInt(d).array());
            double[] v = e.getValue().toDoubleArray();
            ByteBuffer buf = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (double x : v) buf.putLong(Double.doubleToRawLongBits(x));
            md.update(buf.array());
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
