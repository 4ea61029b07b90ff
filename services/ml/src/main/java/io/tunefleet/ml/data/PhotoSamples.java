package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A photo dataset as an index: each entry's location, label, source index and size from its header. Pixels
 * are read and decoded when {@link #image} is called (a batch being made), so a job holds file names, not
 * images.
 */
public final class PhotoSamples implements Samples {
  /** One photo: where it is, its class, its position in the source, and its upright size. */
  public record Entry(String location, int label, int sourceIndex, int height, int width) {}

  private final DatasetFiles files;
  private final List<Entry> entries;
  private final List<String> classNames;
  private final int[] labels;
  private final int[] sourceIndex;

  public PhotoSamples(DatasetFiles files, List<Entry> entries, List<String> classNames) {
    this.files = files;
    this.entries = List.copyOf(entries);
    this.classNames = List.copyOf(classNames);
    this.labels = this.entries.stream().mapToInt(Entry::label).toArray();
    this.sourceIndex = this.entries.stream().mapToInt(Entry::sourceIndex).toArray();
  }

  public List<Entry> entries() {
    return entries;
  }

  @Override
  public List<String> classNames() {
    return classNames;
  }

  @Override
  public int size() {
    return entries.size();
  }

  @Override
  public int[] labels() {
    return labels.clone();
  }

  @Override
  public int[] sourceIndex() {
    return sourceIndex.clone();
  }

  @Override
  public ImageU8 image(int position) {
    String location = entries.get(position).location();
    try {
      return PhotoDecoder.decode(files.read(location), location);
    } catch (UnreadableImageException e) {
      throw new UncheckedIOException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(new UnreadableImageException(location + " cannot be read: " + e.getMessage()));
    }
  }

  /** The photo at {@code position}, not yet decoded: its size from the header, its pixels region by region. */
  public io.tunefleet.ml.augment.RegionSource source(int position) {
    Entry e = entries.get(position);
    return new io.tunefleet.ml.augment.RegionSource() {
      @Override
      public int height() {
        return e.height();
      }

      @Override
      public int width() {
        return e.width();
      }

      @Override
      public ImageU8 region(int y, int x, int h, int w) {
        try {
          return PhotoDecoder.decodeRegion(files.read(e.location()), e.location(), y, x, h, w);
        } catch (UnreadableImageException ex) {
          throw new UncheckedIOException(ex);
        } catch (IOException ex) {
          throw new UncheckedIOException(new UnreadableImageException(e.location() + " cannot be read: " + ex.getMessage()));
        }
      }

      @Override
      public ImageU8 whole() {
        return image(position);
      }
    };
  }

  @Override
  public PhotoSamples subset(int[] positions) {
    Entry[] out = new Entry[positions.length];
    for (int i = 0; i < positions.length; i++) {
      out[i] = entries.get(positions[i]);
    }
    return new PhotoSamples(files, List.of(out), classNames);
  }

  /** The side of the square every photo has, or 0 when their sizes differ or are not square. */
  public int squareSize() {
    int side = entries.isEmpty() ? 0 : entries.get(0).height();
    for (Entry e : entries) {
      if (e.height() != side || e.width() != side) {
        return 0;
      }
    }
    return side;
  }
}
