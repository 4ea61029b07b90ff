package io.tunefleet.ml.augment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Albumentations {@code MotionBlur}: convolves with a normalised line kernel. The kernel size is an
 * odd number drawn from [blurMin, blurLimit]; the line joins two random points of the kernel, drawn
 * with OpenCV's 8-connected {@code cv2.line}; without {@code allowShifted} it is moved so that its
 * midpoint is the kernel centre (Albumentations' {@code allow_shifted=False}). The image is filtered
 * like {@code cv2.filter2D} (correlation, anchor at the centre, BORDER_REFLECT_101) with the sum of
 * the n line pixels divided by n and rounded half to even. Where that sum sits exactly half-way
 * between two outputs and 1/n is not exact in binary (n = 6, 10, 12, ...), the pixel is recomputed
 * the way OpenCV's SIMD filter does it (float32 fused multiply-adds of the float32 weight 1/n, in
 * kernel row-major order). The result is bit-exact with {@code cv2.filter2D} for kernels up to
 * 11x11; from 13x13 OpenCV filters through a DFT, and half-way sums may then round either way.
 * Default blur limit (3, 7), allow_shifted = true, p = 0.5 (Albumentations 1.x).
 */
public final class MotionBlur extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;
  public static final int DEFAULT_BLUR_MIN = 3;
  public static final int DEFAULT_BLUR_LIMIT = 7;
  public static final int MAX_BLUR_LIMIT = 31;

  private static final VarHandle BYTES_AS_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long EVEN_BYTES = 0x00FF00FF00FF00FFL;
  private static final long EVEN_SHORTS = 0x0000FFFF0000FFFFL;
  private static final long LOW_BYTE_OF_INTS = 0x000000FF000000FFL;
  private static final long ONE_PER_INT = 0x0000000100000001L;

  /**
   * Division by the line length n without a divide: (2s + n) * MULTIPLIER[n] >>> SHIFT[n] is
   * floor((2s + n) / 2n), i.e. s / n rounded half up, for every sum s of n 8-bit pixels (checked
   * exhaustively below); applied to two 32-bit lanes of a long at once (see Divisor). Powers of
   * two round half to even with a shift instead, and the half-way sums of other even n are redone
   * afterwards.
   */
  private static final int[] MULTIPLIER = new int[MAX_BLUR_LIMIT + 1];
  private static final int[] SHIFT = new int[MAX_BLUR_LIMIT + 1];

  static {
    for (int n = 1; n <= MAX_BLUR_LIMIT; n++) {
      int shift = 14 + (32 - Integer.numberOfLeadingZeros(2 * n));
      int multiplier = (int) (((1L << shift) + 2 * n - 1) / (2 * n));
      for (int s = 0; s <= 255 * n; s++) {
        if (((2 * s + n) * multiplier >>> shift) != (2 * s + n) / (2 * n)) {
          throw new AssertionError("no exact reciprocal for n = " + n);
        }
      }
      MULTIPLIER[n] = multiplier;
      SHIFT[n] = shift;
    }
  }

  private final KernelSizes sizes;
  private final boolean allowShifted;

  public MotionBlur(int blurMin, int blurLimit, boolean allowShifted, double p) {
    super(p);
    this.sizes = KernelSizes.odd(blurMin, blurLimit, MAX_BLUR_LIMIT);
    this.allowShifted = allowShifted;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return filter(image, randomKernel(rng));
  }

  /** The kernel as a ksize x ksize mask (row-major, true = on the line), drawn like Albumentations. */
  boolean[] randomKernel(SplittableRandom rng) {
    int ksize = sizes.draw(rng);
    int x1 = rng.nextInt(ksize);
    int x2 = rng.nextInt(ksize);
    int y1;
    int y2;
    if (x1 == x2) {
      // random.sample(range(ksize), 2): two distinct rows, so the line is never a single dot.
      y1 = rng.nextInt(ksize);
      y2 = rng.nextInt(ksize - 1);
      if (y2 >= y1) {
        y2++;
      }
    } else {
      y1 = rng.nextInt(ksize);
      y2 = rng.nextInt(ksize);
    }
    if (!allowShifted) {
      int[] xs = centred(x1, x2, ksize);
      int[] ys = centred(y1, y2, ksize);
      x1 = xs[0];
      x2 = xs[1];
      y1 = ys[0];
      y2 = ys[1];
    }
    return lineKernel(ksize, x1, y1, x2, y2);
  }

  /** Albumentations' make_odd_val followed by the shift that puts the segment's midpoint at the centre. */
  private static int[] centred(int v1, int v2, int ksize) {
    if ((Math.abs(v1 - v2) + 1) % 2 != 1) {
      if (v2 > v1) {
        v2--;
      } else {
        v1--;
      }
    }
    int shift = (v1 + v2) / 2 - (ksize - 1) / 2;
    return new int[] {v1 - shift, v2 - shift};
  }

  /**
   * {@code cv2.line(kernel, (x1, y1), (x2, y2), 1, thickness=1)} with LINE_8: OpenCV's
   * left-to-right Bresenham walk (cv::LineIterator), including its tie-breaking.
   */
  static boolean[] lineKernel(int ksize, int x1, int y1, int x2, int y2) {
    boolean[] mask = new boolean[ksize * ksize];
    if (x2 < x1) {
      int t = x1;
      x1 = x2;
      x2 = t;
      t = y1;
      y1 = y2;
      y2 = t;
    }
    int dx = x2 - x1;
    int dy = y2 - y1;
    int stepY = dy < 0 ? -1 : 1;
    dy = Math.abs(dy);
    boolean steep = dy > dx;
    int major = steep ? dy : dx;
    int minor = steep ? dx : dy;
    int err = major - 2 * minor;
    int x = x1;
    int y = y1;
    for (int i = 0; i <= major; i++) {
      mask[y * ksize + x] = true;
      boolean minorStep = err < 0;
      err += -2 * minor + (minorStep ? 2 * major : 0);
      if (steep) {
        y += stepY;
        if (minorStep) {
          x++;
        }
      } else {
        x++;
        if (minorStep) {
          y += stepY;
        }
      }
    }
    return mask;
  }

  /**
   * {@code cv2.filter2D(img, -1, mask / mask.sum())}, rounding half to even.
   *
   * <p>SWAR on longs, the form HotSpot 17 vectorises (byte-to-int widening and int-to-byte
   * narrowing loops it does not): each tap reads eight bytes of a padded source row at the tap's
   * byte offset and adds them to two sums of four 16-bit lanes, bytes 0, 2, 4, 6 and bytes 1, 3, 5,
   * 7 (a 16-bit lane holds up to 257 8-bit pixels). The division spreads those again into 32-bit
   * lanes, two per long, where the reciprocal multiply fits without carrying into the next lane.
   */
  static ImageU8 filter(ImageU8 src, boolean[] mask) {
    int ksize = (int) Math.round(Math.sqrt(mask.length));
    int r = ksize / 2;
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int n = w * c;
    int count = 0;
    for (boolean on : mask) {
      if (on) {
        count++;
      }
    }
    // Taps grouped by kernel row: tapOffsets[ky] holds kx * channels for each pixel on the line.
    int[][] tapOffsets = new int[ksize][];
    for (int ky = 0; ky < ksize; ky++) {
      int m = 0;
      for (int kx = 0; kx < ksize; kx++) {
        if (mask[ky * ksize + kx]) {
          m++;
        }
      }
      tapOffsets[ky] = new int[m];
      m = 0;
      for (int kx = 0; kx < ksize; kx++) {
        if (mask[ky * ksize + kx]) {
          tapOffsets[ky][m++] = kx * c;
        }
      }
    }
    int longs = (n + 7) >>> 3;
    // Ring of the padded rows y - r .. y + r, slot (padded row + r) mod ksize, with room for whole
    // 8-byte reads at every tap offset.
    byte[][] rows = new byte[ksize][longs * 8 + (ksize - 1) * c];
    long[] evenSums = new long[longs];
    long[] oddSums = new long[longs];
    byte[] rowOut = new byte[longs * 8];
    byte[] remainders = new byte[longs * 8];
    byte[] out = new byte[h * n];
    Divisor divisor = new Divisor(count, longs);
    for (int py = -r; py < r; py++) {
      Border.paddedBytes(src, Border.reflect101(py, h), r, r, false, rows[py + r], 0);
    }
    for (int y = 0; y < h; y++) {
      int newest = y + r;
      Border.paddedBytes(src, Border.reflect101(newest, h), r, r, false, rows[(newest + r) % ksize], 0);
      Arrays.fill(evenSums, 0L);
      Arrays.fill(oddSums, 0L);
      for (int ky = 0; ky < ksize; ky++) {
        byte[] row = rows[(y + ky) % ksize];
        for (int off : tapOffsets[ky]) {
          addTap(row, off, evenSums, oddSums, longs);
        }
      }
      divisor.divide(evenSums, oddSums, longs, rowOut);
      System.arraycopy(rowOut, 0, out, y * n, n);
      if (divisor.halfWays) {
        divisor.remainders(evenSums, oddSums, longs, remainders);
        for (int i = 0; i < n; i++) {
          if (remainders[i] == 0) {
            out[y * n + i] = halfWay(rows, tapOffsets, y, i, divisor.weight);
          }
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  /** Adds the eight bytes at row[off + 8i ..] to the 16-bit lanes of evenSums[i] and oddSums[i]. */
  private static void addTap(byte[] row, int off, long[] evenSums, long[] oddSums, int longs) {
    for (int i = 0; i < longs; i++) {
      long x = (long) BYTES_AS_LONG.get(row, off + i * 8);
      evenSums[i] += x & EVEN_BYTES;
      oddSums[i] += (x >>> 8) & EVEN_BYTES;
    }
  }

  /**
   * Division of the 16-bit lane sums by the line length n. Each half of a long of sums (its low or
   * high shorts, {@code half} = 0 or 16) is spread into two 32-bit lanes, where the division runs
   * two lanes at a time; per long of sums, the low half gives output bytes 0, 1, 4, 5 and the high
   * half bytes 2, 3, 6, 7. The halves run as separate loops: one loop over all four would be too
   * large for HotSpot to unroll, and so to vectorise.
   */
  private static final class Divisor {
    final boolean halfWays;
    final float weight;
    private final boolean powerOfTwo;
    private final int log2;
    private final long halfLanes;
    private final long tieLanes;
    private final long countLanes;
    private final long twiceCount;
    private final long multiplier;
    private final int shift;
    /** Scratch: the quotients (or remainders) of the low and the high halves. */
    private final long[] low;
    private final long[] high;

    Divisor(int count, int longs) {
      low = new long[longs];
      high = new long[longs];
      powerOfTwo = Integer.bitCount(count) == 1;
      log2 = Integer.numberOfTrailingZeros(count);
      // Exact weights: round half to even, (s + n/2 - 1 + (s / n is odd)) / n.
      halfLanes = ((count >>> 1) - (count > 1 ? 1 : 0)) * ONE_PER_INT;
      tieLanes = count > 1 ? ONE_PER_INT : 0;
      countLanes = count * ONE_PER_INT;
      twiceCount = 2L * count;
      multiplier = MULTIPLIER[count];
      shift = SHIFT[count];
      halfWays = count % 2 == 0 && !powerOfTwo;
      weight = 1.0f / count;
    }

    /** The rounded quotients as bytes, eight per long of sums, into quotients[0 .. 8 * longs). */
    void divide(long[] evenSums, long[] oddSums, int longs, byte[] quotients) {
      if (powerOfTwo) {
        shifted(evenSums, oddSums, 0, longs, low);
        shifted(evenSums, oddSums, 16, longs, high);
      } else {
        multiplied(evenSums, oddSums, 0, longs, low);
        multiplied(evenSums, oddSums, 16, longs, high);
      }
      join(low, high, longs, quotients);
    }

    /**
     * (2s + n) - 2n * quotient for each sum, as bytes: 0 marks a sum exactly half-way between two
     * outputs. Follows {@link #divide} of the same sums (for an n that is not a power of two).
     */
    void remainders(long[] evenSums, long[] oddSums, int longs, byte[] remainders) {
      remainders(evenSums, oddSums, 0, longs, low);
      remainders(evenSums, oddSums, 16, longs, high);
      join(low, high, longs, remainders);
    }

    /** Division by a power of two, rounded half to even. */
    private void shifted(long[] evenSums, long[] oddSums, int half, int longs, long[] dst) {
      for (int i = 0; i < longs; i++) {
        long e = (evenSums[i] >>> half) & EVEN_SHORTS;
        long o = (oddSums[i] >>> half) & EVEN_SHORTS;
        dst[i] = ((e + halfLanes + ((e >>> log2) & tieLanes)) >>> log2 & LOW_BYTE_OF_INTS)
            | ((o + halfLanes + ((o >>> log2) & tieLanes)) >>> log2 & LOW_BYTE_OF_INTS) << 8;
      }
    }

    /**
     * Rounded half up by the reciprocal multiply: (2s + n) * MULTIPLIER stays below 2^29, so the
     * low lane's product never reaches the high lane, and the bits the shift brings down from the
     * high lane land above the low lane's byte.
     */
    private void multiplied(long[] evenSums, long[] oddSums, int half, int longs, long[] dst) {
      for (int i = 0; i < longs; i++) {
        long e = (evenSums[i] >>> half) & EVEN_SHORTS;
        long o = (oddSums[i] >>> half) & EVEN_SHORTS;
        dst[i] = (((e << 1) + countLanes) * multiplier >>> shift & LOW_BYTE_OF_INTS)
            | (((o << 1) + countLanes) * multiplier >>> shift & LOW_BYTE_OF_INTS) << 8;
      }
    }

    /** Replaces the quotients in dst (as {@link #multiplied} left them) by the remainders. */
    private void remainders(long[] evenSums, long[] oddSums, int half, int longs, long[] dst) {
      for (int i = 0; i < longs; i++) {
        long e = (evenSums[i] >>> half) & EVEN_SHORTS;
        long o = (oddSums[i] >>> half) & EVEN_SHORTS;
        long q = dst[i];
        dst[i] = ((e << 1) + countLanes - (q & LOW_BYTE_OF_INTS) * twiceCount)
            | ((o << 1) + countLanes - ((q >>> 8) & LOW_BYTE_OF_INTS) * twiceCount) << 8;
      }
    }

    /** Output bytes 0, 1, 4, 5 from low, and 2, 3, 6, 7 from high, which holds them 16 bits down. */
    private static void join(long[] low, long[] high, int longs, byte[] dst) {
      for (int i = 0; i < longs; i++) {
        BYTES_AS_LONG.set(dst, i * 8, low[i] | high[i] << 16);
      }
    }
  }

  /**
   * A half-way sum the way OpenCV's SIMD filter2D computes it: float32 fused multiply-adds of the
   * float32 weight 1/n, in kernel row-major order, rounded half to even.
   */
  private static byte halfWay(byte[][] rows, int[][] tapOffsets, int y, int i, float weight) {
    int ksize = tapOffsets.length;
    float s = 0f;
    for (int ky = 0; ky < ksize; ky++) {
      byte[] row = rows[(y + ky) % ksize];
      for (int off : tapOffsets[ky]) {
        s = Math.fma((float) (row[off + i] & 0xFF), weight, s);
      }
    }
    return (byte) (int) Math.rint(s);
  }

  @Override
  public String toString() {
    return "MotionBlur(" + sizes + ", allow_shifted=" + allowShifted + ", p=" + p() + ")";
  }
}
