package dev.distillery.tensor.backend.cpu;

import dev.distillery.tensor.DType;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.backend.Conv2dParams;

/** Adapts tensors (layouts, dtypes) to the {@link Gemm} and {@link Conv2dKernels} array kernels. */
final class LinearAlgebra {
    private LinearAlgebra() {}

    /** a [B, M, K] times b [B, K, N], any strides (packing absorbs them): [B, M, N]. */
    static Tensor matmul(Tensor a, Tensor b) {
        int batch = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
        if (k == 0) return Elementwise.alloc(a.dtype(), new int[]{batch, m, n}); // an empty sum: zeros
        Tensor out = Elementwise.allocUninitialized(a.dtype(), new int[]{batch, m, n});
        if (out.numel() == 0) return out;
        if (a.dtype() == DType.F32)
            Gemm.sgemm(batch, m, n, k,
                    StridedIter.f32(a), a.offset(), a.stride(0), a.stride(1), a.stride(2),
                    StridedIter.f32(b), b.offset(), b.stride(0), b.stride(1), b.stride(2),
                    StridedIter.f32(out), 0, m * n, n, false);
        else
            Gemm.dgemm(batch, m, n, k,
                    StridedIter.f64(a), a.offset(), a.stride(0), a.stride(1), a.stride(2),
                    StridedIter.f64(b), b.offset(), b.stride(0), b.stride(1), b.stride(2),
                    StridedIter.f64(out), 0, m * n, n, false);
        return out;
    }

    private static Conv2dKernels.ConvGeom geom(int[] x, int[] w, Conv2dParams p) {
        return new Conv2dKernels.ConvGeom(x[0], x[1], x[2], x[3], w[0], w[2], w[3], p.strideH(), p.strideW(), p.padH(), p.padW(),
                p.dilationH(), p.dilationW(), p.groups());
    }

    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, Conv2dParams p) {
        Tensor xc = x.contiguous(), wc = w.contiguous(), bc = bias == null ? null : bias.contiguous();
        Conv2dKernels.ConvGeom g = geom(x.shape(), w.shape(), p);
        int[] outShape = {g.n(), g.o(), g.outH(), g.outW()};
        // Zero input channels: an empty sum, which the kernel may leave unwritten.
        Tensor out = x.size(1) == 0 ? Elementwise.alloc(x.dtype(), outShape) : Elementwise.allocUninitialized(x.dtype(), outShape);
        if (x.dtype() == DType.F32)
            Conv2dKernels.forward(g, StridedIter.f32(xc), xc.offset(), StridedIter.f32(wc), wc.offset(),
                    bc == null ? null : StridedIter.f32(bc), bc == null ? 0 : bc.offset(), StridedIter.f32(out), 0);
        else
            Conv2dKernels.forward(g, StridedIter.f64(xc), xc.offset(), StridedIter.f64(wc), wc.offset(),
                    bc == null ? null : StridedIter.f64(bc), bc == null ? 0 : bc.offset(), StridedIter.f64(out), 0);
        return out;
    }

    static Tensor conv2dBackwardInput(Tensor gy, Tensor w, int[] inputShape, Conv2dParams p) {
        Tensor gc = gy.contiguous(), wc = w.contiguous();
        Conv2dKernels.ConvGeom g = geom(inputShape, w.shape(), p);
        // Zero output channels (or an empty batch): an empty sum, which the kernel may leave unwritten.
        Tensor gx = gy.size(1) == 0 || gy.size(0) == 0 ? Elementwise.alloc(gy.dtype(), inputShape) : Elementwise.allocUninitialized(gy.dtype(), inputShape);
        if (gy.dtype() == DType.F32)
            Conv2dKernels.backwardInput(g, StridedIter.f32(gc), gc.offset(), StridedIter.f32(wc), wc.offset(), StridedIter.f32(gx), 0);
        else
            Conv2dKernels.backwardInput(g, StridedIter.f64(gc), gc.offset(), StridedIter.f64(wc), wc.offset(), StridedIter.f64(gx), 0);
        return gx;
    }

    static Tensor conv2dBackwardWeight(Tensor gy, Tensor x, int[] weightShape, Conv2dParams p) {
        Tensor gc = gy.contiguous(), xc = x.contiguous();
        Conv2dKernels.ConvGeom g = geom(x.shape(), weightShape, p);
        Tensor gw = Elementwise.allocUninitialized(gy.dtype(), weightShape);
        if (gy.dtype() == DType.F32)
            Conv2dKernels.backwardWeight(g, StridedIter.f32(gc), gc.offset(), StridedIter.f32(xc), xc.offset(), StridedIter.f32(gw), 0, null, 0);
        else
            Conv2dKernels.backwardWeight(g, StridedIter.f64(gc), gc.offset(), StridedIter.f64(xc), xc.offset(), StridedIter.f64(gw), 0, null, 0);
        return gw;
    }
}
