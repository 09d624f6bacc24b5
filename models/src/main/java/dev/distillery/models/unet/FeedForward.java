package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Dropout;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.nn.ModuleList;
import dev.distillery.tensor.Rng;

import java.util.List;

/**
 * diffusers' {@code FeedForward} with {@code activation_fn="geglu"} (the UNet transformers'):
 * {@code net.0} is GEGLU ({@code net.0.proj}: dim -> 2*inner; value * gelu(gate)), {@code net.1} dropout,
 * {@code net.2} the output linear inner -> dim; inner = 4 * dim.
 */
public final class FeedForward extends Module {
    /** {@code net.0}: the gated GELU input projection. */
    public static final class Geglu extends Module {
        public final Linear proj;

        Geglu(int dimIn, int dimOut, Rng rng) {
            proj = child("proj", new Linear(dimIn, 2 * dimOut, true, rng));
        }

        public Variable forward(Variable x) {
            List<Variable> parts = proj.forward(x).chunk(2, -1);
            return parts.get(0).mul(parts.get(1).gelu());
        }
    }

    public final Geglu geglu;
    public final Dropout dropout;
    public final Linear out;

    public FeedForward(int dim, double dropoutP, Rng rng) {
        int inner = 4 * dim;
        ModuleList<Module> net = child("net", new ModuleList<>());
        geglu = (Geglu) net.add(new Geglu(dim, inner, rng));
        dropout = (Dropout) net.add(new Dropout(dropoutP, UNetOps.dropoutRng(rng)));
        out = (Linear) net.add(new Linear(inner, dim, true, rng));
    }

    public Variable forward(Variable x) {
        return out.forward(dropout.forward(geglu.forward(x)));
    }
}
