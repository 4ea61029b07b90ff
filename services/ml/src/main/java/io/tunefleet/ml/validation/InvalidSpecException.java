package io.tunefleet.ml.validation;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when a specification has one or more bad fields; carries every problem at once. */
public final class InvalidSpecException extends RuntimeException {
  private final List<FieldProblem> problems;

  public InvalidSpecException(List<FieldProblem> problems) {
    super(problems.stream().map(FieldProblem::toString).collect(Collectors.joining("; ")));
    this.problems = List.copyOf(problems);
  }

  public InvalidSpecException(String field, String problem) {
    this(List.of(new FieldProblem(field, problem)));
  }

  public List<FieldProblem> problems() {
    return problems;
  }
}
