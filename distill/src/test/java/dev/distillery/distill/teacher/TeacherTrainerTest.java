package dev.distillery.distill.teacher;

import dev.distillery.autograd.optim.Adam;
import dev.distillery.distill.data.Toy2d;
import dev.distillery.models.diffusion.EdmPreconditioning;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TeacherTrainerTest {
    static TeacherConfig tiny(int steps) {
        return new TeacherConfig("ring8", steps, 128, 3e-3, 0.1, 0, 10, 1.0, 0.99, 32, 2, 8, Double.NaN, -1.2, 1.2, 1000, 1, 50, 8, 100, 200,
                4096, 0, "test");
    }

    @Test
    void edmLossDecreasesOnRing8() {
        TeacherConfig cfg = tiny(200);
        double sd = TeacherTrainer.dataStd(cfg);
        assertEquals(Math.sqrt(2 + 0.01), sd, 0.05);
        EdmPreconditioning pre = new EdmPreconditioning(sd);
        MlpDenoiser model = new MlpDenoiser(64, 3, 16, new Rng(0));
        Adam opt = Adam.adamW(model.namedParameters(), 5e-3, 0.9, 0.999, 1e-8, 0);
        Tensor held = Toy2d.sample(Toy2d.Kind.RING8, new Rng(99), 4096).to(DType.F32);
        // the loss on a fixed held-out batch with fixed noise, before and after 200 steps
        double before = TeacherTrainer.trainStep(model, pre, cfg, held, new Rng(7), new Rng(8), opt);
        Rng data = new Rng(1), noise = new Rng(2), sig = new Rng(3);
        for (int i = 0; i < 200; i++) {
            Tensor x0 = Toy2d.sample(Toy2d.Kind.RING8, data, 256).to(DType.F32);
            assertTrue(Double.isFinite(TeacherTrainer.trainStep(model, pre, cfg, x0, noise, sig, opt)));
            opt.step();
        }
        double after = TeacherTrainer.trainStep(model, pre, cfg, held, new Rng(7), new Rng(8), opt);
        // F = 0 (the Gaussian denoiser) scores about 1; ring8's exact denoiser about 0.57.
        assertTrue(before > 0.9, "before " + before);
        assertTrue(after < 0.85, "held-out EDM loss " + before + " -> " + after);
    }

    @Test
    void denoiserIsPreconditioned() {
        MlpDenoiser m = new MlpDenoiser(8, 2, 4, new Rng(0));
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 5, 2);
        Tensor d = m.denoiser(new EdmPreconditioning(1.4)).predict(x, 1e-4);
        // at tiny sigma c_skip ~ 1 and c_out ~ sigma: D(x) ~ x
        float[] a = x.toFloatArray(), b = d.toFloatArray();
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-3);
    }

    @Test
    void configRoundTripsAndValidates() {
        TeacherConfig c = tiny(20).withSigmaData(1.3);
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        try {
            m = (java.util.Map<String, Object>) dev.distillery.tensor.io.Json.parse(dev.distillery.distill.train.JsonWriter.write(c.toMap()));
        } catch (Exception e) {
            fail(e);
        }
        assertEquals(c, TeacherConfig.fromMap(m));
        var ex = assertThrows(IllegalArgumentException.class, () -> new TeacherConfig("ring8", 10, 0, 1e-3, 0, 0, 0, 1, 0.9, 8, 1, 4, 1, 0, 1, 1, 1, 1, 1, 1, 1, 10, 0, "").validate());
        assertTrue(ex.getMessage().contains("--batch-size"));
    }
}
