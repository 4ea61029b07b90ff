package io.tunefleet.training;

import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;

/** What differs between training a teacher and distilling a student: names, states and metric prefix. */
record PhaseRole(Phase phase, String metricPrefix, JobStatus.State activeState, String activity, String verbing) {

  static PhaseRole of(Phase phase) {
    return switch (phase) {
      case TRAIN -> new PhaseRole(phase, "fleet.trainer", JobStatus.State.TRAINING, "training", "training");
      case DISTILL -> new PhaseRole(phase, "fleet.distiller", JobStatus.State.DISTILLING, "distillation", "distilling");
      default -> throw new IllegalArgumentException("no training phase " + phase);
    };
  }
}
