package io.tunefleet.distiller;

import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.common.service.ServiceLauncher;
import io.tunefleet.common.service.ServiceVerticle;
import io.tunefleet.ml.train.CpuPartition;
import io.tunefleet.ml.train.TorchThread;
import java.util.List;

/**
 * The distiller service: once the teacher's training ends, trains the smaller student on the
 * augmenter's DISTILL batches with the knowledge-distillation loss, and publishes the finished models.
 */
public final class DistillerVerticle extends ServiceVerticle {
  public static final String NAME = "distiller";

  @Override
  protected String serviceName() {
    return NAME;
  }

  @Override
  protected List<String> topics(Topics topics) {
    return List.of(topics.batches, topics.evaluations);
  }

  @Override
  protected RecordHandler createHandler(ServiceContext context) {
    // libtorch work of every service in this JVM on one thread: see TorchThread
    CpuPartition.apply(); // FLEET_TORCH_CPUS: a bad CPU list stops the service here, not at its first record
    return new DistillerHandler(context).runningOn(TorchThread::call);
  }

  public static void main(String[] args) {
    ServiceLauncher.run(new DistillerVerticle());
  }
}
