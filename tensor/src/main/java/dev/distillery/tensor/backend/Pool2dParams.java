package dev.distillery.tensor.backend;

/**
 * Window, stride and padding of a 2-D pool, as in {@code torch.nn.functional.avg_pool2d/max_pool2d}
 * (floor mode; average pooling counts padded zeros, PyTorch's {@code count_include_pad=True}).
 */
public record Pool2dParams(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
    public Pool2dParams {
        if (kernelH < 1 || kernelW < 1) throw new IllegalArgumentException("pool2d: kernel must be >= 1, got " + kernelH + "x" + kernelW);
        if (strideH < 1 || strideW < 1) throw new IllegalArgumentException("pool2d: stride must be >= 1");
        if (padH < 0 || padW < 0 || padH * 2 > kernelH || padW * 2 > kernelW)
            throw new IllegalArgumentException("pool2d: padding must be >= 0 and at most half the kernel, got " + padH + "x" + padW);
    }

    public static Pool2dParams of(int kernel, int stride, int pad) {
        return new Pool2dParams(kernel, kernel, stride, stride, pad, pad);
    }

    public int outH(int h) { return Math.floorDiv(h + 2 * padH - kernelH, strideH) + 1; }

    public int outW(int w) { return Math.floorDiv(w + 2 * padW - kernelW, strideW) + 1; }
}
