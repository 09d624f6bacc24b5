package dev.distillery.models.unet;

import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.tensor.Rng;

/**
 * diffusers' {@code TimestepEmbedding} (the module, not the sinusoid): {@code linear_2(act(linear_1(x + cond_proj(c))))},
 * optionally followed by a post activation. Names: {@code linear_1}, {@code cond_proj} (no bias, only with a
 * condition width), {@code linear_2}. Used for {@code time_embedding}, {@code add_embedding} and the
 * projection-type {@code class_embedding}.
 */
public final class TimestepMlp extends Module {
    public final Linear linear1, condProj, linear2;
    private final String act, postAct;

    /**
     * @param condProjDim {@code cond_proj_dim} (LCM's guidance embedding width), or 0 for none
     * @param act         activation between the linears (diffusers name, e.g. "silu")
     * @param postAct     activation after linear_2, or null
     */
    public TimestepMlp(int in, int timeEmbedDim, int condProjDim, String act, String postAct, Rng rng) {
        this.act = UNetOps.checkActivation("act_fn", act);
        this.postAct = postAct == null ? null : UNetOps.checkActivation("timestep_post_act", postAct);
        linear1 = child("linear_1", new Linear(in, timeEmbedDim, true, rng));
        condProj = condProjDim > 0 ? child("cond_proj", new Linear(condProjDim, in, false, rng)) : null;
        linear2 = child("linear_2", new Linear(timeEmbedDim, timeEmbedDim, true, rng));
    }

    public TimestepMlp(int in, int timeEmbedDim, Rng rng) {
        this(in, timeEmbedDim, 0, "silu", null, rng);
    }

    /** @param condition [N, condProjDim] or null */
    public Variable forward(Variable x, Variable condition) {
        if (condition != null) {
            if (condProj == null) throw new IllegalArgumentException("a timestep condition was given but this embedding has no cond_proj (time_cond_proj_dim is null)");
            x = x.add(condProj.forward(condition));
        }
        Variable y = linear2.forward(UNetOps.activation(act, linear1.forward(x)));
        return postAct == null ? y : UNetOps.activation(postAct, y);
    }

    public Variable forward(Variable x) {
        return forward(x, null);
    }
}
