package io.tunefleet.common.config;

import java.util.function.Function;

/**
 * One configuration setting: its key (also the environment variable, {@code FLEET_*}), what it is for,
 * its default and a validator returning a problem or null. Every setting a service reads is one of these.
 */
public record Setting(String key, String description, String defaultValue, Function<String, String> validator) {

  public static Setting string(String key, String description, String defaultValue) {
    return new Setting(key, description, defaultValue, v -> null);
  }

  public static Setting integer(String key, String description, int defaultValue, int min, int max) {
    return new Setting(key, description, Integer.toString(defaultValue), v -> {
      try {
        int i = Integer.parseInt(v.trim());
        return i < min || i > max ? "must be in " + min + ".." + max + ", was " + i : null;
      } catch (NumberFormatException e) {
        return "must be an integer, was '" + v + "'";
      }
    });
  }

  public static Setting oneOf(String key, String description, String defaultValue, String... allowed) {
    return new Setting(key, description, defaultValue, v -> java.util.Arrays.asList(allowed).contains(v) ? null
        : "must be one of " + String.join(", ", allowed) + ", was '" + v + "'");
  }
}
