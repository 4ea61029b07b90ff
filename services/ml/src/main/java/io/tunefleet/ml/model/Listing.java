package io.tunefleet.ml.model;

import java.util.List;

/** Names in an error message: the first few, then how many more, so a message stays readable. */
final class Listing {
  private Listing() {}

  static String of(List<String> items, int shown) {
    if (items.size() <= shown) {
      return String.join(", ", items);
    }
    return String.join(", ", items.subList(0, shown)) + " and " + (items.size() - shown) + " more";
  }
}
