package dev.distillery.distill.data;

import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Deterministic, resumable batching of a {@link Dataset}.
 *
 * <p>Epoch {@code e} uses the generator {@code new Rng(seed).fork(e)}: its first {@code N} draws give the order
 * ({@link Tensor#randperm}, identity when not shuffling) and draw {@code N + p} decides whether the item at position
 * {@code p} of the epoch is flipped horizontally ({@code u < 0.5}, only with {@code hflip} and rank-3 images). The
 * order and flips therefore depend only on {@code (seed, epoch, position)}, so the {@link State} is just the epoch and
 * the position within it, and a loader restored from a saved state yields exactly the batches the original would
 * have yielded next.
 *
 * <p>Each {@link #next()} returns {@code batchSize} items stacked into {@code [B, ...]} (images {@code [B, C, H, W]});
 * an epoch's last, shorter batch is returned unless {@code dropLast}. Right after an epoch's last batch the loader moves
 * to {@code (epoch + 1, 0)}, so {@link #epoch()} counts completed epochs at epoch boundaries.
 * Not thread-safe.
 */
public final class DataLoader {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle, dropLast, hflip;
    private final long seed;
    private int epoch;
    private int position;
    private long[] order;      // order of the current epoch
    private int orderEpoch = -1;

    /** A batch: the stacked images, the labels ({@code [B]}, -1 where absent), the captions (null where absent). */
    public record Batch(Tensor images, long[] labels, List<String> captions, int epoch, int start) {
        public int size() {
            return labels.length;
        }

        /** Labels as an I64 tensor {@code [B]}. */
        public Tensor labelTensor() {
            return Tensor.ofLongs(labels, labels.length);
        }
    }

    /** Where a loader stands: the epoch and the number of items of it already returned. */
    public record State(long seed, int epoch, int position) {
        /** {@code seed=..;epoch=..;position=..}, for run metadata. */
        public String encode() {
            return "seed=" + seed + ";epoch=" + epoch + ";position=" + position;
        }

        public static State decode(String s) {
            Map<String, String> kv = new java.util.HashMap<>();
            for (String part : s.strip().split(";")) {
                int eq = part.indexOf('=');
                if (eq < 0) throw new IllegalArgumentException("bad DataLoader state '" + s + "'");
                kv.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
            if (!kv.keySet().containsAll(List.of("seed", "epoch", "position"))) throw new IllegalArgumentException("bad DataLoader state '" + s + "'");
            return new State(Long.parseLong(kv.get("seed")), Integer.parseInt(kv.get("epoch")), Integer.parseInt(kv.get("position")));
        }
    }

    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, boolean dropLast, boolean hflip, long seed) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (dataset.size() == 0) throw new IllegalArgumentException("empty dataset");
        if (dropLast && dataset.size() < batchSize)
            throw new IllegalArgumentException("dropLast with batch size " + batchSize + " > dataset size " + dataset.size() + " yields no batches");
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.hflip = hflip;
        this.seed = seed;
    }

    /** Shuffled, partial last batch kept, no flips. */
    public DataLoader(Dataset dataset, int batchSize, long seed) {
        this(dataset, batchSize, true, false, false, seed);
    }

    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public int epoch() {
        return epoch;
    }

    public int position() {
        return position;
    }

    public State state() {
        return new State(seed, epoch, position);
    }

    /** Continues from a saved state; its seed must match this loader's. */
    public void restore(State s) {
        if (s.seed() != seed) throw new IllegalArgumentException("state is for seed " + s.seed() + ", this loader uses " + seed);
        if (s.epoch() < 0 || s.position() < 0 || s.position() > dataset.size())
            throw new IllegalArgumentException("state " + s.encode() + " does not fit a dataset of " + dataset.size());
        epoch = s.epoch();
        position = s.position();
    }

    /**
     * Whether the current epoch has another batch. {@link #next()} moves to the next epoch right after an epoch's
     * last batch, so this is false only for a restored state that points past the last batch.
     */
    public boolean hasNextInEpoch() {
        int left = dataset.size() - position;
        return dropLast ? left >= batchSize : left > 0;
    }

    /** The next batch, starting a new epoch when the current one is exhausted. */
    public Batch next() {
        if (!hasNextInEpoch()) {
            epoch++;
            position = 0;
        }
        int n = dataset.size();
        long[] ord = order(epoch);
        Rng epochRng = epochRng(epoch);
        int b = Math.min(batchSize, n - position);
        List<Tensor> images = new ArrayList<>(b);
        long[] labels = new long[b];
        List<String> captions = new ArrayList<>(b);
        int[] shape = null;
        for (int j = 0; j < b; j++) {
            int p = position + j;
            Sample s = dataset.get((int) ord[p]);
            Tensor img = s.image();
            if (shape == null) shape = img.shape();
            else if (!Arrays.equals(shape, img.shape()))
                throw new IllegalStateException("item " + ord[p] + " has shape " + Arrays.toString(img.shape()) + ", batch has " + Arrays.toString(shape));
            if (hflip && img.dim() == 3 && Rng.uniform(epochRng.seed(), n + (long) p) < 0.5) img = flipW(img);
            images.add(img);
            labels[j] = s.label();
            captions.add(s.caption());
        }
        Batch batch = new Batch(stack(images, shape), labels, java.util.Collections.unmodifiableList(captions), epoch, position);
        position += b;
        if (!hasNextInEpoch()) { // eager roll-over: a state saved at an epoch boundary reads (epoch + 1, 0)
            epoch++;
            position = 0;
        }
        return batch;
    }

    /** Returns the remaining batches of the current epoch (all of it when at its start), advancing to the next epoch. */
    public List<Batch> restOfEpoch() {
        List<Batch> out = new ArrayList<>();
        int e = epoch();
        do out.add(next());
        while (epoch == e);
        return out;
    }

    /** The item order of epoch {@code e}. */
    public long[] order(int e) {
        if (e == orderEpoch) return order;
        int n = dataset.size();
        long[] ord;
        if (shuffle) ord = Tensor.randperm(epochRng(e), n).toLongArray();
        else {
            ord = new long[n];
            for (int i = 0; i < n; i++) ord[i] = i;
        }
        order = ord;
        orderEpoch = e;
        return ord;
    }

    private Rng epochRng(int e) {
        return new Rng(seed).fork(e);
    }

    private static Tensor flipW(Tensor img) {
        int c = img.size(0), h = img.size(1), w = img.size(2);
        float[] a = img.contiguous().toFloatArray();
        float[] o = new float[a.length];
        for (int p = 0; p < c * h; p++)
            for (int x = 0; x < w; x++) o[p * w + x] = a[p * w + w - 1 - x];
        return Tensor.of(o, c, h, w);
    }

    private static Tensor stack(List<Tensor> items, int[] shape) {
        int per = 1;
        for (int d : shape) per *= d;
        float[] out = new float[items.size() * per];
        for (int i = 0; i < items.size(); i++) System.arraycopy(items.get(i).contiguous().toFloatArray(), 0, out, i * per, per);
        int[] bs = new int[shape.length + 1];
        bs[0] = items.size();
        System.arraycopy(shape, 0, bs, 1, shape.length);
        return Tensor.of(out, bs);
    }
}
