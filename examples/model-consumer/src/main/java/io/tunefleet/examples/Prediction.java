package io.tunefleet.examples;

import java.util.Arrays;
import java.util.stream.Collectors;

/** What {@link ModelConsumer} says about one image: the class it predicts and the softmax over all classes. */
public record Prediction(String job, String model, int predictedClass, String className, double[] probabilities) {

  /** One line of JSON: {@code {"job":…,"model":"student","predicted_class":…,"class_name":…,"probabilities":[…]}}. */
  public String toJson() {
    String probs = Arrays.stream(probabilities).mapToObj(Double::toString).collect(Collectors.joining(","));
    return "{\"job\":" + quote(job) + ",\"model\":" + quote(model) + ",\"predicted_class\":" + predictedClass
        + ",\"class_name\":" + quote(className) + ",\"probabilities\":[" + probs + "]}";
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
      }
    }
    return b.append('"').toString();
  }
}
