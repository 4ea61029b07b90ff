package io.tunefleet.cli;

import io.tunefleet.augmenter.AugmenterVerticle;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.service.ServiceLauncher;
import io.tunefleet.distiller.DistillerVerticle;
import io.tunefleet.evaluator.EvaluatorVerticle;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.TrainingRequest;
import io.tunefleet.trainer.TrainerVerticle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The `fleet` command: the services, local mode and the client commands. The benchmarks and ablations are
 * subcommands that the launcher in services/bench adds, so that the services' image carries none of them.
 */
@Command(name = "fleet", mixinStandardHelpOptions = true, version = "TuneFleet 0.1.0",
    description = "Fine-tunes ResNet image classifiers with a fleet of Kafka services.",
    subcommands = {Fleet.Demo.class, Fleet.Up.class, Fleet.Run.class, Fleet.Submit.class, Fleet.Status.class,
        Fleet.Watch.class, Fleet.Models.class, Fleet.Pretrain.class, Fleet.Config.class})
public final class Fleet implements Callable<Integer> {
  /** The demo's base model: pretrained by the fleet on the even Fashion-MNIST classes (`fleet pretrain`). */
  public static final Path BASE_MODEL = Path.of("datasets/models/fmnist-even-resnet10-w16.model");
  static final Path PRETRAIN_REQUEST = Path.of("datasets/requests/pretrain-even-classes.json");
  public static final Path DEMO_REQUEST = Path.of("datasets/requests/demo-odd-classes.json");

  public static void main(String[] args) {
    System.exit(execute(commandLine(), args));
  }

