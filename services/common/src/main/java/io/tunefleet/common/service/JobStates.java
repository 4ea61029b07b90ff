package io.tunefleet.common.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tunefleet.proto.v1.JobStatus;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this replica handles, by the state it last reported for them, exported as
 * {@code fleet_jobs{state=…}}. A job leaves the count when the replica's part in it is done (terminal
 * states, FINISHED and FAILED, stay counted where they were reported).
 */
public final class JobStates {
  private final Map<String, JobStatus.State> latest = new ConcurrentHashMap<>();

  public JobStates(MeterRegistry registry) {
    for (JobStatus.State state : JobStatus.State.values()) {
      if (state == JobStatus.State.STATE_UNSPECIFIED || state == JobStatus.State.UNRECOGNIZED) {
        continue;
      }
      Gauge.builder("fleet.jobs", latest, m -> m.values().stream().filter(state::equals).count())
          .description("Jobs by the state this service last reported for them")
          .tag("state", state.name().toLowerCase(Locale.ROOT)).register(registry);
    }
  }

  /** This replica no longer handles the job (its part is done, or the job moved to another replica). */
  public void forget(String job) {
    latest.remove(job);
  }

  void record(String job, JobStatus.State state) {
    if (state != JobStatus.State.WARNING) {
      latest.put(job, state);
    }
  }
}
