package dev.distillery.autograd.nn;

import dev.distillery.autograd.Variable;
import dev.distillery.tensor.Rng;

/**
 * Multi-head attention with diffusers' parameter names ({@code to_q}, {@code to_k}, {@code to_v},
 * {@code to_out.0}), self or cross (a context of another width), optional causal mask. Inputs are [B, L, D].
 * The last attention probabilities can be kept for inspection ({@link #keepAttentionMaps}).
 */
public final class Attention extends Module {
    public final int heads;
    public final int headDim;
    public final Linear toQ, toK, toV, toOut;
    private boolean keepMaps;
    private Variable lastProbs;

    public Attention(int queryDim, int contextDim, int heads, int headDim, boolean qkvBias, Rng rng) {
        this.heads = heads;
        this.headDim = headDim;
        int inner = heads * headDim;
        toQ = child("to_q", new Linear(queryDim, inner, qkvBias, rng));
        toK = child("to_k", new Linear(contextDim, inner, qkvBias, rng));
        toV = child("to_v", new Linear(contextDim, inner, qkvBias, rng));
        ModuleList<Linear> out = child("to_out", new ModuleList<>());
        toOut = out.add(new Linear(inner, queryDim, true, rng));
    }

    /** Keeps the probabilities [B, heads, Lq, Lk] of the next forward passes (SFERD's attention guidance reads them). */
    public void keepAttentionMaps(boolean on) {
        keepMaps = on;
        if (!on) lastProbs = null;
    }

    /** The probabilities of the last forward pass, if kept. */
    public Variable lastAttentionMap() {
        return lastProbs;
    }

    /** Self-attention when {@code context} is null. */
    public Variable forward(Variable x, Variable context, boolean causal) {
        Variable ctx = context == null ? x : context;
        int b = x.size(0), lq = x.size(1), lk = ctx.size(1);
        Variable q = split(toQ.forward(x), b, lq), k = split(toK.forward(ctx), b, lk), v = split(toV.forward(ctx), b, lk);
        Variable probs = Variable.attentionProbabilities(q, k, causal, 1 / Math.sqrt(headDim));
        if (keepMaps) lastProbs = probs;
        Variable o = probs.matmul(v).permute(0, 2, 1, 3).reshape(b, lq, heads * headDim);
        return toOut.forward(o);
    }

    private Variable split(Variable t, int b, int l) {
        return t.reshape(b, l, heads, headDim).permute(0, 2, 1, 3);
    }
}
