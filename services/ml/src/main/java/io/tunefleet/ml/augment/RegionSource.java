package io.tunefleet.ml.augment;

/**
 * An image not yet decoded whose size is known (a photo's header): the training crop asks it for the region it
 * drew, so that a photo decoder can stop at the region's last row and convert only its pixels. The region must
 * be the very pixels of the whole image's crop.
 */
public interface RegionSource {
  int height();

  int width();

  /** The pixels of rows {@code y..y+h-1}, columns {@code x..x+w-1}, as the decoded whole image would have them. */
  ImageU8 region(int y, int x, int h, int w);

  /** The whole image. */
  ImageU8 whole();
}
