package io.tunefleet.common.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Progress;

/** What a service's record handler is given: configuration, blob store, producer, topics, metrics. */
public record ServiceContext(String service, String instanceId, FleetConfig config, BlobStore blobs,
    FleetProducer producer, Topics topics, MeterRegistry registry, JobStates jobStates) {

  public ServiceContext(String service, String instanceId, FleetConfig config, BlobStore blobs, FleetProducer producer,
      Topics topics, MeterRegistry registry) {
    this(service, instanceId, config, blobs, producer, topics, registry, new JobStates(registry));
  }

  /** Publishes a job status from this service (asynchronously; flushed before the next commit). */
  public void status(String jobId, JobStatus.State state, String message) {
    status(JobStatus.newBuilder().setJobId(jobId).setState(state).setMessage(message));
  }

  public void status(String jobId, JobStatus.State state, String message, Progress progress) {
    status(JobStatus.newBuilder().setJobId(jobId).setState(state).setMessage(message).setProgress(progress));
  }

  public void status(JobStatus.Builder status) {
    jobStates.record(status.getJobId(), status.getState());
    producer.send(topics.status, status.getJobId(), status.setService(service + "/" + instanceId)
        .setTimestampMs(System.currentTimeMillis()).build());
  }
}
