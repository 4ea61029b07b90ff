package io.tunefleet.common.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tunefleet.proto.v1.JobStatus;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latest state this service reported for each job, exported as {@code fleet_jobs{state=…}}: the
 * number of jobs in each state as this replica last saw them (a dashboard takes the max over replicas).
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

  void record(String job, JobStatus.State state) {
    if (state != JobStatus.State.WARNING) {
      latest.put(job, state);
    }
  }
}
