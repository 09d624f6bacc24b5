package dev.distillery.distill.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Kills a training child JVM with SIGKILL mid-run, resumes it in process and checks that no completed checkpoint
 * was lost or corrupted and that the loss curve equals an uninterrupted run's bit for bit.
 */
class CheckpointKillTest {
    private static final int EVERY = 3, KEEP = 3;

    @Test
    void resumeAfterSigkillMatchesAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-XX:TieredStopAtLevel=1"); // quick start; results do not depend on the JIT
        for (String k : System.getProperties().stringPropertyNames())
            if (k.startsWith("distillery.")) cmd.add("-D" + k + "=" + System.getProperty(k));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TinyTrainer.class.getName());
        cmd.addAll(List.of(dir.toString(), "100000000", Integer.toString(EVERY), Integer.toString(KEEP)));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        long seen = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        try {
            Checkpoint ck = null;
            while (seen < 40 * EVERY) {
                assertTrue(child.isAlive(), () -> "child exited early: " + log(tmp));
                assertTrue(System.nanoTime() < deadline, () -> "no checkpoints after 15 s: " + log(tmp));
                if (ck == null && Files.isDirectory(dir.resolve(RunDir.CHECKPOINTS))) ck = new Checkpoint(dir.resolve(RunDir.CHECKPOINTS), KEEP);
                if (ck != null) {
                    List<Path> c = ck.complete();
                    if (!c.isEmpty()) seen = Long.parseLong(c.getLast().getFileName().toString().substring(5));
                }
                Thread.sleep(2);
            }
            // Kill somewhere after the child has gone on past that checkpoint: mid-step, mid-log or mid-save.
            Path metrics = dir.resolve(RunDir.METRICS_FILE);
            while (Files.readAllLines(metrics).size() <= seen + 1) {
                assertTrue(child.isAlive() && System.nanoTime() < deadline, () -> "child stalled: " + log(tmp));
                Thread.sleep(1);
            }
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextInt(15));
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        }
        assertNotEquals(0, child.exitValue());

        Checkpoint ck = new Checkpoint(dir.resolve(RunDir.CHECKPOINTS), KEEP);
        List<Path> complete = ck.complete();
        assertFalse(complete.isEmpty());
        for (Path p : complete) Checkpoint.verify(p); // none corrupt
        long latest = Checkpoint.readState(ck.latest().orElseThrow()).step();
        assertTrue(latest >= seen, "checkpoint " + seen + " was complete before the kill; latest now " + latest);
        assertEquals(latest, Long.parseLong(complete.getLast().getFileName().toString().substring(5)));

        long logged = RunDir.readMetrics(dir.resolve(RunDir.METRICS_FILE)).size();
        System.out.println("killed after logging " + logged + " steps; resuming from checkpoint " + latest + " (first seen " + seen + ")");
        long total = latest + 2 * EVERY + 1;
        TinyTrainer resumed = TinyTrainer.train(dir, total, EVERY, KEEP);
        TinyTrainer straight = TinyTrainer.train(tmp.resolve("straight"), total, EVERY, KEEP);
        CheckpointTest.assertSameTraining(straight, resumed);

        List<Double> lossResumed, lossStraight;
        try (RunDir a = RunDir.resume(dir); RunDir b = RunDir.resume(tmp.resolve("straight"))) {
            lossResumed = a.metric("loss");
            lossStraight = b.metric("loss");
            List<Long> steps = a.readMetrics().stream().map(m -> JsonWriter.toLong(m.get("step"))).toList();
            assertEquals(java.util.stream.LongStream.rangeClosed(1, total).boxed().toList(), steps, "each step logged once");
        }
        assertEquals(total, lossStraight.size());
        assertEquals(lossStraight, lossResumed, "loss curve after the kill and resume");
        assertTrue(ck.complete().size() <= KEEP);
    }

    private static String log(Path tmp) {
        try {
            return Files.readString(tmp.resolve("child.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

}
