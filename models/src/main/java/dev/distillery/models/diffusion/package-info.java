/**
 * Noise schedules and samplers with diffusers-compatible names and numerics.
 *
 * <ul>
 *   <li>Schedules: {@link dev.distillery.models.diffusion.NoiseSchedule} (VP/DDPM betas and alpha_bar, VP &lt;-&gt; sigma
 *       conversion), {@link dev.distillery.models.diffusion.Sigmas} (Karras/EDM grids),
 *       {@link dev.distillery.models.diffusion.SchedulerConfig} ({@code scheduler_config.json}),
 *       {@link dev.distillery.models.diffusion.TimestepSpacing}.</li>
 *   <li>Models: {@link dev.distillery.models.diffusion.Denoiser} (VP: timestep and eps/v/x0 output; EDM: sigma and x0
 *       output), {@link dev.distillery.models.diffusion.Predictions}, {@link dev.distillery.models.diffusion.Denoisers},
 *       {@link dev.distillery.models.diffusion.Guidance} (classifier-free guidance),
 *       {@link dev.distillery.models.diffusion.EdmPreconditioning}.</li>
 *   <li>Samplers: {@link dev.distillery.models.diffusion.DdpmSampler}, {@link dev.distillery.models.diffusion.DdimSampler}
 *       (with inversion), {@link dev.distillery.models.diffusion.EdmSampler} (Euler, Heun, churn),
 *       {@link dev.distillery.models.diffusion.FewStepSampler} (distilled generators).</li>
 *   <li>Evaluation: {@link dev.distillery.models.diffusion.SlicedWasserstein}.</li>
 * </ul>
 * All randomness comes from an explicit {@link dev.distillery.tensor.Rng}; samplers run under
 * {@link dev.distillery.autograd.NoGrad}.
 */
package dev.distillery.models.diffusion;
