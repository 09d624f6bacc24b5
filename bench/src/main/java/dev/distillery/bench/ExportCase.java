package dev.distillery.bench;

import dev.distillery.autograd.nn.Parameter;
import dev.distillery.models.text.ClipTextConfig;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes one whole-model compare case ({@code unet-fwd}, {@code unet-step}, {@code textenc-fwd},
 * {@code textenc-step}) at a tiny size to {@code DIR/CASE.safetensors}: our model's weights, its inputs, and what
 * the case's timed work computes from them, so that the PyTorch peer can check it computes the same function:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.distillery.bench.ExportCase unet-step /tmp/chk
 * /usr/bin/python3 bench/peers/torch_cases.py --check-against /tmp/chk/unet-step.safetensors
 * </pre>
 *
 * Options: {@code --seed S} (default 42); {@code --full} exports the registered case's own architecture (the
 * 6.8M-parameter UNet, the 15.8M-parameter text encoder) instead of the tiny one, at {@code --batch N} (default 2).
 *
 * <p>Contents: {@code model.<state-dict name>} (the weights before any step), {@code input.<name>} (sample,
 * timesteps, target; or ids, target), and for a forward case {@code expected.output}; for a step case
 * {@code expected.loss} (first step), {@code grad.<parameter>} (its gradients) and {@code expected.loss2} (the loss
 * of the second step, i.e. after one AdamW update). Metadata: {@code case}, {@code kind} (unet, textenc),
 * {@code step}, {@code arch} (the architecture as config JSON), {@code batch}, {@code params}, {@code seed}, and the
 * AdamW settings.
 */
public final class ExportCase {
    private ExportCase() {}

    /** The tiny UNet of the check: 16x16, channels (32, 32, 32), 8 groups, 4 heads of 8, two layers per block. */
    static ModelSpecs.UNetCase tinyUNet(int batch, boolean step) {
        return new ModelSpecs.UNetCase(batch, 16, 1, List.of(32, 32, 32), 2, 8, 8, step);
    }

    /** The tiny text encoder of the check: vocabulary 1000, width 64, 2 layers of 4 heads, MLP 256, GELU, 77 tokens. */
    static ModelSpecs.TextEncCase tinyTextEnc(int batch, boolean step) {
        return new ModelSpecs.TextEncCase(batch, new ClipTextConfig(1000, 64, 256, 2, 4, 77, "gelu", 1e-5, 64, 998, 999, 999, Map.of()), step);
    }

    /** The spec {@code name} names: its tiny twin, or with {@code full} the registered one at {@code batch}. */
    static Spec spec(String name, int batch, boolean full) {
        boolean step = name.endsWith("-step");
        if (name.startsWith("unet-")) return full ? ModelSpecs.UNetCase.small(batch, step) : tinyUNet(batch, step);
        if (name.startsWith("textenc-")) return full ? ModelSpecs.TextEncCase.small(batch, step) : tinyTextEnc(batch, step);
        throw new IllegalArgumentException("ExportCase: '" + name + "' is not a model case (unet-fwd, unet-step, textenc-fwd, textenc-step)");
    }

    public static void main(String[] args) throws IOException {
        try {
            Path file = export(args);
            System.out.println(file);
        } catch (IllegalArgumentException e) {
            System.err.println("ExportCase: " + e.getMessage());
            System.exit(2);
        }
    }

    static Path export(String[] args) throws IOException {
        String name = null;
        Path dir = null;
        long seed = 42;
        int batch = 2;
        boolean full = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seed" -> seed = Long.parseLong(value(args, ++i));
                case "--batch" -> batch = Integer.parseInt(value(args, ++i));
                case "--full" -> full = true;
                default -> {
                    if (args[i].startsWith("--")) throw new IllegalArgumentException("unknown option " + args[i]);
                    if (name == null) name = args[i];
                    else if (dir == null) dir = Path.of(args[i]);
                    else throw new IllegalArgumentException("unexpected argument " + args[i]);
                }
            }
        }
        if (name == null || dir == null)
            throw new IllegalArgumentException("usage: ExportCase CASE DIR [--seed S] [--full] [--batch N]   (CASE: unet-fwd unet-step textenc-fwd textenc-step)");
        if (!CompareCases.all().containsKey(name)) throw new IllegalArgumentException("unknown case '" + name + "'");
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1");
        Spec spec = spec(name, batch, full);

        ModelSpecs.Prepared p;
        String kind, arch;
        boolean step;
        if (spec instanceof ModelSpecs.UNetCase u) {
            p = u.make(seed);
            kind = "unet";
            arch = u.archJson();
            step = u.step();
        } else {
            ModelSpecs.TextEncCase t = (ModelSpecs.TextEncCase) spec;
            p = t.make(seed);
            kind = "textenc";
            arch = t.config().toJson();
            step = t.step();
        }

        Map<String, Tensor> out = new LinkedHashMap<>();
        p.model().stateDict().forEach((k, v) -> out.put("model." + k, v.contiguous().copy())); // before a step changes them
        p.inputs().forEach((k, v) -> out.put("input." + k, v.contiguous()));
        Workload w = p.workload();
        if (!step) {
            out.put("expected.output", ((Tensor) w.run()).contiguous());
        } else {
            out.put("expected.loss", ((Tensor) w.run()).contiguous().copy());
            for (var e : p.model().namedParameters().entrySet()) {
                Parameter param = e.getValue();
                if (param.grad() == null) throw new IllegalStateException("no gradient for " + e.getKey());
                out.put("grad." + e.getKey(), param.grad().contiguous().copy());
            }
            out.put("expected.loss2", ((Tensor) w.run()).contiguous().copy());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("case", name);
        meta.put("kind", kind);
        meta.put("step", Boolean.toString(step));
        meta.put("arch", arch);
        meta.put("batch", Integer.toString(batch));
        meta.put("params", Long.toString(p.model().parameterCount()));
        meta.put("seed", Long.toString(seed));
        meta.put("adamw", String.format(Locale.ROOT, "{\"lr\": %s, \"betas\": [%s, %s], \"eps\": %s, \"weight_decay\": %s}",
                ModelSpecs.LR, ModelSpecs.BETA1, ModelSpecs.BETA2, ModelSpecs.EPS, ModelSpecs.WEIGHT_DECAY));
        Files.createDirectories(dir);
        Path file = dir.resolve(name + ".safetensors");
        Safetensors.write(file, out, meta);
        return file;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
        return args[i];
    }
}
