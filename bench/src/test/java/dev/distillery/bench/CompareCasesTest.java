package dev.distillery.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The Java and PyTorch case registries of bench/compare name the same cases in the same order. */
class CompareCasesTest {
    @Test
    void javaRegistryHasTheAgreedCases() {
        List<String> names = new ArrayList<>(CompareCases.all().keySet());
        assertEquals(List.of("gemm-256", "gemm-512", "gemm-1024", "gemm-2048", "conv-fwd-64x32", "conv-fwdbwd-64x32",
                "conv-fwdbwd-128x16", "groupnorm", "attention-fwdbwd", "silu-16m"), names.subList(0, 10));
        for (var c : CompareCases.all().values())
            assertTrue(c.spec().flops() > 0 || c.spec().bytes() > 0, c.name());
        assertThrows(IllegalArgumentException.class, () -> CompareCases.get("nope"));
    }

    @Test
    void torchPeerRegistersTheSameNames() throws IOException {
        Path py = Path.of("peers/torch_cases.py");
        if (!Files.exists(py)) py = Path.of("bench/peers/torch_cases.py");
        String src = Files.readString(py);
        int start = src.indexOf("CASES = {");
        assertTrue(start >= 0, "no CASES dict in " + py);
        String dict = src.substring(start, src.indexOf("\n}", start));
        List<String> pyNames = new ArrayList<>();
        Matcher m = Pattern.compile("^\\s*\"([^\"]+)\"\\s*:", Pattern.MULTILINE).matcher(dict);
        while (m.find()) pyNames.add(m.group(1));
        assertEquals(new ArrayList<>(CompareCases.all().keySet()), pyNames, "CASES in " + py + " vs CompareCases");
    }
}
