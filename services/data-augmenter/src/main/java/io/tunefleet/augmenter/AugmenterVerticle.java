package io.tunefleet.augmenter;

import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.common.service.ServiceLauncher;
import io.tunefleet.common.service.ServiceVerticle;
import java.util.List;

/** The data-augmenter service: training requests and evaluations in, augmented batches out. */
public final class AugmenterVerticle extends ServiceVerticle {
  public static final String NAME = "data-augmenter";

  @Override
  protected String serviceName() {
    return NAME;
  }

  @Override
  protected List<String> topics(Topics topics) {
    return List.of(topics.requests, topics.evaluations);
  }

  @Override
  protected RecordHandler createHandler(ServiceContext context) {
    return new AugmenterHandler(context);
  }

  public static void main(String[] args) {
    ServiceLauncher.run(new AugmenterVerticle());
  }
}
