package io.tunefleet.ml.data;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Where a photo dataset's files live, seen as a tree of named files: a local folder ({@link LocalDatasetFiles})
 * or object storage (an {@code s3://} prefix, in the data-augmenter). A location is the store's own name for a file or folder (an
 * absolute path, an {@code s3://BUCKET/KEY} URI). The index of a job keeps locations, never pixels: images are opened
 * and decoded when a batch is made.
 */
public interface DatasetFiles {
  /** The folders directly inside {@code folder}, sorted by name. */
  List<String> folders(String folder) throws IOException;

  /** Every file under {@code folder}, at any depth, sorted by location. */
  List<String> files(String folder) throws IOException;

  /** The location of {@code relative} (a path with '/' separators) taken from {@code folder}. */
  String resolve(String folder, String relative);

  /** The last name of a location: the file or folder name. */
  String name(String location);

  /** The folder holding a location (a manifest's folder, which its relative paths start from). */
  String parent(String location);

  /** Whether the location is a file that can be opened. */
  boolean isFile(String location) throws IOException;

  /** Whether the location is a folder: a directory, or a prefix with at least one object under it. */
  boolean isFolder(String location) throws IOException;

  /** The file's bytes, as a stream; refused when the location lies outside what the store may serve. */
  InputStream open(String location) throws IOException;

  /** The file's size in bytes. */
  long size(String location) throws IOException;

  /** Up to {@code length} bytes from {@code offset} (fewer at the end of the file): a ranged read, as object stores serve. */
  default byte[] read(String location, long offset, int length) throws IOException {
    try (InputStream in = open(location)) {
      in.skipNBytes(offset);
      return in.readNBytes(length);
    }
  }

  /** The whole file. */
  default byte[] read(String location) throws IOException {
    try (InputStream in = open(location)) {
      return in.readAllBytes();
    }
  }
}
