/**
 * diffusers-compatible UNets: parameter names and shapes are exactly diffusers' state-dict keys, so checkpoints
 * load with {@link dev.distillery.autograd.nn.Module#loadStateDict}.
 *
 * <ul>
 *   <li>Models: {@link dev.distillery.models.unet.UNet2DModel} (unconditional / class-conditional) and
 *       {@link dev.distillery.models.unet.UNet2DConditionModel} (text cross-attention: SD 1.x/2.x, SDXL's
 *       "text_time" added conditioning), built from {@link dev.distillery.models.unet.UNet2DConfig} /
 *       {@link dev.distillery.models.unet.UNet2DConditionConfig} loaded from a diffusers {@code config.json}.</li>
 *   <li>Blocks: {@link dev.distillery.models.unet.DownBlock2D}, {@link dev.distillery.models.unet.AttnDownBlock2D},
 *       {@link dev.distillery.models.unet.CrossAttnDownBlock2D}, {@link dev.distillery.models.unet.UpBlock2D},
 *       {@link dev.distillery.models.unet.AttnUpBlock2D}, {@link dev.distillery.models.unet.CrossAttnUpBlock2D},
 *       {@link dev.distillery.models.unet.UNetMidBlock2D}, {@link dev.distillery.models.unet.UNetMidBlock2DCrossAttn},
 *       {@link dev.distillery.models.unet.Transformer2DModel} / {@link dev.distillery.models.unet.BasicTransformerBlock},
 *       {@link dev.distillery.models.unet.ResnetBlock2D}, {@link dev.distillery.models.unet.AttentionBlock},
 *       {@link dev.distillery.models.unet.Downsample2D}, {@link dev.distillery.models.unet.Upsample2D}.</li>
 *   <li>Attention maps (SFERD's attention guidance): {@link dev.distillery.models.unet.AttentionMaps}, exposed on both
 *       models as {@code attentionModules()}, {@code keepAttentionMaps(...)} and {@code attentionMaps()}.</li>
 * </ul>
 * Build a model without allocating its weights (to inspect names, shapes, parameter counts) with
 * {@link dev.distillery.autograd.nn.Init#shapeOnly}. Checked against diffusers 0.25.1: key sets and shapes of the
 * SD 1.5, SD 2.1 and SDXL-base UNets, and forward outputs, gradients and attention maps of small random-weight
 * models (see src/test/resources/unet).
 */
package dev.distillery.models.unet;
