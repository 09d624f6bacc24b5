package dev.distillery.bench;

import dev.distillery.bench.Specs.ConvPass;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Quick checks of the benchmark machinery: every kind of case runs once at a tiny size and gives finite results of the
 * right shapes, every JMH parameter value names a valid case, the hand-written attention backward is right, and
 * CompareRunner prints its machine-readable line. No benchmark is timed here.
 */
class BenchSmokeTest {
    private static List<Tensor> runOnce(Spec spec) {
        Object out = spec.prepare(DType.F32, 7).run();
        Outputs.checkFinite(out);
        return Outputs.tensors(out);
    }

    @Test
    void gemmRunsOnce() {
        assertArrayEquals(new int[]{8, 7}, runOnce(new Specs.Gemm(1, 8, 5, 7, false)).getFirst().shape());
        assertArrayEquals(new int[]{3, 8, 7}, runOnce(new Specs.Gemm(3, 8, 5, 7, true)).getFirst().shape());
    }

    @Test
    void convPassesRunOnce() {
        for (ConvPass pass : ConvPass.values()) {
            Specs.Conv spec = new Specs.Conv(2, 3, 4, 6, 5, 3, 1, pass);
            List<Tensor> out = runOnce(spec);
            switch (pass) {
                case FORWARD -> assertArrayEquals(new int[]{2, 4, 6, 5}, out.getFirst().shape());
                case BACKWARD_INPUT -> assertArrayEquals(new int[]{2, 3, 6, 5}, out.getFirst().shape());
                case BACKWARD_WEIGHT -> assertArrayEquals(new int[]{4, 3, 3, 3}, out.getFirst().shape());
                case FORWARD_BACKWARD -> {
                    assertEquals(4, out.size());
                    assertArrayEquals(new int[]{2, 4, 6, 5}, out.get(0).shape());
                    assertArrayEquals(new int[]{2, 3, 6, 5}, out.get(1).shape());
                    assertArrayEquals(new int[]{4, 3, 3, 3}, out.get(2).shape());
                    assertArrayEquals(new int[]{4}, out.get(3).shape());
                }
            }
            assertTrue(spec.flops() > 0, pass.toString());
        }
    }

    @Test
    void groupNormSiluAttentionRunOnce() {
        assertArrayEquals(new int[]{2, 4, 3, 3}, runOnce(new Specs.GroupNorm(2, 4, 3, 3, 2)).getFirst().shape());
        assertArrayEquals(new int[]{100}, runOnce(new Specs.Silu(100)).getFirst().shape());
        // A training step returns its loss; two steps on the same batch must lower it (AdamW is really updating).
        Workload step = new TrainStepSpecs.ResBlockAttnStep(2, 8, 4, 16, 2, 4).prepare();
        // Scoped, as CompareRunner runs it: the first step's arrays are reused by the second.
        double first = step.runScoped(r -> ((Tensor) r).item()), second = step.runScoped(r -> ((Tensor) r).item());
        org.junit.jupiter.api.Assertions.assertTrue(second < first, "loss " + first + " -> " + second);
        assertArrayEquals(new int[]{1, 2, 5, 3}, runOnce(new Specs.Attention(1, 2, 5, 3, false)).getFirst().shape());
        List<Tensor> fb = runOnce(new Specs.Attention(1, 2, 5, 3, true));
        assertEquals(4, fb.size()); // out, dq, dk, dv
        for (Tensor t : fb) assertArrayEquals(new int[]{1, 2, 5, 3}, t.shape());
    }

    /**
     * The whole-model cases at a tiny size (8x8 UNet with channels (8, 16, 16); a 2-layer text encoder of width 32 on
     * 8 tokens): forwards give finite outputs of the right shapes, two training steps lower the loss.
     */
    @Test
    void modelCasesRunOnceAtATinySize() {
        var unet = new ModelSpecs.UNetCase(2, 8, 1, List.of(8, 16, 16), 2, 4, 4, false);
        assertArrayEquals(new int[]{2, 1, 8, 8}, runOnce(unet).getFirst().shape());
        var enc = new ModelSpecs.TextEncCase(2, new dev.distillery.models.text.ClipTextConfig(64, 32, 64, 2, 2, 8, "gelu", 1e-5, 32, 62, 63, 63,
                java.util.Map.of()), false);
        assertArrayEquals(new int[]{2, 8, 32}, runOnce(enc).getFirst().shape());
        assertTrue(unet.flops() > 0 && enc.flops() > 0);
        for (Spec spec : List.<Spec>of(new ModelSpecs.UNetCase(2, 8, 1, List.of(8, 16, 16), 2, 4, 4, true),
                new ModelSpecs.TextEncCase(2, enc.config(), true))) {
            Workload step = spec.prepare(DType.F32, 7);
            // Scoped, as CompareRunner runs them: no model keeps a tensor of one step into the next.
            double l1 = step.runScoped(r -> ((Tensor) r).item()), l2 = step.runScoped(r -> ((Tensor) r).item());
            assertTrue(Double.isFinite(l1) && l2 < l1, spec + ": loss " + l1 + " -> " + l2);
            assertEquals(3 * (spec instanceof ModelSpecs.UNetCase ? unet.flops() : enc.flops()), spec.flops(), 1e-6 * spec.flops());
        }
        // ExportCase's tiny twins are valid architectures (built, not run).
        assertTrue(ExportCase.tinyUNet(2, false).make(1).model().parameterCount() > 0);
        assertTrue(ExportCase.tinyTextEnc(2, true).make(1).model().parameterCount() > 0);
    }

