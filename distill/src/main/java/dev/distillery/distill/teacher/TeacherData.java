package dev.distillery.distill.teacher;

import dev.distillery.distill.data.Dataset;
import dev.distillery.distill.data.Sample;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.train.RunDir;
import dev.distillery.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The data a {@code train-teacher} run was trained on, as the real samples of DMD2's optional GAN head (spec
 * disback.md §2.4 L_gan): a toy teacher's fixed point set ({@link TeacherTrainer#trainingData}), or an image
 * teacher's images ({@link ImageTeacherTrainer#loadData}, the same files and {@code --data-size}).
 */
public final class TeacherData {
    private TeacherData() {}

    /** The training set of the teacher run in {@code runDir}. */
    public static Dataset load(Path runDir) throws IOException {
        if (!Files.isRegularFile(runDir.resolve(RunDir.CONFIG_FILE)))
            throw new IllegalArgumentException(runDir + ": not a teacher run directory (no " + RunDir.CONFIG_FILE + ")");
        if (ImageTeacherTrainer.isImageRun(runDir)) return ImageTeacherTrainer.loadData(ImageTeacherTrainer.readConfig(runDir));
        try (RunDir rd = RunDir.resume(runDir)) {
            return TeacherTrainer.trainingData(TeacherConfig.fromMap(rd.readConfig()));
        }
    }

    /**
     * Real batches drawn uniformly with replacement from {@code data} (one {@code randint} per batch from the given
     * stream, so a restored stream continues the same draws). Images keep their shape ([n, C, H, W]; toys [n, 2]); for
     * a class-conditional teacher ({@code classes > 0}) the conditioning is each sample's own label as I64 [n], which
     * must lie in 0..classes-1; otherwise it is null.
     */
    public static ScoreDistiller.RealSampler sampler(Dataset data, int classes) {
        if (data.size() < 1) throw new IllegalArgumentException("GAN real data: the dataset is empty");
        int[] one = data.get(0).image().shape();
        int per = Math.toIntExact(data.get(0).image().numel());
        return (rng, n) -> {
            long[] idx = Tensor.randint(rng, 0, data.size(), n).toLongArray();
            float[] x = new float[n * per];
            long[] labels = new long[n];
            for (int i = 0; i < n; i++) {
                Sample s = data.get((int) idx[i]);
                System.arraycopy(s.image().toFloatArray(), 0, x, i * per, per);
                if (classes > 0 && (s.label() < 0 || s.label() >= classes))
                    throw new IllegalArgumentException("GAN real data: sample " + idx[i] + " has label " + s.label() + ", the class-conditional teacher has classes 0.." + (classes - 1));
                labels[i] = s.label();
            }
            int[] shape = new int[one.length + 1];
            shape[0] = n;
            System.arraycopy(one, 0, shape, 1, one.length);
            return new ScoreDistiller.RealBatch(Tensor.of(x, shape), classes > 0 ? Tensor.ofLongs(labels, n) : null);
        };
    }

    /** {@link #sampler} of the teacher run's training set, failing with the GAN flags' names when it cannot be loaded. */
    public static ScoreDistiller.RealSampler forGan(Path teacherRunDir, int classes) {
        try {
            return sampler(load(teacherRunDir), classes);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--gan-generator-weight / --gan-discriminator-weight > 0 need the teacher's training data, which could not be loaded from "
                    + teacherRunDir + ": " + e.getMessage(), e);
        }
    }
}
