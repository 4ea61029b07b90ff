package io.tunefleet.bench;

import io.tunefleet.cli.Fleet;
import java.util.List;
import picocli.CommandLine;

/**
 * The `fleet` command of a source checkout (the `fleet` script runs it): the product's commands plus the
 * benchmarks and ablations, which the services' image leaves out.
 */
public final class FleetWithBenchmarks {
  private FleetWithBenchmarks() {}

  public static void main(String[] args) {
    System.exit(Fleet.execute(commandLine(), args));
  }

  /** {@link Fleet#commandLine()} with the benchmark and ablation subcommands added. */
  static CommandLine commandLine() {
    CommandLine fleet = Fleet.commandLine();
    for (Object command : List.of(new Bench(), new TorchBench(), new MemoryBench(), new NeighbourBench(),
        new AugmentBench(), new PhotoBench(), new PhotoMemoryBench(), new ExportBench(), new Ablate(),
        new Parity())) {
      fleet.addSubcommand(command);
    }
    return fleet;
  }
}
