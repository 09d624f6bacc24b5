package dev.distillery.distill.metrics;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.autograd.nn.Conv2d;
import dev.distillery.autograd.nn.Linear;
import dev.distillery.autograd.nn.Module;
import dev.distillery.autograd.optim.Adam;
import dev.distillery.autograd.optim.LrSchedule;
import dev.distillery.distill.data.DataLoader;
import dev.distillery.distill.data.Dataset;
import dev.distillery.distill.data.Digits;
import dev.distillery.distill.data.InMemoryDataset;
import dev.distillery.distill.data.Mnist;
import dev.distillery.distill.train.Progress;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import dev.distillery.tensor.io.Safetensors;
import dev.distillery.tensor.io.SafetensorsException;
import dev.distillery.tensor.io.SafetensorsReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A small classifier per image dataset whose penultimate activations are the feature space of the image metrics
 * ({@link ImageMetrics}: FD-&lt;dataset&gt;, precision/recall, accuracy of class-conditional samples). It plays the
 * role Inception-v3 plays for FID, trained here by the project with a fixed seed.
 *
 * <ul>
 *   <li>{@code digits} (8x8, scikit-learn): MLP 64 &rarr; 128 &rarr; 64 &rarr; 10 with SiLU; features are the 64
 *       SiLU outputs of the second layer. Fixed split: a permutation by {@link #SPLIT_SEED} of the 1797 rows, the
 *       first {@value #DIGITS_TRAIN} train, the remaining 297 test.</li>
 *   <li>{@code fmnist} / {@code mnist} (28x28 padded to 32x32): three 3x3 stride-2 convolutions 1 &rarr; 16 &rarr; 32
 *       &rarr; 64 channels (32 &rarr; 16 &rarr; 8 &rarr; 4 pixels), a linear layer 1024 &rarr; 128 and the 10-way
 *       head, SiLU throughout; features are the 128 SiLU outputs before the head. Official train (60k) / t10k split.</li>
 * </ul>
 *
 * <p>Training: cross-entropy {@code -mean log softmax(z)[y]}, AdamW with linear warm-up and cosine decay, shuffled
 * batches from {@link DataLoader} seeded by the recipe's seed; weights are initialised from {@code new Rng(seed)}.
 *
 * <p>Cache: trained weights are stored under the cache directory (default {@code ~/.cache/distillery/classifiers},
 * system property {@value #CACHE_DIR_PROPERTY}) as {@code <dataset>-<hash prefix>.safetensors}, written atomically,
 * keyed by {@link #contentHash}: SHA-256 of {@link #VERSION}, the dataset name, the recipe (architecture,
 * hyper-parameters, seed) and every train and test image and label (as float bits), so any change of data or recipe
 * trains a new classifier. The metadata holds the key, a SHA-256 of the weights and the test accuracy; a file whose
 * key or weight digest (which also covers the recorded accuracy) does not match, or that cannot be read, is logged as
 * corrupt and retrained.
 */
public final class FeatureClassifier {
    /** Changes whenever training or architecture code changes in a way that alters the weights. */
    public static final String VERSION = "feature-classifier-v2";
    public static final String CACHE_DIR_PROPERTY = "distillery.classifier.cache";
    public static final int NUM_CLASSES = 10;
    /** Seed of the fixed digits train/test permutation (independent of the classifier seed, so every seed sees the same test set). */
    public static final long SPLIT_SEED = 1797;
    public static final int DIGITS_TRAIN = 1500;

    private static final System.Logger LOG = System.getLogger(FeatureClassifier.class.getName());
    private static final int EVAL_BATCH = 500;

    public enum Architecture {
        /** 64 -> 128 -> 64 -> 10, for [N, 64] or [N, 1, 8, 8] inputs. */
        MLP_64_128_64(new int[]{1, 8, 8}, 64),
        /** Three stride-2 3x3 convs and a 1024 -> 128 layer, for [N, 1, 32, 32] inputs. */
        CONV_32(new int[]{1, 32, 32}, 128);

        private final int[] imageShape;
        private final int featureDim;

        Architecture(int[] imageShape, int featureDim) {
            this.imageShape = imageShape;
            this.featureDim = featureDim;
        }

        public int[] imageShape() {
            return imageShape.clone();
        }

        public int featureDim() {
            return featureDim;
        }
    }

    /** Everything that determines the trained weights besides the data. */
    public record Recipe(Architecture architecture, int epochs, int batchSize, double lr, double weightDecay, long seed) {
        public Recipe {
            if (epochs < 1 || batchSize < 1 || !(lr > 0) || weightDecay < 0)
                throw new IllegalArgumentException("bad classifier recipe: epochs " + epochs + ", batch " + batchSize + ", lr " + lr + ", weight decay " + weightDecay);
        }

        /** The recipe used for {@code dataset} ({@code digits}, {@code fmnist} or {@code mnist}). */
        public static Recipe forDataset(String dataset, long seed) {
            return switch (canonical(dataset)) {
                case "digits" -> new Recipe(Architecture.MLP_64_128_64, 60, 64, 3e-3, 1e-4, seed);
                default -> new Recipe(Architecture.CONV_32, 5, 128, 3e-3, 1e-4, seed);
            };
        }

        public Recipe withSeed(long s) {
            return new Recipe(architecture, epochs, batchSize, lr, weightDecay, s);
        }

        public Recipe withEpochs(int e) {
            return new Recipe(architecture, e, batchSize, lr, weightDecay, seed);
        }

        /** Canonical text of the recipe (part of the cache key and the metadata). */
        public String describe() {
            return String.format(Locale.ROOT, "arch=%s;epochs=%d;batch=%d;lr=%s;wd=%s;seed=%d;warmup=%s;min_lr=%s;adam=0.9,0.999,1e-8",
                    architecture, epochs, batchSize, lr, weightDecay, seed, "min(100,steps/10)", "lr/50");
        }
    }

    /** A dataset's train and test splits, images in [-1, 1] with labels 0..9. */
    public record Data(String dataset, Dataset train, Dataset test) {
        /**
         * Loads {@code digits} (the scikit-learn CSV, split as described above), {@code fmnist} or {@code mnist}
         * (IDX directory, padded to 32x32). {@code dataArg} overrides the data location (null: Debian's).
         */
        public static Data load(String dataset, String dataArg) throws IOException {
            String name = canonical(dataset);
            if (name.equals("digits")) {
                InMemoryDataset all = Digits.open(dataArg);
                if (all.size() <= DIGITS_TRAIN)
                    throw new IllegalArgumentException("digits data has " + all.size() + " rows; the fixed split needs more than " + DIGITS_TRAIN);
                long[] order = Tensor.randperm(new Rng(SPLIT_SEED), all.size()).toLongArray();
                return new Data(name, subset(all, order, 0, DIGITS_TRAIN), subset(all, order, DIGITS_TRAIN, all.size()));
            }
            if (name.equals("mnist") && (dataArg == null || dataArg.isBlank()))
                throw new IllegalArgumentException("dataset mnist needs --data DIR (the MNIST IDX files); Debian ships only Fashion-MNIST (--dataset fmnist)");
            return new Data(name, Mnist.open(dataArg, Mnist.Split.TRAIN, Mnist.Fit.PAD_32), Mnist.open(dataArg, Mnist.Split.TEST, Mnist.Fit.PAD_32));
        }

        private static InMemoryDataset subset(InMemoryDataset all, long[] order, int from, int to) {
            int per = 64;
            float[] images = new float[(to - from) * per];
            int[] labels = new int[to - from];
            for (int i = from; i < to; i++) {
                var s = all.get((int) order[i]);
                System.arraycopy(s.image().toFloatArray(), 0, images, (i - from) * per, per);
                labels[i - from] = s.label();
            }
            return new InMemoryDataset(images, labels, 1, 8, 8);
        }
    }

    /** Features [N, D] and predicted classes of a batch of images. */
    public record Outputs(Tensor features, long[] predictions) {}

    private final Data data;
    private final Recipe recipe;
    private final Net net;
    private final String contentHash;
    private double testAccuracy;
    private final Path cacheFile;
    private final boolean fromCache;
    private Tensor testImages;
    private long[] testLabels;
    private Tensor testFeatures;

    private FeatureClassifier(Data data, Recipe recipe, Net net, String contentHash, double testAccuracy, Path cacheFile, boolean fromCache) {
        this.data = data;
        this.recipe = recipe;
        this.net = net;
        this.contentHash = contentHash;
        this.testAccuracy = testAccuracy;
        this.cacheFile = cacheFile;
        this.fromCache = fromCache;
    }

    /** {@code dataset} lower-cased, with {@code fashion-mnist} / {@code fashion_mnist} meaning {@code fmnist}; other names are rejected. */
    public static String canonical(String dataset) {
        String d = dataset == null ? "" : dataset.strip().toLowerCase(Locale.ROOT);
        return switch (d) {
            case "digits" -> "digits";
            case "fmnist", "fashion-mnist", "fashion_mnist" -> "fmnist";
            case "mnist" -> "mnist";
            default -> throw new IllegalArgumentException("unknown dataset '" + dataset + "': expected digits, fmnist or mnist");
        };
    }

    /** The default cache directory: the system property {@value #CACHE_DIR_PROPERTY}, else {@code ~/.cache/distillery/classifiers}. */
    public static Path defaultCacheDir() {
        String p = System.getProperty(CACHE_DIR_PROPERTY);
        if (p != null && !p.isBlank()) return Path.of(p);
        return Path.of(System.getProperty("user.home"), ".cache", "distillery", "classifiers");
    }

    /** The classifier of {@code data} with the dataset's default recipe and seed 0, from the default cache. */
    public static FeatureClassifier obtain(Data data) throws IOException {
        return obtain(data, Recipe.forDataset(data.dataset(), 0), defaultCacheDir());
    }

    /**
     * The classifier for {@code data} and {@code recipe}: loaded from {@code cacheDir} when a valid entry exists,
     * otherwise trained (minutes for Fashion-MNIST, seconds for digits) and stored there.
     */
    public static FeatureClassifier obtain(Data data, Recipe recipe, Path cacheDir) throws IOException {
        String hash = contentHash(data, recipe);
        Path file = cacheDir.resolve(data.dataset() + "-" + hash.substring(0, 16) + ".safetensors");
        if (Files.exists(file)) {
            try {
                FeatureClassifier cached = loadCached(data, recipe, hash, file);
                LOG.log(System.Logger.Level.INFO, "loaded {0} classifier from {1} (test accuracy {2})", data.dataset(), file, cached.testAccuracy);
                return cached;
            } catch (SafetensorsException | CorruptCacheException | IllegalArgumentException e) {
                LOG.log(System.Logger.Level.WARNING, "cached classifier " + file + " is corrupt (" + e.getMessage() + "); retraining");
            }
        }
        Net net = train(data, recipe);
        FeatureClassifier fresh = new FeatureClassifier(data, recipe, net, hash, Double.NaN, file, false);
        double accuracy = fresh.measureTestAccuracy();
        fresh.testAccuracy = accuracy;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("version", VERSION);
        meta.put("dataset", data.dataset());
        meta.put("recipe", recipe.describe());
        meta.put("content_sha256", hash);
        meta.put("test_accuracy", Double.toString(accuracy));
        meta.put("weights_sha256", weightsDigest(net.stateDict(), meta.get("test_accuracy")));
        meta.put("test_count", Integer.toString(data.test().size()));
        meta.put("train_count", Integer.toString(data.train().size()));
        Files.createDirectories(cacheDir);
        Safetensors.write(file, net.stateDict(), meta); // atomic: temp file, fsync, rename
        LOG.log(System.Logger.Level.INFO, "trained {0} classifier: test accuracy {1}; cached as {2}", data.dataset(), accuracy, file);
        return fresh;
    }

    private static final class CorruptCacheException extends Exception {
        CorruptCacheException(String message) {
            super(message);
        }
    }

    private static FeatureClassifier loadCached(Data data, Recipe recipe, String hash, Path file) throws SafetensorsException, CorruptCacheException {
        Map<String, String> meta;
        Map<String, Tensor> weights;
        try (SafetensorsReader r = Safetensors.open(file)) {
            meta = r.metadata();
            weights = r.loadAll();
        }
        if (!hash.equals(meta.get("content_sha256"))) throw new CorruptCacheException("content hash " + meta.get("content_sha256") + " != expected " + hash);
        if (!weightsDigest(weights, meta.get("test_accuracy")).equals(meta.get("weights_sha256")))
            throw new CorruptCacheException("weights or test accuracy do not match their recorded SHA-256");
        double accuracy;
        try {
            accuracy = Double.parseDouble(meta.getOrDefault("test_accuracy", ""));
        } catch (NumberFormatException e) {
            throw new CorruptCacheException("unreadable test_accuracy " + meta.get("test_accuracy"));
        }
        Net net = new Net(recipe.architecture(), new Rng(recipe.seed()));
        net.loadStateDict(weights, true);
        return new FeatureClassifier(data, recipe, net, hash, accuracy, file, true);
    }

    /** SHA-256 (hex) of VERSION, the dataset name, the recipe and every train and test image and label. */
    public static String contentHash(Data data, Recipe recipe) {
        MessageDigest md = sha256();
        md.update((VERSION + "\n" + data.dataset() + "\n" + recipe.describe() + "\n").getBytes(StandardCharsets.UTF_8));
        for (Dataset split : new Dataset[]{data.train(), data.test()}) {
            ByteBuffer header = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(split.size());
            md.update(header.array());
            for (int i = 0; i < split.size(); i++) {
                var s = split.get(i);
                float[] px = s.image().toFloatArray();
                ByteBuffer b = ByteBuffer.allocate(4 * px.length + 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : px) b.putFloat(v);
                b.putInt(s.label());
                md.update(b.array());
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 (hex) of a state dict (names, shapes and F32 values in map order) and the recorded test accuracy text. */
    static String weightsDigest(Map<String, Tensor> state, String testAccuracy) {
        MessageDigest md = sha256();
        md.update(String.valueOf(testAccuracy).getBytes(StandardCharsets.UTF_8));
        for (var e : state.entrySet()) {
            md.update((e.getKey() + Arrays.toString(e.getValue().shape())).getBytes(StandardCharsets.UTF_8));
            float[] v = e.getValue().to(DType.F32).contiguous().toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) b.putFloat(x);
            md.update(b.array());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Trains a fresh network: AdamW, warm-up + cosine decay to lr/50, cross-entropy, shuffled batches. */
    private static Net train(Data data, Recipe recipe) {
        Net net = new Net(recipe.architecture(), new Rng(recipe.seed()));
        Adam opt = Adam.adamW(net.namedParameters(), recipe.lr(), 0.9, 0.999, 1e-8, recipe.weightDecay());
        DataLoader loader = new DataLoader(data.train(), recipe.batchSize(), true, false, false, recipe.seed());
        long total = (long) recipe.epochs() * loader.batchesPerEpoch();
        long warmup = Math.min(100, total / 10);
        LrSchedule schedule = LrSchedule.cosine(recipe.lr(), recipe.lr() / 50, warmup, total);
        LOG.log(System.Logger.Level.INFO, "training the {0} feature classifier ({1}, {2} steps)", data.dataset(), recipe.describe(), total);
        Progress bar = Progress.stderr("classifier " + data.dataset(), total).start(0);
        double loss = Double.NaN;
        for (long step = 1; step <= total; step++) {
            DataLoader.Batch batch = loader.next();
            opt.setLearningRate(schedule.at(step));
            opt.zeroGrad();
            Variable logits = net.logits(net.features(Variable.constant(net.input(batch.images()))));
            Variable ce = crossEntropy(logits, batch.labels());
            ce.backward();
            opt.step();
            loss = ce.item();
            if (!Double.isFinite(loss)) throw new IllegalStateException("classifier training diverged at step " + step + " (loss " + loss + ")");
            bar.update(step, String.format(Locale.ROOT, "loss=%.4f", loss));
        }
        bar.finish(String.format(Locale.ROOT, "loss=%.4f", loss));
        return net;
    }

    /** {@code -mean_i log softmax(logits_i)[label_i]}. */
    static Variable crossEntropy(Variable logits, long[] labels) {
        Tensor index = Tensor.ofLongs(labels, labels.length, 1);
        return logits.logSoftmax(1).gather(1, index).mean().neg();
    }

    /** Features and predicted classes of images [N, C, H, W] (or [N, 64] for digits), batched, without gradients. */
    public Outputs evaluate(Tensor images) {
        Tensor x = net.input(images);
        int n = x.size(0), dim = featureDim();
        float[] feats = new float[n * dim];
        long[] predictions = new long[n];
        try (var g = NoGrad.enter()) {
            for (int start = 0; start < n; start += EVAL_BATCH) {
                int b = Math.min(EVAL_BATCH, n - start);
                Variable f = net.features(Variable.constant(x.narrow(0, start, b).contiguous()));
                Tensor logits = net.logits(f).value();
                System.arraycopy(f.value().contiguous().toFloatArray(), 0, feats, start * dim, b * dim);
                long[] am = logits.argmax(1, false).toLongArray();
                System.arraycopy(am, 0, predictions, start, b);
            }
        }
        return new Outputs(Tensor.of(feats, n, dim), predictions);
    }

    /** Penultimate-layer features [N, D] of images. */
    public Tensor features(Tensor images) {
        return evaluate(images).features();
    }

    private double measureTestAccuracy() {
        long[] pred = evaluate(testImages()).predictions();
        long[] labels = testLabels();
        int correct = 0;
        for (int i = 0; i < pred.length; i++) if (pred[i] == labels[i]) correct++;
        return (double) correct / pred.length;
    }

    /** The test split as one tensor [N, C, H, W]. */
    public synchronized Tensor testImages() {
        if (testImages == null) {
            Dataset test = data.test();
            int[] shape = recipe.architecture().imageShape();
            int per = shape[0] * shape[1] * shape[2];
            float[] all = new float[test.size() * per];
            long[] labels = new long[test.size()];
            for (int i = 0; i < test.size(); i++) {
                var s = test.get(i);
                System.arraycopy(s.image().toFloatArray(), 0, all, i * per, per);
                labels[i] = s.label();
            }
            testImages = Tensor.of(all, test.size(), shape[0], shape[1], shape[2]);
            testLabels = labels;
        }
        return testImages;
    }

    /** Labels of the test split. */
    public synchronized long[] testLabels() {
        testImages();
        return testLabels.clone();
    }

    /** Features of the whole test split (computed once): the reference set of the image metrics. */
    public synchronized Tensor testFeatures() {
        if (testFeatures == null) testFeatures = features(testImages());
        return testFeatures;
    }

    public String dataset() {
        return data.dataset();
    }

    public Data data() {
        return data;
    }

    public Recipe recipe() {
        return recipe;
    }

    public int featureDim() {
        return recipe.architecture().featureDim();
    }

    /** Accuracy on the test split, measured right after training (stored in the cache metadata). */
    public double testAccuracy() {
        return testAccuracy;
    }

    public String contentHash() {
        return contentHash;
    }

    public Path cacheFile() {
        return cacheFile;
    }

    /** Whether the weights came from the cache (no training happened). */
    public boolean fromCache() {
        return fromCache;
    }

    /** The trained weights (the tensors themselves). */
    public Map<String, Tensor> stateDict() {
        return net.stateDict();
    }

    /** The network; {@link #features} is the output of its penultimate layer. */
    static final class Net extends Module {
        private final Architecture architecture;
        private final Conv2d conv1, conv2, conv3;
        private final Linear fc1, fc2, head;

        Net(Architecture architecture, Rng rng) {
            this.architecture = architecture;
            if (architecture == Architecture.MLP_64_128_64) {
                conv1 = conv2 = conv3 = null;
                fc1 = child("fc1", new Linear(64, 128, true, rng));
                fc2 = child("fc2", new Linear(128, 64, true, rng));
                head = child("head", new Linear(64, NUM_CLASSES, true, rng));
            } else {
                conv1 = child("conv1", new Conv2d(1, 16, 3, 2, 1, true, rng));
                conv2 = child("conv2", new Conv2d(16, 32, 3, 2, 1, true, rng));
                conv3 = child("conv3", new Conv2d(32, 64, 3, 2, 1, true, rng));
                fc1 = child("fc1", new Linear(64 * 4 * 4, 128, true, rng));
                fc2 = null;
                head = child("head", new Linear(128, NUM_CLASSES, true, rng));
            }
        }

        /** Checks the image shape and brings it to the network's input layout (F32; [N, 64] for the MLP). */
        Tensor input(Tensor images) {
            int[] s = images.shape();
            int[] want = architecture.imageShape();
            Tensor x = images.to(DType.F32);
            if (architecture == Architecture.MLP_64_128_64) {
                boolean flat = s.length == 2 && s[1] == 64;
                boolean image = s.length == 4 && s[1] == 1 && s[2] == 8 && s[3] == 8;
                if (!flat && !image) throw new IllegalArgumentException("digits images must be [N, 1, 8, 8] or [N, 64], got " + Arrays.toString(s));
                return x.contiguous().reshape(s[0], 64);
            }
            if (s.length != 4 || s[1] != want[0] || s[2] != want[1] || s[3] != want[2])
                throw new IllegalArgumentException("images must be [N, 1, 32, 32] (28x28 padded with -1), got " + Arrays.toString(s));
            return x.contiguous();
        }

        Variable features(Variable x) {
            if (architecture == Architecture.MLP_64_128_64) return fc2.forward(fc1.forward(x).silu()).silu();
            Variable h = conv3.forward(conv2.forward(conv1.forward(x).silu()).silu()).silu();
            return fc1.forward(h.reshape(h.size(0), 64 * 4 * 4)).silu();
        }

        Variable logits(Variable features) {
            return head.forward(features);
        }
    }
}