  /** The command with its own subcommands; a launcher may add more with {@code addSubcommand} before {@link #execute}. */
  public static CommandLine commandLine() {
    return new CommandLine(new Fleet()).setExecutionExceptionHandler((e, cmd, parse) -> {
      cmd.getErr().println("fleet: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
  }

  /** Runs {@code args}; every subcommand, those added by a launcher too, answers {@code --help} with its usage. */
  public static int execute(CommandLine fleet, String... args) {
    System.setProperty("ai.djl.offline", "true");
    for (CommandLine command : fleet.getSubcommands().values()) {
      command.getCommandSpec().mixinStandardHelpOptions(true);
    }
    return fleet.execute(args);
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** The configuration from the environment (FLEET_* variables). */
  public static FleetConfig config() {
    return FleetConfig.fromEnvironment();
  }

  /** Options shared by the client commands. */
  static class ClientOptions {
    @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: FLEET_BOOTSTRAP_SERVERS, else the local fleet)")
    String bootstrap;

    FleetClient client() throws Exception {
      return new FleetClient(FleetClient.resolve(config(), bootstrap));
    }
  }

  @Command(name = "demo", description = "Runs the whole fleet locally on Fashion-MNIST and prints the finished-model event as JSON.")
  static final class Demo implements Callable<Integer> {
    @Option(names = "--request", description = "The fine-tuning request (default ${DEFAULT-VALUE})")
    Path request = DEMO_REQUEST;

    @Override
    public Integer call() throws Exception {
      long start = System.nanoTime();
      System.err.println("fleet demo: starting an embedded Kafka broker and the four services ...");
      try (LocalFleet fleet = LocalFleet.start(config(), true); FleetClient client = new FleetClient(fleet.config())) {
        System.err.println("fleet demo: broker " + fleet.bootstrapServers() + "; metrics on :9401-9404/metrics");
        if (!Files.exists(BASE_MODEL)) {
          System.err.println("fleet demo: no base model at " + BASE_MODEL + "; pretraining it first (even classes)");
          pretrain(client);
        }
        TrainingRequest r = FleetClient.parseRequest(Files.readString(request, StandardCharsets.UTF_8));
        if (r.getJobId().isEmpty()) {
          r = r.toBuilder().setJobId("demo-" + System.currentTimeMillis() / 1000).build();
        }
        client.submit(r);
        System.err.println("fleet demo: submitted job " + r.getJobId() + " (fine-tune " + BASE_MODEL + " on the odd classes)");
        JobWatcher.Outcome outcome = new JobWatcher(client, System.err).watch(r.getJobId(), Duration.ofMinutes(30));
        System.err.printf("fleet demo: done in %.0f s%n", (System.nanoTime() - start) / 1e9);
        if (!outcome.succeeded()) {
          return 1;
        }
        System.out.println(FleetClient.json(outcome.finished()));
        return 0;
      }
    }
  }

  /** Trains the demo's base model through the fleet and keeps its teacher as {@link #BASE_MODEL}. */
  static ModelFinished pretrain(FleetClient client) throws Exception {
    TrainingRequest r = FleetClient.parseRequest(Files.readString(PRETRAIN_REQUEST, StandardCharsets.UTF_8));
    r = client.submit(r.toBuilder().setJobId("pretrain-" + System.currentTimeMillis() / 1000).build());
    JobWatcher.Outcome outcome = new JobWatcher(client, System.err).watch(r.getJobId(), Duration.ofMinutes(30));
    if (!outcome.succeeded()) {
      throw new IllegalStateException("pretraining failed: " + outcome.lastStatus().getMessage());
    }
    Path model = Path.of(java.net.URI.create(outcome.finished().getTeacher().getModel().getUri()));
    Files.createDirectories(BASE_MODEL.getParent());
    Files.copy(model, BASE_MODEL, StandardCopyOption.REPLACE_EXISTING);
    System.err.println("fleet: base model written to " + BASE_MODEL);
    return outcome.finished();
  }

  @Command(name = "pretrain", description = "Trains the demo's base model (Fashion-MNIST even classes) with a local fleet.")
  static final class Pretrain implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      try (LocalFleet fleet = LocalFleet.start(config(), true); FleetClient client = new FleetClient(fleet.config())) {
        System.out.println(FleetClient.json(pretrain(client)));
        return 0;
      }
    }
  }

  @Command(name = "up", description = "Starts the broker (unless FLEET_BOOTSTRAP_SERVERS is set) and all four services; Ctrl-C stops them.")
  static final class Up implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      LocalFleet fleet = LocalFleet.start(config(), true);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        System.err.println("fleet: stopping ...");
        fleet.close();
        stopped.countDown();
      }));
      System.err.println("fleet: up. Kafka at " + fleet.bootstrapServers() + "; metrics on http://localhost:9401..9404/metrics; "
          + "submit with `./fleet submit FILE`; Ctrl-C stops everything.");
      stopped.await();
      return 0;
    }
  }

  @Command(name = "run", description = "Runs one service on its own: data-augmenter, trainer, evaluator or distiller.")
  static final class Run implements Callable<Integer> {
    @Parameters(index = "0", description = "The service")
    String service;

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: FLEET_BOOTSTRAP_SERVERS, else the local fleet)")
    String bootstrap;

    @Override
    public Integer call() throws Exception {
      FleetConfig config = FleetClient.resolve(config(), bootstrap);
      io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject()
          .put(FleetConfig.BOOTSTRAP_SERVERS.key(), config.bootstrapServers());
      switch (service) {
        case AugmenterVerticle.NAME -> ServiceLauncher.run(new AugmenterVerticle(), json);
        case TrainerVerticle.NAME -> ServiceLauncher.run(new TrainerVerticle(), json);
        case EvaluatorVerticle.NAME -> ServiceLauncher.run(new EvaluatorVerticle(), json);
        case DistillerVerticle.NAME -> ServiceLauncher.run(new DistillerVerticle(), json);
        default -> throw new CommandLine.ParameterException(new CommandLine(this),
            "unknown service '" + service + "'; one of " + LocalFleet.SERVICES.keySet());
      }
      return 0;
    }
  }

  @Command(name = "submit", description = "Publishes a training request (JSON) and prints its job id.")
  static final class Submit implements Callable<Integer> {
    @Parameters(index = "0", description = "The request, as JSON (protobuf's JSON mapping of fleet.v1.TrainingRequest)")
    Path file;

    @CommandLine.Mixin
    ClientOptions options = new ClientOptions();

    @Override
    public Integer call() throws Exception {
      TrainingRequest r = FleetClient.parseRequest(Files.readString(file, StandardCharsets.UTF_8));
      try (FleetClient client = options.client()) {
        System.out.println(client.submit(r).getJobId());
      }
      return 0;
    }
  }

  @Command(name = "status", description = "Prints a job's statuses and verdicts so far, one JSON object per line.")
  static final class Status implements Callable<Integer> {
    @Parameters(index = "0")
    String job;

    @CommandLine.Mixin
    ClientOptions options = new ClientOptions();

    @Override
    public Integer call() throws Exception {
      try (FleetClient client = options.client()) {
        List<ConsumerRecord<String, byte[]>> records = client.readAll(job,
            List.of(client.topics().status, client.topics().evaluations, client.topics().models));
        if (records.isEmpty()) {
          System.err.println("fleet: no events for job " + job);
          return 1;
        }
        records.sort(java.util.Comparator.comparingLong(ConsumerRecord::timestamp));
        for (ConsumerRecord<String, byte[]> r : records) {
          String kind = r.topic().substring(r.topic().lastIndexOf('.') + 1);
          System.out.println("{\"" + kind + "\":" + FleetClient.json(client.decode(r)) + "}");
        }
        return 0;
      }
    }
  }

  @Command(name = "watch", description = "Shows a job's live progress until it finishes or fails.")
  static final class Watch implements Callable<Integer> {
    @Parameters(index = "0")
    String job;

    @CommandLine.Mixin
    ClientOptions options = new ClientOptions();

    @Override
    public Integer call() throws Exception {
      try (FleetClient client = options.client()) {
        JobWatcher.Outcome o = new JobWatcher(client, System.out).watch(job, Duration.ofDays(7));
        return o.succeeded() ? 0 : 1;
      }
    }
  }

  @Command(name = "models", description = "Prints the finished-model events, one JSON object per line.")
  static final class Models implements Callable<Integer> {
    @CommandLine.Mixin
    ClientOptions options = new ClientOptions();

    @Override
    public Integer call() throws Exception {
      try (FleetClient client = options.client()) {
        for (ConsumerRecord<String, byte[]> r : client.readAll(null, List.of(client.topics().models))) {
          System.out.println(FleetClient.json(client.decode(r)));
        }
      }
      return 0;
    }
  }

  @Command(name = "config", description = "Lists every configuration variable the services read, with defaults.")
  static final class Config implements Callable<Integer> {
    @Override
    public Integer call() {
      System.out.print(FleetConfig.describe());
      return 0;
    }
  }
}
