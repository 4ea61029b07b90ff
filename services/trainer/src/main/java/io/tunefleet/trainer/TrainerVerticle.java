package io.tunefleet.trainer;

import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.common.service.ServiceLauncher;
import io.tunefleet.common.service.ServiceVerticle;
import io.tunefleet.training.PhaseTrainer;
import io.tunefleet.ml.train.CpuPartition;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.Phase;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The trainer service: consumes TRAIN batches (and the evaluator's verdicts, to stop early), fine-tunes
 * and publishes a checkpoint per epoch. Replicas share jobs through the consumer group: a job's
 * partition, and so the job, belongs to one replica at a time.
 */
public final class TrainerVerticle extends ServiceVerticle {
  public static final String NAME = "trainer";

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
    CpuPartition.apply(); // FLEET_TORCH_CPUS: a bad CPU list stops the service here, not at its first record
    PhaseTrainer trainer = new PhaseTrainer(context, Phase.TRAIN);
    // libtorch work of every service in this JVM on one thread: see TorchThread
    return new Handler(context, trainer).runningOn(TorchThread::call);
  }

  /** Routes batches and verdicts to the {@link PhaseTrainer}. */
  private record Handler(ServiceContext ctx, PhaseTrainer trainer) implements RecordHandler, AutoCloseable {
    @Override
    public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception {
      if (record.topic().equals(ctx.topics().batches)) {
        trainer.onBatch(record, BatchRef.parseFrom(record.value()), context);
      } else {
        trainer.onEvaluation(Evaluation.parseFrom(record.value()), context);
      }
    }

    @Override
    public void onRevoked(Collection<TopicPartition> partitions) {
      trainer.onRevoked(partitions);
    }

    @Override
    public void close() {
      trainer.close();
    }
  }

  public static void main(String[] args) {
    ServiceLauncher.run(new TrainerVerticle());
  }
}
