package dev.distillery.distill.train;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {
    static void assertSameState(Map<String, Tensor> a, Map<String, Tensor> b, String what) {
        assertEquals(a.keySet(), b.keySet(), what);
        for (var e : a.entrySet()) {
            Tensor x = e.getValue(), y = b.get(e.getKey());
            assertArrayEquals(x.shape(), y.shape(), what + " " + e.getKey());
            assertEquals(x.dtype(), y.dtype(), what + " " + e.getKey());
            if (x.dtype() == dev.distillery.tensor.DType.I64) assertEquals(x.item(), y.item(), what + " " + e.getKey());
            else assertTrue(Arrays.equals(x.toFloatArray(), y.toFloatArray()), what + " " + e.getKey() + " differs");
        }
    }

    static void assertSameTraining(TinyTrainer a, TinyTrainer b) {
        assertEquals(a.step, b.step);
        assertSameState(a.model.stateDict(), b.model.stateDict(), "model");
        assertSameState(a.ema.stateDict(), b.ema.stateDict(), "ema");
        assertSameState(a.opt.stateDict(), b.opt.stateDict(), "optimizer");
        assertEquals(a.noise.offset(), b.noise.offset(), "noise rng");
        assertEquals(a.loader.state(), b.loader.state(), "loader");
    }

    @Test
    void roundTripContinuesTrainingBitForBit(@TempDir Path tmp) throws IOException {
        TinyTrainer a = new TinyTrainer();
        List<Double> lossA = new ArrayList<>();
        for (int i = 0; i < 20; i++) lossA.add(a.step(null));

        TinyTrainer b = new TinyTrainer();
        for (int i = 0; i < 7; i++) b.step(null); // mid-epoch (5 batches per epoch)
        Checkpoint ck = new Checkpoint(tmp.resolve("ckpts"), 3);
        Path saved = ck.save(b.model, b.ema, b.opt, b.state());
        assertEquals("step-000007", saved.getFileName().toString());
        assertEquals(saved, ck.latest().orElseThrow());
        for (String f : List.of("model.safetensors", "ema.safetensors", "optimizer.safetensors", "state.json"))
            assertTrue(Files.isRegularFile(saved.resolve(f)), f);

        TinyTrainer c = new TinyTrainer();
        c.model.weight.value().copyFrom(c.model.weight.value().add(1)); // different weights, overwritten by load
        Checkpoint.State s = c.load(saved);
        assertEquals(7, s.step());
        assertEquals("tiny", s.extra().get("note"));
        assertEquals(b.loader.state().encode(), s.dataState());
        assertSameTraining(b, c);
        List<Double> lossC = new ArrayList<>();
        for (int i = 7; i < 20; i++) lossC.add(c.step(null));
        assertEquals(lossA.subList(7, 20), lossC, "resumed losses");
        assertSameTraining(a, c);

        // Saving the same step again replaces the checkpoint; a model of another shape fails naming the file.
        assertEquals(saved, ck.save(c.model, c.ema, c.opt, new Checkpoint.State(7, Map.of("noise", c.noise), c.loader.state().encode())));
        assertEquals(List.of(saved), ck.complete());
        var wrong = new dev.distillery.autograd.nn.Linear(3, 1, true, new dev.distillery.tensor.Rng(0));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.load(saved, wrong, null, null));
        assertTrue(e.getMessage().startsWith(saved.resolve("model.safetensors") + ": "), e.getMessage());
        Path noEma = new Checkpoint(tmp.resolve("no-ema"), 1).save(c.model, null, c.opt, c.state());
        assertFalse(Files.exists(noEma.resolve("ema.safetensors")));
        IOException e2 = assertThrows(IOException.class, () -> Checkpoint.load(noEma, c.model, c.ema, c.opt));
        assertEquals(noEma.resolve("ema.safetensors") + ": missing, but an EMA was given to restore", e2.getMessage());
        assertEquals(20, Checkpoint.load(noEma, c.model, null, c.opt).step());
    }

    @Test
    void latestSkipsTemporaryAndCorruptCheckpointsAndPrunesToKeepLast(@TempDir Path tmp) throws IOException {
        TinyTrainer t = new TinyTrainer();
        Checkpoint ck = new Checkpoint(tmp.resolve("ckpts"), 2);
        List<Path> saved = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            t.step(null);
            saved.add(ck.save(t.model, t.ema, t.opt, t.state()));
        }
        assertEquals(saved.subList(2, 4), ck.complete(), "kept the last 2");
        assertFalse(Files.exists(saved.get(0)));

        // A kill during save leaves a temporary directory (here even with a state.json): ignored.
        Path half = ck.dir().resolve(".tmp-step-000005-1-2");
        Files.createDirectories(half);
        Files.copy(saved.get(3).resolve("model.safetensors"), half.resolve("model.safetensors"));
        Files.copy(saved.get(3).resolve("state.json"), half.resolve("state.json"));
        assertEquals(saved.get(3), ck.latest().orElseThrow());

        // A step directory without state.json, one with a torn state.json, one with a truncated tensor file.
        Path noState = ck.dir().resolve("step-000006");
        Files.createDirectories(noState);
        Files.copy(saved.get(3).resolve("model.safetensors"), noState.resolve("model.safetensors"));
        Path torn = copyDir(saved.get(3), ck.dir().resolve("step-000007"));
        Files.writeString(torn.resolve("state.json"), Files.readString(torn.resolve("state.json")).substring(0, 40));
        Path truncated = copyDir(saved.get(3), ck.dir().resolve("step-000008"));
        byte[] m = Files.readAllBytes(truncated.resolve("model.safetensors"));
        Files.write(truncated.resolve("model.safetensors"), Arrays.copyOf(m, m.length - 4));
        assertEquals(saved.get(3), ck.latest().orElseThrow());
        assertEquals(saved.subList(2, 4), ck.complete());

        // Same size, flipped byte: passes the cheap check, but not verification: latest() falls back to step 3 and
        // load names the file.
        byte[] opt = Files.readAllBytes(saved.get(3).resolve("optimizer.safetensors"));
        opt[opt.length - 1] ^= 1;
        Files.write(saved.get(3).resolve("optimizer.safetensors"), opt);
        assertEquals(saved.subList(2, 4), ck.complete());
        assertEquals(saved.get(2), ck.latest().orElseThrow());
        IOException e = assertThrows(IOException.class, () -> new TinyTrainer().load(saved.get(3)));
        assertTrue(e.getMessage().contains(saved.get(3).resolve("optimizer.safetensors").toString()) && e.getMessage().contains("CRC"), e.getMessage());
        IOException e2 = assertThrows(IOException.class, () -> Checkpoint.load(torn, t.model, t.ema, t.opt));
        assertTrue(e2.getMessage().contains(torn.resolve("state.json").toString()), e2.getMessage());
        IOException e3 = assertThrows(IOException.class, () -> Checkpoint.load(noState, t.model, t.ema, t.opt));
        assertTrue(e3.getMessage().contains(noState.resolve("state.json") + ": missing"), e3.getMessage());

        // The next save removes the temporary directory and, once it is complete, prunes: keep the last 2 complete
        // (4 and 9; 3 goes) and remove broken step directories older than the newest.
        t.step(null);
        Path p9 = ck.save(t.model, t.ema, t.opt, new Checkpoint.State(9, Map.of("noise", t.noise), t.loader.state().encode()));
        assertFalse(Files.exists(half));
        assertEquals(List.of("step-000004", "step-000009"), names(ck.dir()));
        assertEquals(p9, ck.latest().orElseThrow());

        // A kill while replacing step 9 by a new save of step 9, after the old one was moved aside: it comes back.
        Files.move(p9, ck.dir().resolve(".old-step-000009-42"));
        Files.createDirectories(ck.dir().resolve(".tmp-step-000009-1-43"));
        Checkpoint reopened = new Checkpoint(ck.dir(), 2);
        assertEquals(List.of("step-000004", "step-000009"), names(ck.dir()));
        assertEquals(p9, reopened.latest().orElseThrow());
    }

    @Test
    void nanGuardNamesStepAndLastGoodCheckpoint(@TempDir Path tmp) throws IOException {
        NanGuard none = new NanGuard(new Checkpoint(tmp.resolve("empty"), 1));
        var e0 = assertThrows(NanGuard.NonFiniteLossException.class, () -> none.check(3, Double.POSITIVE_INFINITY));
        assertEquals("loss is Infinity at step 3; stopping the run. No checkpoint has been written yet.", e0.getMessage());
        assertEquals(0.5, none.check(4, 0.5));

        TinyTrainer t = new TinyTrainer();
        t.blowUpAt = 9;
        t.blowUpFactor = Double.NaN;
        Checkpoint ck = new Checkpoint(tmp.resolve("ckpts"), 2);
        NanGuard guard = new NanGuard(ck);
        var e = assertThrows(NanGuard.NonFiniteLossException.class, () -> {
            while (true) {
                t.step(guard);
                if (t.step % 4 == 0) ck.save(t.model, t.ema, t.opt, t.state());
            }
        });
        assertEquals(9, e.step());
        Path last = ck.dir().resolve("step-000008");
        assertEquals(last, e.lastGood().orElseThrow());
        assertEquals("loss is NaN at step 9; stopping the run. Last good checkpoint: " + last
                + " (resume from it, e.g. with a lower learning rate)", e.getMessage());
    }

    private static Path copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path f : s.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private static List<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