    /** teacher-train-fmnist builds the default fmnist teacher (its parameter count is checked in prepare) and steps at a tiny batch. */
    @Test
    void teacherTrainStepRunsAtATinyBatch() {
        var spec = new EdmTeacherStepSpec(2);
        Workload step = spec.prepare(DType.F32, 3);
        Tensor l1 = (Tensor) step.run(), l2 = (Tensor) step.run();
        Outputs.checkFinite(new Object[]{l1, l2});
        assertEquals(EdmTeacherStepSpec.PARAMETERS, new dev.distillery.models.unet.UNet2DModel(spec.config(), new dev.distillery.tensor.Rng(0)).parameterCount());
        assertEquals(new EdmTeacherStepSpec(64), CompareCases.get("teacher-train-fmnist").spec());
        assertEquals(32 * spec.flops(), CompareCases.get("teacher-train-fmnist").spec().flops(), 1e-6 * 32 * spec.flops());
    }

    /** disback-iter-fmnist: one distillation iteration (fake step, then generator step) at a tiny batch, both losses finite. */
    @Test
    void disbackIterationRunsAtATinyBatch() {
        var spec = new DisBackIterSpec(2);
        // Scoped, as CompareRunner runs it. Generator loss, fake loss and both gradient norms: finite when both steps ran.
        double[] result = spec.prepare(DType.F32, 3).runScoped(r -> ((Tensor) r).toDoubleArray());
        for (double v : result) assertTrue(Double.isFinite(v), java.util.Arrays.toString(result));
        assertTrue(result[2] > 0 && result[3] > 0, "gradient norms " + java.util.Arrays.toString(result));
        assertEquals(new DisBackIterSpec(64), CompareCases.get("disback-iter-fmnist").spec());
        assertEquals(DisBackIterSpec.FORWARDS_PER_ITERATION * new EdmTeacherStepSpec(2).forwardFlops(), spec.flops(), 1e-6 * spec.flops());
    }

    /** The registered model cases are the architectures the brief names (checked without running them). */
    @Test
    void registeredModelCasesHaveTheAgreedArchitectures() {
        var unet = (ModelSpecs.UNetCase) CompareCases.get("unet-step").spec();
        assertEquals(ModelSpecs.UNetCase.small(64, true), unet);
        assertEquals(List.of(64, 128, 128), unet.config().blockOutChannels());
        assertEquals(8, unet.config().attentionHeadDim());
        assertEquals(ModelSpecs.UNetCase.small(64, false), CompareCases.get("unet-fwd").spec());
        var enc = (ModelSpecs.TextEncCase) CompareCases.get("textenc-fwd").spec();
        assertEquals(64, enc.batch());
        assertEquals(256, enc.config().hiddenSize());
        assertEquals(77, enc.seq());
        assertEquals(ModelSpecs.TextEncCase.small(64, true), CompareCases.get("textenc-step").spec());
        // FLOPs of the forward at batch 64 (convs, linears and attention matmuls), hand-checked order of magnitude.
        assertTrue(CompareCases.get("unet-fwd").spec().flops() > 1e11, "unet-fwd flops " + CompareCases.get("unet-fwd").spec().flops());
    }

    @Test
    void nonFiniteResultsAreReported() {
        Tensor bad = Tensor.of(new float[]{1, Float.NaN}, 2);
        assertThrows(IllegalStateException.class, () -> Outputs.checkFinite(new Object[]{bad}));
        assertEquals(3.0, Outputs.checkFinite(Tensor.of(new float[]{1, 2}, 2)), 0);
    }

