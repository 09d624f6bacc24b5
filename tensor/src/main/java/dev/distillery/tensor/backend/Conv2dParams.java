package dev.distillery.tensor.backend;

/**
 * Stride, padding, dilation and groups of a 2-D convolution, as in {@code torch.nn.functional.conv2d}.
 * {@code outputPaddingH/W} only matter for {@code conv_transpose2d}.
 */
public record Conv2dParams(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups,
                           int outputPaddingH, int outputPaddingW) {
    public Conv2dParams {
        if (strideH < 1 || strideW < 1) throw new IllegalArgumentException("conv2d: stride must be >= 1, got " + strideH + "x" + strideW);
        if (padH < 0 || padW < 0) throw new IllegalArgumentException("conv2d: padding must be >= 0, got " + padH + "x" + padW);
        if (dilationH < 1 || dilationW < 1) throw new IllegalArgumentException("conv2d: dilation must be >= 1, got " + dilationH + "x" + dilationW);
        if (groups < 1) throw new IllegalArgumentException("conv2d: groups must be >= 1, got " + groups);
        if (outputPaddingH < 0 || outputPaddingW < 0) throw new IllegalArgumentException("conv_transpose2d: output padding must be >= 0");
    }

    public static Conv2dParams of(int stride, int padding) {
        return new Conv2dParams(stride, stride, padding, padding, 1, 1, 1, 0, 0);
    }

    public static Conv2dParams of(int stride, int padding, int dilation, int groups) {
        return new Conv2dParams(stride, stride, padding, padding, dilation, dilation, groups, 0, 0);
    }

    public Conv2dParams withOutputPadding(int h, int w) {
        return new Conv2dParams(strideH, strideW, padH, padW, dilationH, dilationW, groups, h, w);
    }

    /** Output size along one spatial dim (PyTorch's formula). */
    public static int convOut(int in, int k, int stride, int pad, int dil) {
        return Math.floorDiv(in + 2 * pad - dil * (k - 1) - 1, stride) + 1;
    }

    /** conv_transpose2d output size along one spatial dim. */
    public static int convTransposeOut(int in, int k, int stride, int pad, int dil, int outPad) {
        return (in - 1) * stride - 2 * pad + dil * (k - 1) + outPad + 1;
    }
}
