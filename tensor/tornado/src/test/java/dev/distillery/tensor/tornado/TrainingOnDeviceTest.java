package dev.distillery.tensor.tornado;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.Parameter;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.Optimizer;
import dev.distillery.models.unet.UNet2DConfig;
import dev.distillery.models.unet.UNet2DModel;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Device;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Backends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training on {@code tornado:0} against the CPU: the same model (same seed, so the same initial weights, built on
 * the host and moved with {@link Module#to}), the same data (drawn on the host and moved once) and the same AdamW
 * steps give the same loss curve and the same final weights, up to float32 rounding and summation order (the device
 * sums in a different order from the CPU's vector kernels).
 * <p>Tolerances: the MLP's loss curve agrees to a relative {@value #MLP_LOSS_RTOL} per step and its final weights to
 * an absolute {@value #MLP_WEIGHT_ATOL}; the UNet's loss curve agrees to a relative {@value #UNET_LOSS_RTOL} per step
 * and its final weights to an absolute {@value #UNET_WEIGHT_ATOL} (AdamW divides by sqrt of the second moment, so a
 * weight whose gradient is near zero can move by up to lr per step on rounding noise alone: the weight tolerance is a
 * fraction of lr times the number of steps: a tenth of it for the UNet, lr 1e-3 over 5 steps). The measured maxima
 * are printed; on PoCL's CPU device they were 4.1e-6 (MLP loss), 1.5e-6 (MLP weights), 1.9e-6 (UNet loss) and
 * 1.0e-4 (UNet weights).
 * <p>"Uploaded once": after {@link Module#to} every parameter is the same device tensor at every step (updated in
 * place by the Adam kernel, never replaced by a fresh upload), and every step after the first (which creates the
 * optimiser state) makes the same number of device launches.
 */
class TrainingOnDeviceTest {
    static final Device DEV = Device.parse("tornado:0");
    static final double MLP_LOSS_RTOL = 1e-4, MLP_WEIGHT_ATOL = 1e-4;
    static final double UNET_LOSS_RTOL = 1e-3, UNET_WEIGHT_ATOL = 5e-4;
    static TornadoBackend tornado;

    @BeforeAll
    static void device() {
        tornado = (TornadoBackend) Backends.forDevice(DEV);
    }

    /** A loss curve, the final weights (on the host), and the device launches of each step. */
    record Run(double[] losses, Map<String, Tensor> weights, long[] launchesPerStep) {}

    /**
     * Builds a model (on the host), moves it to {@code device}, builds AdamW over its parameters, and takes
     * {@code steps} steps of {@code loss}; checks after each step that the parameters are still the tensors the
     * move made, on {@code device}.
     */
    static <M extends Module> Run train(Device device, Supplier<M> model, Function<M, Variable> loss, int steps, double lr) {
        M net = model.get();
        net.to(device);
        Map<String, Parameter> params = net.namedParameters();
        Map<String, Tensor> moved = new LinkedHashMap<>();
        params.forEach((k, p) -> {
            assertEquals(device, p.device(), k);
            moved.put(k, p.value());
        });
        Optimizer opt = Adam.adamW(params, lr, 0.9, 0.999, 1e-8, 0.01);
        double[] losses = new double[steps];
        long[] launches = new long[steps];
        for (int i = 0; i < steps; i++) {
            long before = device.equals(DEV) ? tornado.launches() : 0;
            opt.zeroGrad();
            Variable l = loss.apply(net);
            assertEquals(device, l.device(), "the loss is computed where the model is");
            l.backward();
            opt.step();
            launches[i] = (device.equals(DEV) ? tornado.launches() : 0) - before;
            losses[i] = l.item();
            params.forEach((k, p) -> {
                assertSame(moved.get(k), p.value(), k + ": the parameter is updated in place, never replaced (uploaded once)");
                assertEquals(device, p.device(), k);
                assertEquals(device, p.grad().device(), k + ".grad");
            });
        }
        opt.stateDict().forEach((k, t) -> {
            if (!k.equals("step")) assertEquals(device, t.device(), "optimiser state " + k);
        });
        Map<String, Tensor> weights = new LinkedHashMap<>();
        params.forEach((k, p) -> weights.put(k, p.value().to(Device.CPU)));
        return new Run(losses, weights, launches);
    }

    /** Largest |a - b| / |b| over the curve. */
    static double maxRelative(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
        return m;
    }

    /** Largest |a - b| over every weight. */
    static double maxAbsolute(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertEquals(b.keySet(), a.keySet());
        double m = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k).toFloatArray(), y = b.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    static void compare(String what, Run cpu, Run dev, double lossRtol, double weightAtol) {
        double lossDiff = maxRelative(dev.losses(), cpu.losses());
        double weightDiff = maxAbsolute(dev.weights(), cpu.weights());
        System.out.printf("%s: cpu losses %s%n%s: %s losses %s%n%s: max relative loss difference %.3g (tolerance %.1g), max absolute weight difference %.3g (tolerance %.1g), launches per step %s%n",
                what, Arrays.toString(cpu.losses()), what, DEV, Arrays.toString(dev.losses()), what, lossDiff, lossRtol, weightDiff, weightAtol,
                Arrays.toString(dev.launchesPerStep()));
        assertTrue(lossDiff <= lossRtol, what + ": loss curves differ by " + lossDiff + " relative\n cpu " + Arrays.toString(cpu.losses())
                + "\n dev " + Arrays.toString(dev.losses()));
        assertTrue(weightDiff <= weightAtol, what + ": final weights differ by " + weightDiff);
        assertTrue(cpu.losses()[cpu.losses().length - 1] < cpu.losses()[0], what + ": training lowers the loss");
        long[] l = dev.launchesPerStep();
        for (int i = 2; i < l.length; i++)
            assertEquals(l[1], l[i], what + ": every step after the first makes the same device launches (no per-step weight uploads)");
    }

    // ------------------------------------------------------------------------------------------------ MLP

    static final class Mlp extends Module {
        final Linear fc1, fc2;

        Mlp(Rng rng) {
            fc1 = child("fc1", new Linear(6, 32, true, rng));
            fc2 = child("fc2", new Linear(32, 3, true, rng));
        }

        Variable forward(Variable x) {
            return fc2.forward(fc1.forward(x).silu());
        }
    }

    static Run trainMlp(Device device) {
        Rng data = new Rng(11);
        Tensor x = Tensor.randn(data, DType.F32, 64, 6);
        Tensor y = x.narrow(1, 0, 3).mul(x.narrow(1, 3, 3)).sin(); // a smooth target the MLP can fit
        Variable xd = Variable.constant(x.to(device)), yd = Variable.constant(y.to(device)); // the data moves once
        return train(device, () -> new Mlp(new Rng(7)), net -> net.forward(xd).mseLoss(yd), 20, 1e-2);
    }

    @Test
    void mlpTrainsTheSameOnTheDevice() {
        compare("MLP", trainMlp(Device.CPU), trainMlp(DEV), MLP_LOSS_RTOL, MLP_WEIGHT_ATOL);
    }

    /**
     * A module moved after its optimiser has stepped: the optimiser's state follows its parameters at the next step
     * (one move), and training continues as it would have on the CPU.
     */
    @Test
    void optimiserStateFollowsAModuleMovedBetweenSteps() {
        Rng data = new Rng(12);
        Tensor x = Tensor.randn(data, DType.F32, 32, 6), y = x.narrow(1, 0, 3).cos();
        double[][] losses = new double[2][6];
        Map<String, Tensor> weights = null;
        for (int run = 0; run < 2; run++) {
            Mlp net = new Mlp(new Rng(8));
            Optimizer opt = Adam.adamW(net.namedParameters(), 1e-2, 0.9, 0.999, 1e-8, 0.01);
            for (int i = 0; i < 6; i++) {
                if (run == 1 && i == 3) net.to(DEV); // halfway, with state already on the host
                Device d = net.fc1.weight.device();
                opt.zeroGrad();
                Variable l = net.forward(Variable.constant(x.to(d))).mseLoss(Variable.constant(y.to(d)));
                l.backward();
                opt.step();
                losses[run][i] = l.item();
            }
            if (run == 1) {
                opt.stateDict().forEach((k, t) -> {
                    if (!k.equals("step")) assertEquals(DEV, t.device(), "optimiser state " + k);
                });
                Map<String, Tensor> cpu = weights, dev = new LinkedHashMap<>();
                net.namedParameters().forEach((k, p) -> dev.put(k, p.value().to(Device.CPU)));
                assertTrue(maxAbsolute(dev, cpu) <= MLP_WEIGHT_ATOL, "final weights differ by " + maxAbsolute(dev, cpu));
            } else {
                weights = new LinkedHashMap<>();
                for (var e : net.namedParameters().entrySet()) weights.put(e.getKey(), e.getValue().value());
            }
        }
        for (int i = 0; i < 3; i++) assertEquals(losses[0][i], losses[1][i], 0, "step " + i + " ran on the CPU in both runs");
        assertTrue(maxRelative(losses[1], losses[0]) <= MLP_LOSS_RTOL, Arrays.toString(losses[0]) + " vs " + Arrays.toString(losses[1]));
    }

    // ------------------------------------------------------------------------------------------------ UNet

    /**
     * The smallest UNet2DModel of the model tests (UNetStructureTest): channels (8, 16), one layer per block, a
     * plain and an attention level, GroupNorm of 4 groups, heads of 4, a sinusoidal timestep embedding; 1 channel.
     */
    static UNet2DModel smallUnet() {
        return new UNet2DModel(UNet2DConfig.parse("{\"block_out_channels\": [8, 16], \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"],"
                + " \"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"layers_per_block\": 1, \"norm_num_groups\": 4, \"attention_head_dim\": 4,"
                + " \"in_channels\": 1, \"out_channels\": 1}"), new Rng(5));
    }

    /** Five AdamW steps of the noise-prediction MSE (DDPM's loss) on a fixed batch of two 8x8 images. */
    static Run trainUnet(Device device) {
        Rng data = new Rng(21);
        int b = 2;
        Tensor x0 = Tensor.randn(data, DType.F32, b, 1, 8, 8).tanh();
        Tensor noise = Tensor.randn(data, DType.F32, b, 1, 8, 8);
        double[] alphaBar = {0.9, 0.3};
        Tensor a = Tensor.of(new float[]{(float) Math.sqrt(alphaBar[0]), (float) Math.sqrt(alphaBar[1])}, b, 1, 1, 1);
        Tensor s = Tensor.of(new float[]{(float) Math.sqrt(1 - alphaBar[0]), (float) Math.sqrt(1 - alphaBar[1])}, b, 1, 1, 1);
        Tensor noisy = x0.mul(a).add(noise.mul(s));
        Variable xt = Variable.constant(noisy.to(device)), target = Variable.constant(noise.to(device));
        Tensor t = Tensor.ofLongs(new long[]{100, 700}, b).to(device);
        return train(device, TrainingOnDeviceTest::smallUnet, unet -> unet.forward(xt, t).mseLoss(target), 5, 1e-3);
    }

    @Test
    void smallUnetTrainsTheSameOnTheDevice() {
        assertTrue(smallUnet().parameterCount() < 100_000);
        compare("UNet", trainUnet(Device.CPU), trainUnet(DEV), UNET_LOSS_RTOL, UNET_WEIGHT_ATOL);
    }
}
