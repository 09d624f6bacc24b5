package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.ReferenceBackend;
import jdk.incubator.vector.FloatVector;

import static dev.distillery.tensor.backend.cpu.VectorInfo.F;

/** Fused optimiser updates: one pass over parameter, gradient and state, in place. */
final class OptimizerKernels {
    private OptimizerKernels() {}

    private static final int L = F.length();

    /** See {@link dev.distillery.tensor.backend.Backend#adamStep}; F32 in float vectors (as PyTorch computes), F64 by the reference. */
    static void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                         double weightDecay, boolean decoupled, long step) {
        if (param.dtype() != DType.F32 || !param.isContiguous() || !grad.isContiguous() || !m.isContiguous() || !v.isContiguous()) {
            ReferenceBackend.INSTANCE.adamStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
            return;
        }
        float[] p = StridedIter.f32(param), g = StridedIter.f32(grad), ma = StridedIter.f32(m), va = StridedIter.f32(v);
        int po = param.offset(), go = grad.offset(), mo = m.offset(), vo = v.offset(), n = param.numel();
        float b1 = (float) beta1, b2 = (float) beta2, omb1 = (float) (1 - beta1), omb2 = (float) (1 - beta2), fe = (float) eps;
        float decay = (float) (1 - lr * weightDecay), wd = (float) weightDecay;
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step))), bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        boolean anyDecay = weightDecay != 0;
        Parallel.forRange((n + L - 1) / L, Elementwise.GRAIN / L, (a, b) -> {
            int s = a * L, e = Math.min(n, b * L), i = s;
            for (int ub = s + F.loopBound(e - s); i < ub; i += L) {
                FloatVector pv = FloatVector.fromArray(F, p, po + i), gv = FloatVector.fromArray(F, g, go + i);
                if (anyDecay) {
                    if (decoupled) pv = pv.mul(decay);
                    else gv = pv.mul(wd).add(gv);
                }
                FloatVector mv = FloatVector.fromArray(F, ma, mo + i).mul(b1).add(gv.mul(omb1));
                FloatVector vv = FloatVector.fromArray(F, va, vo + i).mul(b2).add(gv.mul(gv).mul(omb2));
                mv.intoArray(ma, mo + i);
                vv.intoArray(va, vo + i);
                FloatVector denom = vv.sqrt().div(bc2Sqrt).add(fe);
                pv.sub(mv.div(denom).mul(stepSize)).intoArray(p, po + i);
            }
            for (; i < e; i++) {
                float pi = p[po + i], gi = g[go + i];
                if (anyDecay) {
                    if (decoupled) pi *= decay;
                    else gi = pi * wd + gi;
                }
                float mi = ma[mo + i] * b1 + gi * omb1, vi = va[vo + i] * b2 + gi * gi * omb2;
                ma[mo + i] = mi;
                va[vo + i] = vi;
                p[po + i] = pi - mi / ((float) Math.sqrt(vi) / bc2Sqrt + fe) * stepSize;
            }
        });
    }
}
