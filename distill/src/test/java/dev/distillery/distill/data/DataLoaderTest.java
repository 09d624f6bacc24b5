package dev.distillery.distill.data;

import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class DataLoaderTest {
    /** Item i is a [2, 2, 3] image whose values are i * 100 + k (k = 0..11), label i, caption "c" + i. */
    static final class Indexed implements Dataset {
        final int n;

        Indexed(int n) {
            this.n = n;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public Sample get(int i) {
            float[] v = new float[12];
            for (int k = 0; k < 12; k++) v[k] = i * 100 + k;
            return new Sample(Tensor.of(v, 2, 2, 3), i, "c" + i);
        }
    }

    private static List<float[]> take(DataLoader dl, int batches) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < batches; i++) out.add(dl.next().images().toFloatArray());
        return out;
    }

    private static void assertSameBatches(List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "batch " + i);
    }

    @Test
    void sameSeedSameBatchesAcrossEpochs() {
        Dataset ds = new Indexed(10);
        List<float[]> a = take(new DataLoader(ds, 4, true, false, true, 42), 9);
        List<float[]> b = take(new DataLoader(ds, 4, true, false, true, 42), 9);
        assertSameBatches(a, b);
        List<float[]> c = take(new DataLoader(ds, 4, true, false, true, 43), 9);
        boolean differs = false;
        for (int i = 0; i < 9; i++) differs |= !Arrays.equals(a.get(i), c.get(i));
        assertTrue(differs);
    }

    @Test
    void eachEpochIsAPermutationWithBatchShapesAndLabels() {
        Dataset ds = new Indexed(10);
        DataLoader dl = new DataLoader(ds, 4, 5);
        assertEquals(3, dl.batchesPerEpoch());
        long[] first = null;
        for (int e = 0; e < 3; e++) {
            Set<Long> seen = new HashSet<>();
            List<Long> order = new ArrayList<>();
            int[] sizes = new int[3];
            for (int b = 0; b < 3; b++) {
                DataLoader.Batch batch = dl.next();
                assertEquals(e, batch.epoch());
                sizes[b] = batch.size();
                assertArrayEquals(new int[]{batch.size(), 2, 2, 3}, batch.images().shape());
                for (int j = 0; j < batch.size(); j++) {
                    long lab = batch.labels()[j];
                    assertEquals(lab * 100 + 5, batch.images().get(j, 0, 1, 2), 0); // no flips: item intact
                    assertEquals("c" + lab, batch.captions().get(j));
                    seen.add(lab);
                    order.add(lab);
                }
            }
            assertArrayEquals(new int[]{4, 4, 2}, sizes);
            assertEquals(10, seen.size());
            long[] o = order.stream().mapToLong(Long::longValue).toArray();
            assertArrayEquals(dl.order(e), o);
            if (first == null) first = o;
            else assertFalse(Arrays.equals(first, o), "epochs reshuffle");
        }
        assertEquals(3, dl.epoch());
    }

    @Test
    void resumeFromSavedStateGivesTheSameRemainingBatches() {
        Dataset ds = new Indexed(11);
        DataLoader ref = new DataLoader(ds, 3, true, true, true, 9);
        List<float[]> all = take(ref, 10); // 3 batches per epoch (dropLast): crosses epochs
        for (int cut : new int[]{0, 2, 3, 7}) {
            DataLoader a = new DataLoader(ds, 3, true, true, true, 9);
            take(a, cut);
            String saved = a.state().encode();
            DataLoader b = new DataLoader(ds, 3, true, true, true, 9);
            b.restore(DataLoader.State.decode(saved));
            assertSameBatches(all.subList(cut, 10), take(b, 10 - cut));
        }
        DataLoader other = new DataLoader(ds, 3, 10);
        assertThrows(IllegalArgumentException.class, () -> other.restore(new DataLoader.State(9, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.State.decode("epoch=1"));
    }

    @Test
    void horizontalFlipReversesWidthForAboutHalfTheItems() {
        Dataset ds = new Indexed(200);
        DataLoader dl = new DataLoader(ds, 50, false, false, true, 1);
        int flipped = 0;
        for (int b = 0; b < 4; b++) {
            DataLoader.Batch batch = dl.next();
            float[] v = batch.images().toFloatArray();
            for (int j = 0; j < batch.size(); j++) {
                long lab = batch.labels()[j];
                assertEquals(b * 50 + j, lab); // no shuffle: identity order
                float[] item = Arrays.copyOfRange(v, j * 12, (j + 1) * 12);
                float[] plain = new float[12], flip = new float[12];
                for (int k = 0; k < 12; k++) {
                    plain[k] = lab * 100 + k;
                    int row = k / 3, x = k % 3;
                    flip[k] = lab * 100 + row * 3 + (2 - x);
                }
                if (Arrays.equals(item, flip)) flipped++;
                else assertArrayEquals(plain, item);
            }
        }
        assertTrue(flipped > 70 && flipped < 130, "flipped " + flipped);
        // points (rank-1 samples) are batched to [B, D] and never flipped
        DataLoader pts = new DataLoader(Toy2d.dataset(Toy2d.Kind.RING8, 7, 2), 4, true, false, true, 3);
        assertArrayEquals(new int[]{4, 2}, pts.next().images().shape());
        assertArrayEquals(new int[]{3, 2}, pts.next().images().shape());
    }

    @Test
    void restOfEpochAndArgumentChecks() {
        DataLoader dl = new DataLoader(new Indexed(5), 2, 0);
        assertEquals(3, dl.restOfEpoch().size());
        assertEquals(3, dl.restOfEpoch().size());
        assertEquals(2, dl.epoch());
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(new Indexed(5), 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(new Indexed(2), 3, true, true, false, 0));
    }
}
