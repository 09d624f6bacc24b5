package dev.distillery.distill.cli;

import dev.distillery.distill.disback.DisBackExperiment;
import dev.distillery.distill.disback.DistillRunConfig;
import dev.distillery.distill.teacher.Teachers;
import dev.distillery.distill.text.DiffusersTextTeacher;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code distillery disback-experiment}: B0, B0+, DisBack and the warm-fake ablation over several seeds (spec disback.md §6). */
@Command(name = "disback-experiment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the DisBack comparison of spec section 6 on a trained teacher: baseline B0, compute-matched baseline B0+,",
                "DisBack D and the warm-fake ablation A1, for each seed; write runs/, curves PNGs, results.jsonl and results.md into --out.",
                "Re-running with the same --out reuses finished runs and resumes interrupted ones."})
final class DisBackExperimentCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--teacher", paramLabel = "RUN_DIR", required = true, description = "Run directory of a train-teacher run, or a diffusers text-to-image pipeline folder with --prompts.") Path teacher;
    @CommandLine.Mixin Distill.Options opts;
    @Option(names = "--seeds", defaultValue = "0,1,2", split = ",", description = "Seeds. Default: ${DEFAULT-VALUE}.") long[] seeds;
    @Option(names = "--tail", defaultValue = "5", description = "Evaluations averaged for a run's final metric. Default: ${DEFAULT-VALUE}.") int tail;
    @Option(names = {"--out", "-o"}, paramLabel = "DIR", required = true, description = "Output directory.") Path out;
    @CommandLine.Mixin DeviceOption deviceOpt;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        DistillRunConfig cfg = opts.config(teacher, Main.commandString(spec));
        try {
            cfg.validate();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        if (tail < 1) throw new ParameterException(cl, "--tail must be >= 1, got " + tail);
        dev.distillery.tensor.Device device = deviceOpt.resolve();
        PrintStream log = new PrintStream(System.err, true);
        Path md;
        if (DiffusersTextTeacher.isPipelineFolder(teacher)) {
            Distill.TextTeacher tt = Distill.textTeacher(cl, teacher, opts.prompts, cfg);
            tt.net().module().to(device); // the text encoder stays on the host (prompts are encoded once)
            md = DisBackExperiment.run(cfg, tt.net(), tt.prompts(), tt.evaluator(), seeds, tail, out, log);
        } else {
            if (opts.prompts != null) throw new ParameterException(cl, "--prompts is for text-conditional teachers (a diffusers pipeline folder); " + teacher + " is a train-teacher run");
            Teachers.Loaded lt = Teachers.load(teacher);
            lt.net().module().to(device); // every run of every arm trains where the teacher is
            md = DisBackExperiment.run(cfg, lt.net(), Distill.evaluator(lt, cfg), seeds, tail, out, log);
        }
        cl.getOut().println("Seeds " + Arrays.toString(seeds) + " done. Results: " + md);
        cl.getOut().println(java.nio.file.Files.readString(md));
        return 0;
    }
}
