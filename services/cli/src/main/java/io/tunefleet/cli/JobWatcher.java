package io.tunefleet.cli;

import com.google.protobuf.Message;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Progress;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Follows one job's status, evaluations and finished-model events and draws a progress bar:
 * phase, epoch, step, loss, and the last validation accuracy and macro-F1.
 */
public final class JobWatcher {
  /** How a watched job ended. */
  public record Outcome(JobStatus lastStatus, ModelFinished finished) {
    public boolean succeeded() {
      return finished != null;
    }
  }

  private final FleetClient client;
  private final PrintStream out;
  private final boolean interactive;
  private Evaluation lastEval;
  private Progress lastProgress;
  private String lastLine = "";

  public JobWatcher(FleetClient client, PrintStream out) {
    this.client = client;
    this.out = out;
    this.interactive = System.console() != null;
  }

  /** Watches until the job finishes (a finished-model event) or fails, or the timeout passes. */
  public Outcome watch(String job, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    JobStatus last = null;
    ModelFinished finished = null;
    try (KafkaConsumer<String, byte[]> consumer = client.consumerFor(job,
        List.of(client.topics().status, client.topics().evaluations, client.topics().models))) {
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
          if (!job.equals(r.key())) {
            continue;
          }
          Message m = client.decode(r);
          if (m instanceof JobStatus s) {
            last = s;
            onStatus(s);
          } else if (m instanceof Evaluation e) {
            lastEval = e;
            render(job);
            line(String.format("evaluated %s epoch %d: accuracy %.4f, macro-F1 %.4f -> %s", phase(e.getPhase()),
                e.getEpoch() + 1, e.getMetrics().getAccuracy(), e.getMetrics().getMacroF1(), e.getVerdict()));
          } else if (m instanceof ModelFinished f) {
            finished = f;
          }
        }
        if (finished != null && last != null && last.getState() == JobStatus.State.FINISHED) {
          endLine();
          line("FINISHED: " + last.getMessage());
          return new Outcome(last, finished);
        }
        if (last != null && last.getState() == JobStatus.State.FAILED) {
          endLine();
          line("FAILED: " + last.getMessage());
          return new Outcome(last, null);
        }
      }
    }
    endLine();
    throw new IllegalStateException("job " + job + " did not finish within " + timeout);
  }

  private void onStatus(JobStatus s) {
    switch (s.getState()) {
      case TRAINING, DISTILLING -> {
        if (s.getProgress().getStepInEpoch() == 0) {
          // a replica took the job up (started, or resumed after a handover): worth a line of its own
          line(s.getState() + " (" + s.getService() + "): " + s.getMessage());
          return;
        }
        lastProgress = s.getProgress();
        render(s.getJobId());
      }
      default -> line(s.getState() + " (" + s.getService() + "): " + s.getMessage());
    }
  }

  private void render(String job) {
    if (lastProgress == null) {
      return;
    }
    Progress p = lastProgress;
    double done = p.getStepsInEpoch() == 0 ? 0 : (double) p.getStepInEpoch() / p.getStepsInEpoch();
    int width = 24;
    int filled = (int) Math.round(done * width);
    String bar = "#".repeat(filled) + "-".repeat(width - filled);
    String eval = lastEval == null ? "" : String.format(" | val acc %.3f F1 %.3f", lastEval.getMetrics().getAccuracy(),
        lastEval.getMetrics().getMacroF1());
    String text = String.format("%s %-7s epoch %d/%d [%s] step %d/%d loss %.4f %.0f img/s%s", job, phase(p.getPhase()),
        p.getEpoch() + 1, p.getEpochsPlanned(), bar, p.getStepInEpoch(), p.getStepsInEpoch(), p.getLoss(), p.getImagesPerS(), eval);
    if (interactive) {
      out.print("\r" + text + "   ");
      lastLine = text;
    } else if (p.getStepInEpoch() == p.getStepsInEpoch()) {
      out.println(text);
    }
    out.flush();
  }

  private void line(String text) {
    endLine();
    out.println(text);
    out.flush();
  }

  private void endLine() {
    if (interactive && !lastLine.isEmpty()) {
      out.println();
      lastLine = "";
    }
  }

  private static String phase(Phase p) {
    return p == Phase.DISTILL ? "distill" : "train";
  }
}
