package io.tunefleet.evaluator;

import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.common.service.ServiceLauncher;
import io.tunefleet.common.service.ServiceVerticle;
import io.tunefleet.ml.train.CpuPartition;
import java.util.List;

/** The evaluator service: checkpoints in, verdicts (metrics, best so far, early stopping) out. */
public final class EvaluatorVerticle extends ServiceVerticle {
  public static final String NAME = "evaluator";

  @Override
  protected String serviceName() {
    return NAME;
  }

  @Override
  protected List<String> topics(Topics topics) {
    return List.of(topics.checkpoints);
  }

  @Override
  protected RecordHandler createHandler(ServiceContext context) {
    // libtorch work of every service in this JVM runs on one thread (see ml TorchThread); the handler hands over
    // only that part, so its metrics, plots, t-SNE and events leave the torch thread to the other services
    CpuPartition.apply(); // FLEET_TORCH_CPUS: a bad CPU list stops the service here, not at its first record
    return new EvaluatorHandler(context);
  }

  public static void main(String[] args) {
    ServiceLauncher.run(new EvaluatorVerticle());
  }
}
