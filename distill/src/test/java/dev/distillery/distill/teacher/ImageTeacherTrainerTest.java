package dev.distillery.distill.teacher;

import dev.distillery.distill.cli.MainTestSupport;
import dev.distillery.distill.score.DdpmEpsNet;
import dev.distillery.distill.train.Checkpoint;
import dev.distillery.distill.train.JsonWriter;
import dev.distillery.distill.train.RunDir;
import dev.distillery.models.diffusion.NoiseSchedule;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

public class ImageTeacherTrainerTest {
    /** A tiny class-conditional UNet run on 64 images: 4 steps, checkpoints at 2 and 4. */
    public static final String[] TINY_UNET = {"train-teacher", "--dataset", "fmnist", "--steps", "4", "--batch-size", "8", "--data-size", "64",
            "--block-out-channels", "8,8", "--norm-groups", "4", "--attention-head-dim", "8", "--warmup", "1", "--checkpoint-every", "2",
            "--log-every", "1", "--sample-steps", "2", "--grid-samples", "10"};

    /** Writes an MNIST-format training split of {@code n} 28x28 images (a bright square whose place depends on the label). */
    public static Path writeIdx(Path dir, int n) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(3);
        ByteArrayOutputStream img = new ByteArrayOutputStream(), lab = new ByteArrayOutputStream();
        try (DataOutputStream di = new DataOutputStream(img); DataOutputStream dl = new DataOutputStream(lab)) {
            di.writeInt(0x803);
            di.writeInt(n);
            di.writeInt(28);
            di.writeInt(28);
            dl.writeInt(0x801);
            dl.writeInt(n);
            for (int i = 0; i < n; i++) {
                int label = i % 10;
                dl.writeByte(label);
                for (int y = 0; y < 28; y++)
                    for (int x = 0; x < 28; x++) {
                        boolean on = x / 7 == label % 4 && y / 7 == label / 4;
                        di.writeByte(on ? 200 + r.nextInt(56) : r.nextInt(20));
                    }
            }
        }
        Files.write(dir.resolve("train-images-idx3-ubyte"), img.toByteArray());
        Files.write(dir.resolve("train-labels-idx1-ubyte"), lab.toByteArray());
        return dir;
    }

    public static String[] with(String[] a, String... b) {
        List<String> l = new ArrayList<>(List.of(a));
        l.addAll(List.of(b));
        return l.toArray(String[]::new);
    }

    @Test
    void tinyUNetRunWritesItsOutputsAndResumesBitIdentically(@TempDir Path tmp) throws Exception {
        Path data = writeIdx(tmp.resolve("idx"), 80);
        Path full = tmp.resolve("full"), part = tmp.resolve("part");
        var a = MainTestSupport.run(with(TINY_UNET, "--data", data.toString(), "--out", full.toString()));
        assertEquals(0, a.code(), a.err() + a.out());
        assertTrue(Checkpoint.isComplete(full.resolve("checkpoints").resolve(Checkpoint.dirName(4))));
        for (String f : List.of("samples/step-000002.png", "samples/step-000004.png", "samples/final.png", "samples/data.png", "plots/loss.png", "report.md"))
            assertTrue(Files.isRegularFile(full.resolve(f)), f);
        String report = Files.readString(full.resolve("report.md"));
        assertTrue(report.contains("./distillery train-teacher --dataset fmnist") && report.contains("UNet2DModel") && report.contains("10 classes"), report);
        Map<String, Tensor> fin = Safetensors.read(full.resolve("samples/final.safetensors"));
        assertArrayEquals(new int[]{10, 1, 32, 32}, fin.get("samples").shape());
        assertArrayEquals(new long[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, fin.get("labels").toLongArray());
        for (float v : fin.get("samples").toFloatArray()) assertTrue(Float.isFinite(v));
        var cfg = ImageTeacherTrainer.readConfig(full);
        assertEquals(10, cfg.classes());
        assertEquals(0.1, cfg.labelDropout());
        assertEquals(List.of(8, 8), cfg.blockOutChannels());

        var p1 = MainTestSupport.run(with(TINY_UNET, "--data", data.toString(), "--out", part.toString(), "--stop-after", "2"));
        assertEquals(0, p1.code(), p1.err());
        assertFalse(Files.exists(part.resolve("report.md")));
        var p2 = MainTestSupport.run("train-teacher", "--resume", part.toString());
        assertEquals(0, p2.code(), p2.err());
        List<Map<String, Object>> mf = RunDir.readMetrics(full.resolve(RunDir.METRICS_FILE)), mp = RunDir.readMetrics(part.resolve(RunDir.METRICS_FILE));
        assertEquals(mf.size(), mp.size());
        for (int i = 0; i < mf.size(); i++) {
            if (!mf.get(i).containsKey("loss")) continue;
            assertEquals(String.valueOf(mf.get(i).get("step")), String.valueOf(mp.get(i).get("step")));
            assertEquals(String.valueOf(mf.get(i).get("loss")), String.valueOf(mp.get(i).get("loss")), "loss at step " + mf.get(i).get("step"));
            assertEquals(String.valueOf(mf.get(i).get("grad_norm")), String.valueOf(mp.get(i).get("grad_norm")));
        }
        assertArrayEquals(fin.get("samples").toFloatArray(), Safetensors.read(part.resolve("samples/final.safetensors")).get("samples").toFloatArray(),
                "resumed run's final samples differ");

        Path out = tmp.resolve("s");
        var s = MainTestSupport.run("sample", "--run", full.toString(), "-n", "4", "--steps", "2", "--guidance", "2", "--out", out.toString());
        assertEquals(0, s.code(), s.err());
        try (var files = Files.list(out)) {
            List<Path> all = files.toList();
            Path st = all.stream().filter(p -> p.toString().endsWith(".safetensors")).findFirst().orElseThrow();
            assertTrue(all.stream().anyMatch(p -> p.toString().endsWith(".png")));
            Map<String, Tensor> t = Safetensors.read(st);
            assertArrayEquals(new int[]{4, 1, 32, 32}, t.get("samples").shape());
            assertArrayEquals(new long[]{0, 1, 2, 3}, t.get("labels").toLongArray());
        }
    }

    /** A digits-format CSV: 200 rows of 8x8 images, a bright bar whose row is the label, plus noise. */
    static Path writeDigitsCsv(Path file) throws IOException {
        Random r = new Random(4);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            int label = i % 8;
            for (int p = 0; p < 64; p++) sb.append(p / 8 == label ? 12 + r.nextInt(5) : r.nextInt(3)).append(',');
            sb.append(label).append('\n');
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void digitsMlpTeacherLossDecreases(@TempDir Path tmp) throws Exception {
        Path csv = writeDigitsCsv(tmp.resolve("digits.csv"));
        Path run = tmp.resolve("run");
        var r = MainTestSupport.run("train-teacher", "--dataset", "digits", "--data", csv.toString(), "--steps", "300", "--batch-size", "64",
                "--width", "64", "--depth", "3", "--warmup", "20", "--log-every", "50", "--checkpoint-every", "300", "--sample-steps", "4",
                "--grid-samples", "16", "--out", run.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        var cfg = ImageTeacherTrainer.readConfig(run);
        assertEquals("mlp", cfg.arch());
        assertEquals(0, cfg.classes());
        assertEquals(0.5, cfg.sigmaData());
        List<Double> losses = new ArrayList<>();
        for (var m : RunDir.readMetrics(run.resolve(RunDir.METRICS_FILE))) if (m.containsKey("loss_avg")) losses.add(JsonWriter.toDouble(m.get("loss_avg")));
        assertEquals(6, losses.size());
        // F = 0 (D = the Gaussian denoiser) starts near 1 at these noise levels; the mean of the last 50 steps must be well below the first 50
        assertTrue(losses.get(5) < 0.7 * losses.get(0), "EDM loss " + losses);
        Tensor s = Safetensors.read(run.resolve("samples/final.safetensors")).get("samples");
        assertArrayEquals(new int[]{16, 1, 8, 8}, s.shape());
        assertNull(Safetensors.read(run.resolve("samples/final.safetensors")).get("labels"));
    }

    @Test
    void badDatasetAndMissingDataNameTheFlagAndPath(@TempDir Path tmp) {
        var a = MainTestSupport.run("train-teacher", "--dataset", "cifar100", "--out", tmp.resolve("a").toString());
        assertEquals(2, a.code());
        assertTrue(a.err().contains("--dataset") && a.err().contains("cifar100"), a.err());
        Path missing = tmp.resolve("no-such-dir");
        var b = MainTestSupport.run("train-teacher", "--dataset", "fmnist", "--data", missing.toString(), "--out", tmp.resolve("b").toString());
        assertNotEquals(0, b.code());
        assertTrue(b.err().contains(missing.toString()) && b.err().contains("--data"), b.err());
        assertFalse(Files.exists(tmp.resolve("b")), "a failed start left a run directory");
        var c = MainTestSupport.run("train-teacher", "--dataset", "mnist", "--out", tmp.resolve("c").toString());
        assertEquals(2, c.code());
        assertTrue(c.err().contains("--dataset mnist needs --data"), c.err());
        var d = MainTestSupport.run("train-teacher", "--dataset", "digits", "--data", tmp.resolve("nope.csv").toString(), "--out", tmp.resolve("d").toString());
        assertTrue(d.err().contains("nope.csv") && d.err().contains("--data"), d.err());
        var e = MainTestSupport.run("train-teacher", "--dataset", "fmnist", "--block-out-channels", "8,12", "--norm-groups", "8", "--out", tmp.resolve("e").toString());
        assertEquals(2, e.code());
        assertTrue(e.err().contains("--block-out-channels"), e.err());
        var f = MainTestSupport.run("train-teacher", "--dataset", "digits", "--class-cond", "--out", tmp.resolve("f").toString());
        assertEquals(2, f.code());
        assertTrue(f.err().contains("--class-cond"), f.err());
    }

    @Test
    void helpListsTheImageFlags() {
        var tt = MainTestSupport.run("train-teacher", "--help");
        for (String f : List.of("--data", "--arch", "--block-out-channels", "--layers-per-block", "--[no-]attention", "--attention-head-dim", "--norm-groups",
                "--c-noise-scale", "--[no-]class-cond", "--label-dropout", "--hflip", "--grid-samples", "--objective", "--beta-schedule", "fmnist"))
            assertTrue(tt.out().contains(f), f + " missing from\n" + tt.out());
        assertTrue(MainTestSupport.run("sample", "--help").out().contains("--guidance"));
    }

    @Test
    void configRoundTrips() throws Exception {
        ImageTeacherConfig c = new ImageTeacherConfig("fmnist", "/x", "unet", 10, 4, 1e-3, 0.05, 0, 1, 1, 0.99, 0.5, -1.2, 1.2, List.of(8, 16), 1, true, 8, 4,
                1000, 256, 4, 32, 10, 0.1, true, 0, 5, 1, 1, 3, 10, "ddpm-eps", "scaled_linear", 0.00085, 0.012, 500, 7, "cmd");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) dev.distillery.tensor.io.Json.parse(JsonWriter.write(c.toMap()));
        assertEquals("ddpm-eps", m.get("objective"));
        ImageTeacherConfig back = ImageTeacherConfig.fromMap(m);
        assertEquals(c, back);
        assertTrue(ImageTeacherConfig.isImageConfig(m));
        assertEquals(TeacherObjective.DDPM_EPS, back.trainingObjective());
        var schedule = back.noiseSchedule();
        assertEquals(500, schedule.numTrainTimesteps());
        assertEquals(0.00085, schedule.beta(0), 1e-15);
        assertEquals(0.012, schedule.beta(499), 1e-15);
        double mid = Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * 250 / 499;   // scaled_linear: betas are squares of a linspace
        assertEquals(mid * mid, schedule.beta(250), 1e-12);

        // a config written before --objective existed reads as an EDM teacher
        m.remove("objective");
        for (String k : List.of("beta_schedule", "beta_start", "beta_end", "num_train_timesteps")) m.remove(k);
        ImageTeacherConfig old = ImageTeacherConfig.fromMap(m);
        assertEquals(TeacherObjective.EDM, old.trainingObjective());
        assertEquals("edm", old.objective());
        assertEquals("linear", old.betaSchedule());
        assertEquals(1000, old.numTrainTimesteps());
    }

    @Test
    void badObjectiveNamesTheFlag(@TempDir Path tmp) {
        var a = MainTestSupport.run(with(TINY_UNET, "--objective", "ddpm-v", "--out", tmp.resolve("a").toString()));
        assertEquals(2, a.code());
        assertTrue(a.err().contains("--objective") && a.err().contains("ddpm-v") && a.err().contains("ddpm-eps"), a.err());
        assertFalse(Files.exists(tmp.resolve("a")));
        var b = MainTestSupport.run("train-teacher", "--dataset", "ring8", "--objective", "ddpm-eps", "--out", tmp.resolve("b").toString());
        assertEquals(2, b.code());
        assertTrue(b.err().contains("--objective"), b.err());
        var c = MainTestSupport.run("train-teacher", "--dataset", "ring8", "--objective", "nope", "--out", tmp.resolve("c").toString());
        assertEquals(2, c.code());
        assertTrue(c.err().contains("--objective") && c.err().contains("nope"), c.err());
        var d = MainTestSupport.run(with(TINY_UNET, "--objective", "ddpm-eps", "--beta-schedule", "cubic", "--out", tmp.resolve("d").toString()));
        assertEquals(2, d.code());
        assertTrue(d.err().contains("--beta-schedule") && d.err().contains("cubic"), d.err());
    }

    @Test
    void tinyDdpmEpsUNetRunTrainsAndResumesBitIdentically(@TempDir Path tmp) throws Exception {
        Path data = writeIdx(tmp.resolve("idx"), 80);
        Path full = tmp.resolve("full"), part = tmp.resolve("part");
        String[] args = with(TINY_UNET, "--objective", "ddpm-eps", "--data", data.toString());
        var a = MainTestSupport.run(with(args, "--out", full.toString()));
        assertEquals(0, a.code(), a.err() + a.out());
        var cfg = ImageTeacherTrainer.readConfig(full);
        assertEquals(TeacherObjective.DDPM_EPS, cfg.trainingObjective());
        assertEquals(NoiseSchedule.linear(1000, 1e-4, 0.02), cfg.noiseSchedule());
        assertTrue(Files.readString(full.resolve(RunDir.CONFIG_FILE)).contains("\"objective\":\"ddpm-eps\""), Files.readString(full.resolve(RunDir.CONFIG_FILE)));
        assertTrue(Files.readString(full.resolve("report.md")).contains("DDPM eps loss"));
        Map<String, Tensor> fin = Safetensors.read(full.resolve("samples/final.safetensors"));
        for (float v : fin.get("samples").toFloatArray()) assertTrue(Float.isFinite(v));

        var p1 = MainTestSupport.run(with(args, "--out", part.toString(), "--stop-after", "2"));
        assertEquals(0, p1.code(), p1.err());
        var p2 = MainTestSupport.run("train-teacher", "--resume", part.toString());
        assertEquals(0, p2.code(), p2.err());
        List<Map<String, Object>> mf = RunDir.readMetrics(full.resolve(RunDir.METRICS_FILE)), mp = RunDir.readMetrics(part.resolve(RunDir.METRICS_FILE));
        assertEquals(mf.size(), mp.size());
        int compared = 0;
        for (int i = 0; i < mf.size(); i++) {
            if (!mf.get(i).containsKey("loss")) continue;
            assertEquals(String.valueOf(mf.get(i).get("loss")), String.valueOf(mp.get(i).get("loss")), "loss at step " + mf.get(i).get("step"));
            assertEquals(String.valueOf(mf.get(i).get("grad_norm")), String.valueOf(mp.get(i).get("grad_norm")));
            compared++;
        }
        assertEquals(4, compared);
        assertArrayEquals(fin.get("samples").toFloatArray(), Safetensors.read(part.resolve("samples/final.safetensors")).get("samples").toFloatArray(),
                "resumed run's final samples differ");

        // the trained eps-model loads as an EDM denoiser (distillation) and samples
        var loaded = Teachers.load(full);
        assertInstanceOf(DdpmEpsNet.class, loaded.net());
        assertEquals(10, loaded.net().classes());
        Path out = tmp.resolve("s");
        var s = MainTestSupport.run("sample", "--run", full.toString(), "-n", "4", "--steps", "2", "--guidance", "2", "--out", out.toString());
        assertEquals(0, s.code(), s.err());
    }

    @Test
    void digitsMlpDdpmEpsLossDecreases(@TempDir Path tmp) throws Exception {
        Path csv = writeDigitsCsv(tmp.resolve("digits.csv"));
        Path run = tmp.resolve("run");
        var r = MainTestSupport.run("train-teacher", "--dataset", "digits", "--data", csv.toString(), "--objective", "ddpm-eps", "--steps", "300",
                "--batch-size", "64", "--width", "64", "--depth", "3", "--warmup", "20", "--log-every", "50", "--checkpoint-every", "300",
                "--sample-steps", "4", "--grid-samples", "16", "--out", run.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertInstanceOf(DdpmEpsNet.class, ImageTeacherTrainer.newNet(ImageTeacherTrainer.readConfig(run)));
        List<Double> losses = new ArrayList<>();
        for (var m : RunDir.readMetrics(run.resolve(RunDir.METRICS_FILE))) if (m.containsKey("loss_avg")) losses.add(JsonWriter.toDouble(m.get("loss_avg")));
        assertEquals(6, losses.size());
        // an untrained net's eps_hat is unrelated to eps (loss about 1 + |eps_hat|^2); the last 50 steps must be well below the first 50
        assertTrue(losses.get(5) < 0.7 * losses.get(0), "DDPM eps loss " + losses);
    }
}