    /** d/dq, d/dk, d/dv of sum(attention(q, k, v) * dOut) against central differences, in F64. */
    @Test
    void attentionBackwardMatchesFiniteDifferences() {
        int[] shape = {1, 2, 4, 3};
        Rng rng = new Rng(3);
        double[][] in = new double[4][];
        for (int i = 0; i < 4; i++) in[i] = Tensor.randn(rng, DType.F64, shape).toDoubleArray();
        double scale = 1 / Math.sqrt(3);
        Tensor[] t = new Tensor[4];
        for (int i = 0; i < 4; i++) t[i] = Tensor.of(in[i], shape);
        Specs.Fwd f = Specs.attentionForward(t[0], t[1], t[2], scale);
        Specs.Grads g = Specs.attentionBackward(t[0], t[1], t[2], f.probs(), t[3], scale);
        Tensor[] analytic = {g.dq(), g.dk(), g.dv()};
        double eps = 1e-6;
        for (int which = 0; which < 3; which++) {
            double[] grad = analytic[which].toDoubleArray();
            for (int e = 0; e < in[which].length; e++) {
                double keep = in[which][e];
                in[which][e] = keep + eps;
                double plus = loss(in, shape, scale);
                in[which][e] = keep - eps;
                double minus = loss(in, shape, scale);
                in[which][e] = keep;
                double numeric = (plus - minus) / (2 * eps);
                assertEquals(numeric, grad[e], 1e-6 * Math.max(1, Math.abs(numeric)), "input " + which + " element " + e);
            }
        }
    }

    private static double loss(double[][] in, int[] shape, double scale) {
        Tensor out = Specs.attentionForward(Tensor.of(in[0], shape), Tensor.of(in[1], shape), Tensor.of(in[2], shape), scale).out();
        return out.mul(Tensor.of(in[3], shape)).sum().item();
    }

    /** Every combination of every JMH class's @Param values gives a Spec with work to report (nothing allocated). */
    @Test
    void jmhParamsNameValidSpecs() throws Exception {
        List<Class<? extends BenchBase>> classes = List.of(GemmBench.class, Conv2dBench.class, GroupNormBench.class,
                AttentionBench.class, SiluBench.class);
        int checked = 0;
        for (Class<? extends BenchBase> cls : classes) {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = cls; c != Object.class; c = c.getSuperclass())
                for (Field f : c.getDeclaredFields()) if (f.isAnnotationPresent(Param.class)) fields.add(f);
            checked += combos(cls, fields, 0, cls.getDeclaredConstructor().newInstance());
        }
        assertTrue(checked >= 7 + 6 + 1 + 2 + 1, "combinations checked: " + checked);
        assertEquals(new Specs.Gemm(32, 256, 64, 256, true), GemmBench.spec("attn-qkT"));
        assertEquals(new Specs.Gemm(4, 8, 16, 32, false), GemmBench.spec("4x8x16x32"));
    }

    private static int combos(Class<? extends BenchBase> cls, List<Field> fields, int i, BenchBase b) throws Exception {
        if (i == fields.size()) {
            Spec s = b.spec();
            assertTrue(s.flops() > 0 || s.bytes() > 0, cls.getSimpleName() + " " + s);
            return 1;
        }
        int n = 0;
        Field f = fields.get(i);
        for (String v : f.getAnnotation(Param.class).value()) {
            if (f.getType() == int.class) f.setInt(b, Integer.parseInt(v));
            else f.set(b, v);
            n += combos(cls, fields, i + 1, b);
        }
        return n;
    }

    @Test
    void scoresConvertToSecondsPerOp() {
        assertEquals(0.002, BenchMain.secondsPerOp(Mode.AverageTime, TimeUnit.MILLISECONDS, 2.0), 1e-15);
        assertEquals(0.5, BenchMain.secondsPerOp(Mode.Throughput, TimeUnit.SECONDS, 2.0), 1e-15);
    }

    @Test
    void compareRunnerPrintsOneCaseLine() {
        PrintStream old = System.out;
        var buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            CompareRunner.run(new String[]{"gemm-256", "--reps", "2", "--min-warmup", "1", "--warmup-ms", "0"});
        } finally {
            System.setOut(old);
        }
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        assertTrue(lines[0].startsWith("# side=distillery jdk="), lines[0]);
        String line = lines[lines.length - 1];
        assertTrue(line.startsWith("case=gemm-256 side=distillery "), line);
        assertTrue(line.contains(" flops=33554432 "), line);
        String ms = line.substring(line.indexOf(" ms=") + 4).trim();
        String[] reps = ms.split(",");
        assertEquals(2, reps.length, line);
        for (String r : reps) assertTrue(Double.parseDouble(r) > 0, line);
    }

    @Test
    void compareRunnerRejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> CompareRunner.parse(new String[]{"no-such-case"}));
        assertThrows(IllegalArgumentException.class, () -> CompareRunner.parse(new String[]{"gemm-256", "--reps", "0"}));
        assertThrows(IllegalArgumentException.class, () -> CompareRunner.parse(new String[]{"gemm-256", "--bogus", "1"}));
        assertEquals(7, CompareRunner.parse(new String[]{"gemm-256", "--reps", "7"}).reps());
    }
}
