package io.tunefleet.ml.validation;

/** One problem with one field of a request, named so that a person can fix it. */
public record FieldProblem(String field, String problem) {
  @Override
  public String toString() {
    return field + ": " + problem;
  }
}
