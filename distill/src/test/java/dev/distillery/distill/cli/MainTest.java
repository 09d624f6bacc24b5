package dev.distillery.distill.cli;

import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.RunDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class MainTest {
    /** Flags for a tiny, fast run. */
    static final String[] TINY = {"--steps", "20", "--batch-size", "32", "--width", "16", "--depth", "2", "--emb-dim", "8", "--warmup", "2",
            "--checkpoint-every", "10", "--log-every", "1", "--sample-steps", "4", "--plot-samples", "100", "--eval-samples", "200",
            "--data-size", "512"};

    record Out(int code, String out, String err) {}

    static Out run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Out(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    @Test
    void helpListsSubcommandsAndEveryFlag() {
        Out top = run("--help");
        assertEquals(0, top.code());
        for (String c : List.of("quickstart", "train-teacher", "sample")) assertTrue(top.out().contains(c), c);
        Out tt = run("train-teacher", "--help");
        assertEquals(0, tt.code());
        for (String f : List.of("--dataset", "--steps", "--batch-size", "--lr", "--min-lr-fraction", "--weight-decay", "--warmup", "--grad-clip",
                "--ema-decay", "--width", "--depth", "--emb-dim", "--sigma-data", "--p-mean", "--p-std", "--checkpoint-every", "--keep-checkpoints",
                "--log-every", "--sample-steps", "--plot-samples", "--eval-samples", "--data-size", "--seed", "--out", "--resume", "--stop-after"))
            assertTrue(tt.out().contains(f), f);
        Out s = run("sample", "--help");
        for (String f : List.of("--run", "--checkpoint", "--num-samples", "--steps", "--sampler", "--no-ema", "--seed", "--out"))
            assertTrue(s.out().contains(f), f);
        Out q = run("quickstart", "--help");
        assertTrue(q.out().contains("--steps") && q.out().contains("--out"));
    }

    @Test
    void parsesFlagsIntoTheConfig() {
        var cl = Main.commandLine(System.out, System.err);
        var pr = cl.parseArgs("train-teacher", "--dataset", "swissroll", "--steps", "123", "--lr", "5e-4", "--sigma-data", "0.9");
        Main.TrainTeacher tt = (Main.TrainTeacher) pr.subcommand().commandSpec().userObject();
        var cfg = tt.opts.config("x");
        assertEquals("swissroll", cfg.dataset());
        assertEquals(123, cfg.steps());
        assertEquals(5e-4, cfg.lr());
        assertEquals(0.9, cfg.sigmaData());
        assertEquals(512, cfg.batchSize());
    }

    @Test
    void badFlagsNameTheFlag(@TempDir Path tmp) {
        Out a = run("train-teacher", "--steps", "abc");
        assertEquals(2, a.code());
        assertTrue(a.err().contains("--steps"), a.err());
        Out b = run("train-teacher", "--steps", "0", "--out", tmp.resolve("r").toString());
        assertEquals(2, b.code());
        assertTrue(b.err().contains("--steps must be >= 1"), b.err());
        Out c = run("train-teacher", "--bogus");
        assertEquals(2, c.code());
        assertTrue(c.err().contains("--bogus"), c.err());
        Out d = run("train-teacher", "--dataset", "cifar10", "--out", tmp.resolve("m").toString());
        assertEquals(2, d.code());
        assertTrue(d.err().contains("not yet available"), d.err());
        Out e = run("train-teacher", "--dataset", "moons", "--out", tmp.resolve("n").toString());
        assertTrue(e.err().contains("--dataset") && e.err().contains("moons"), e.err());
        Out f = run("train-teacher", "--warmup", "50", "--steps", "10", "--out", tmp.resolve("w").toString());
        assertTrue(f.err().contains("--warmup"), f.err());
        Out g = run("sample", "--run", tmp.resolve("nope").toString());
        assertEquals(2, g.code());
        assertTrue(g.err().contains("--run"), g.err());
        Out h = run("train-teacher", "--resume", tmp.resolve("nope").toString());
        assertTrue(h.err().contains("--resume"), h.err());
        assertFalse(Files.exists(tmp.resolve("r")) && Files.exists(tmp.resolve("r").resolve("config.json")));
    }

    @Test
    void tinyRunWritesTheRunAndResumesBitIdentically(@TempDir Path tmp) throws Exception {
        Path full = tmp.resolve("full"), part = tmp.resolve("part");
        Out a = run(concat(new String[]{"train-teacher"}, concat(TINY, "--out", full.toString())));
        assertEquals(0, a.code(), a.err() + a.out());
        assertTrue(Files.isRegularFile(full.resolve(RunDir.CONFIG_FILE)));
        assertTrue(Files.isRegularFile(full.resolve(RunDir.METRICS_FILE)));
        assertTrue(Checkpoint.isComplete(full.resolve("checkpoints").resolve(Checkpoint.dirName(20))));
        assertTrue(Files.isRegularFile(full.resolve("samples/step-000010.png")));
        assertTrue(Files.isRegularFile(full.resolve("samples/final.png")));
        assertTrue(Files.isRegularFile(full.resolve("samples/final.safetensors")));
        assertTrue(Files.isRegularFile(full.resolve("plots/loss.png")));
        String report = Files.readString(full.resolve("report.md"));
        assertTrue(report.contains("sliced Wasserstein") && report.contains("exact mixture denoiser") && report.contains("./distillery train-teacher --steps 20"), report);

        Out p1 = run(concat(new String[]{"train-teacher"}, concat(TINY, "--out", part.toString(), "--stop-after", "10")));
        assertEquals(0, p1.code(), p1.err());
        assertFalse(Files.exists(part.resolve("report.md")));
        Out p2 = run("train-teacher", "--resume", part.toString());
        assertEquals(0, p2.code(), p2.err());

        List<Map<String, Object>> mf = RunDir.readMetrics(full.resolve(RunDir.METRICS_FILE)), mp = RunDir.readMetrics(part.resolve(RunDir.METRICS_FILE));
        assertEquals(mf.size(), mp.size());
        for (int i = 0; i < mf.size(); i++) {
            Map<String, Object> x = mf.get(i), y = mp.get(i);
            assertEquals(String.valueOf(x.get("step")), String.valueOf(y.get("step")));
            assertEquals(String.valueOf(x.get("loss")), String.valueOf(y.get("loss")), "loss at step " + x.get("step"));
            assertEquals(String.valueOf(x.get("sw1")), String.valueOf(y.get("sw1")));
        }

        Path outDir = tmp.resolve("s");
        Out s = run("sample", "--run", full.toString(), "-n", "50", "--steps", "3", "--out", outDir.toString());
        assertEquals(0, s.code(), s.err());
        try (var files = Files.list(outDir)) {
            List<String> names = files.map(f -> f.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.endsWith(".png")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.endsWith(".safetensors")), names.toString());
        }
    }
}
