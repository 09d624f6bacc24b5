package dev.distillery.distill.text;

import dev.distillery.autograd.NoGrad;
import dev.distillery.autograd.Variable;
import dev.distillery.distill.disback.WeightsDigest;
import dev.distillery.distill.score.DistillConfig;
import dev.distillery.distill.score.EdmTextUNetNet;
import dev.distillery.distill.score.GeneratorLoss;
import dev.distillery.distill.score.NoiseLevels;
import dev.distillery.distill.score.ScoreDistiller;
import dev.distillery.distill.score.TargetScore;
import dev.distillery.models.text.ClipTokenizer;
import dev.distillery.tensor.DType;
import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Prompt embeddings as conditioning, and classifier-free guidance on the target only. */
class PromptConditionsTest {
    static Tensor denoise(EdmTextUNetNet net, Tensor x, double[] sigma, Tensor cond) {
        try (var g = NoGrad.enter()) {
            return net.denoise(Variable.constant(x), sigma, cond).value();
        }
    }

    static double maxDiff(Tensor a, Tensor b) {
        return a.sub(b).abs().max().item();
    }

    @Test
    void promptsAreEncodedOnceAndSampledByIndex(@TempDir Path tmp) throws IOException {
        PromptConditions pc = TextFixtures.prompts(tmp);
        Tensor e = pc.embeddings();
        assertArrayEquals(new int[]{3, TextFixtures.MAX_TOKENS, TextFixtures.CONTEXT}, e.shape(), "[P, L, D], L capped at the encoder's positions");
        assertArrayEquals(new int[]{1, TextFixtures.MAX_TOKENS, TextFixtures.CONTEXT}, pc.emptyEmbedding().shape());
        // the encoder's last_hidden_state of the same tokens, computed independently
        ClipTokenizer tok = TextFixtures.tokenizer(tmp.resolve("tok2"));
        int[] ids = tok.encode("the blue sea");
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        Tensor direct;
        try (var g = NoGrad.enter()) {
            direct = TextFixtures.textEncoder(3).forward(Tensor.ofLongs(l, 1, l.length)).lastHiddenState().value();
        }
        assertEquals(0, maxDiff(direct, e.narrow(0, 1, 1)), "row 1 is prompt 1's last_hidden_state");
        assertNotEquals(0, maxDiff(e.narrow(0, 0, 1), e.narrow(0, 1, 1)), "different prompts, different embeddings");
        // the sampler draws uniform indices from the stream and gathers rows
        Tensor batch = pc.sampler().sample(new Rng(5), 16);
        long[] idx = Tensor.randint(new Rng(5), 0, 3, 16).toLongArray();
        for (int i = 0; i < 16; i++) assertEquals(0, maxDiff(batch.narrow(0, i, 1), e.narrow(0, (int) idx[i], 1)), "row " + i);
        // evaluation: sample i gets evaluation prompt i mod E
        Tensor ev = pc.evaluation(5);
        assertEquals(0, maxDiff(ev.narrow(0, 3, 1), pc.evalEmbeddings().narrow(0, 1, 1)));
        assertEquals(0, maxDiff(pc.evalEmbeddings().narrow(0, 1, 1), e.narrow(0, 1, 1)), "the same prompt encodes the same way in both lists");
        Tensor u = pc.unconditional(batch);
        assertArrayEquals(batch.shape(), u.shape());
        for (int i = 0; i < 16; i++) assertEquals(0, maxDiff(u.narrow(0, i, 1), pc.emptyEmbedding()));
        assertNull(pc.guidance(1), "w = 1 needs no unconditional branch");
        assertThrows(IllegalArgumentException.class, () -> PromptConditions.encode(tok, TextFixtures.textEncoder(3), List.of(), List.of("x")));
    }

    @Test
    void guidanceOnTheTargetInterpolatesBetweenTheEmptyPromptAndThePrompt(@TempDir Path tmp) throws IOException {
        PromptConditions pc = TextFixtures.prompts(tmp);
        EdmTextUNetNet net = TextFixtures.edmNet(21);
        Tensor cond = pc.sampler().sample(new Rng(1), 4);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 4, TextFixtures.CHANNELS, TextFixtures.SIZE, TextFixtures.SIZE);
        double[] sigma = {0.2, 0.9, 3, 20};
        Tensor c = denoise(net, x, sigma, cond), u = denoise(net, x, sigma, pc.unconditional(cond));
        assertTrue(maxDiff(c, u) > 1e-4, "the prompt matters to the tiny UNet");
        assertEquals(0, maxDiff(c, TargetScore.of(net, pc.guidance(1)).denoise(x, sigma, cond)), "w = 1: the conditional prediction");
        assertEquals(0, maxDiff(u, TargetScore.of(net, pc.guidance(0)).denoise(x, sigma, cond)), "w = 0: the empty prompt's prediction");
        Tensor w3 = TargetScore.of(net, pc.guidance(3)).denoise(x, sigma, cond);
        assertTrue(maxDiff(u.add(c.sub(u).mul(3)), w3) < 1e-5, "w = 3: D_u + 3 (D_c - D_u)");
    }

    static DistillConfig config(double guidance) {
        NoiseLevels levels = new NoiseLevels.LogNormal(-1.2, 1.2);
        return new DistillConfig(GeneratorLoss.parse("di"), levels, levels, 4, 1e-3, 1e-3, 0, 0.999, 0, 1, false, 0, 0, 1.0, guidance, 11);
    }

    @Test
    void theFakeScoreNeverSeesGuidance(@TempDir Path tmp) throws IOException {
        PromptConditions pc = TextFixtures.prompts(tmp);
        EdmTextUNetNet teacher = TextFixtures.edmNet(31);
        String teacherDigest = WeightsDigest.of(teacher.module());
        ScoreDistiller plain = new ScoreDistiller(config(1), teacher.copy(), teacher.copy(), pc.sampler());
        ScoreDistiller guided = new ScoreDistiller(config(4), teacher.copy(), teacher.copy(), pc.sampler());
        ScoreDistiller.IterationResult a = plain.iteration(0, TargetScore.of(teacher, pc.guidance(1)));
        ScoreDistiller.IterationResult b = guided.iteration(0, TargetScore.of(teacher, pc.guidance(4)));
        // DI order: the fake step runs first on the same samples, and its DSM loss does not involve the target
        assertEquals(a.fakeLoss(), b.fakeLoss(), "the fake score's DSM loss is the same at every guidance scale");
        assertEquals(WeightsDigest.of(plain.fake().module()), WeightsDigest.of(guided.fake().module()), "and so is its update");
        assertNotEquals(a.generatorLoss(), b.generatorLoss(), "the target (teacher) is guided, so the generator's pull differs");
        assertNotEquals(WeightsDigest.of(plain.generator().net().module()), WeightsDigest.of(guided.generator().net().module()));
        assertEquals(teacherDigest, WeightsDigest.of(teacher.module()), "the teacher is only read");
    }
}
