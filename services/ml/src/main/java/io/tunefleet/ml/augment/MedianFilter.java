package io.tunefleet.ml.augment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Exact 8-bit median filters with BORDER_REPLICATE, equal to {@code cv2.medianBlur(img, ksize)}.
 *
 * <p>Up to 7x7: comparator networks on 8-bit values packed eight to a {@code long} (SWAR min/max)
 * in long arrays, which HotSpot 17 vectorises. Output rows go in pairs, whose windows share k - 1
 * source rows: per pair, the shared columns are sorted once and neighbouring sorted columns merged
 * into sorted pairs (work shared by every window containing them), and a merge network pruned to
 * the ranks that can still become the median (see {@link SelectionNetwork}) leaves k + 1 candidates
 * per window; each row then sorts the k pixels of its one remaining source row and takes the median
 * of those and the candidates. Per output row that is (1 + 3 + 6) / 2 + 1 + 2 + 6 = 14,
 * (5 + 9 + 46) / 2 + 1 + 7 + 10 = 48 and (12 + 17 + 130) / 2 + 1 + 13 + 14 = 107.5 comparators for
 * 3x3, 5x5 and 7x7 (one row at a time with the whole window merged, it was 17, 78 and 179).
 *
 * <p>9x9 to 15x15: a bit-sliced radix selection. Each {@code long} holds one bit of 64 neighbouring
 * outputs (the row's bytes in HWC order), and for each bit from the top a carry-save adder tree
 * counts, lane by lane, how many window values still tied with the median's prefix have a 0 there;
 * comparing that count with the remaining rank decides the median's bit.
 */
final class MedianFilter {
  private static final VarHandle BYTES_AS_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private MedianFilter() {}

  /** Largest aperture served by comparator networks; larger ones use the bit-sliced selection. */
  private static final int MAX_NETWORK_KSIZE = 7;
  private static final SelectionNetwork[] COLUMN_SORT = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];
  private static final SelectionNetwork[] PAIR_MERGE = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];
  private static final SelectionNetwork[] CANDIDATES = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];
  private static final SelectionNetwork[] ROW_SORT = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];
  private static final SelectionNetwork[] WINDOW_MEDIAN = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];

  static {
    for (int k = 3; k <= MAX_NETWORK_KSIZE; k += 2) {
      int r = k / 2;
      int median = (k * k - 1) / 2;
      // The k - 1 rows two neighbouring output rows share: k - 1 = 2r values per column.
      COLUMN_SORT[k] = SelectionNetwork.sorting(2 * r);
      PAIR_MERGE[k] = SelectionNetwork.forSortedGroups(new int[] {2 * r, 2 * r}, 0, 4 * r - 1);
      // Shared block: r sorted column pairs and one sorted column. Of its k(k - 1) values only
      // ranks median - k .. median can be a window's median once the k values of the row that
      // completes the window are added; below and above them lie median - k values each.
      int[] shared = new int[r + 1];
      Arrays.fill(shared, 4 * r);
      shared[r] = 2 * r;
      CANDIDATES[k] = SelectionNetwork.forSortedGroups(shared, median - k, median);
      // The k pixels of the output row's own source row, sorted from r sorted pixel pairs and one
      // pixel; the window's median is the median (rank k) of them and the k + 1 candidates.
      int[] own = new int[r + 1];
      Arrays.fill(own, 2);
      own[r] = 1;
      ROW_SORT[k] = SelectionNetwork.forSortedGroups(own, 0, k - 1);
      WINDOW_MEDIAN[k] = SelectionNetwork.forSortedGroups(new int[] {k + 1, k}, k, k);
    }
  }

  private static final long HIGH_BITS = 0x8080808080808080L;
  /**
   * About how many bytes of padded band row each network pass runs over (see medianNetwork). A
   * 224-pixel RGB row alone is 84 longs, short enough for each pass's fixed cost and scalar tail to
   * show, so several bands run side by side even though the wires then leave L1 (measured with
   * {@code AugmentBench}, BENCHMARKS.md "Augmentation ops"). At 32x32 one row is only 12 longs.
   */
  private static final int BAND_ROW_BYTES = 2800;

  static ImageU8 median(ImageU8 src, int ksize) {
    if (ksize < 3 || ksize % 2 == 0 || ksize > 15) {
      throw new IllegalArgumentException("median kernel size must be odd in [3, 15], was " + ksize);
    }
    return ksize <= MAX_NETWORK_KSIZE ? medianNetwork(src, ksize) : medianBitSliced(src, ksize);
  }

  /**
   * Output rows in pairs y, y + 1, whose windows share the k - 1 source rows y - r + 1 .. y + r.
   * For those shared rows, once per pair: sort each column, merge neighbouring sorted columns into
   * sorted pairs (both shared by all the windows that contain them), and select the k + 1 median
   * candidates of each shared block with a pruned merge network on shifted views of the pairs. Each
   * output row then sorts the k pixels of its own source row (y - r, or y + r + 1) in each window,
   * from sorted pixel pairs and one pixel, and takes the median of those and its candidates: the
   * median - k shared values below the candidates and the median - k above them are each on one
   * side of the window's median, so dropping them in pairs leaves it the median of the 2k + 1.
   * Values stay 8-bit, eight to a long (SWAR min/max), in long arrays that HotSpot vectorises;
   * shifts by whole bytes go through byte arrays.
   */
  static ImageU8 medianNetwork(ImageU8 src, int k) {
    SelectionNetwork sort = COLUMN_SORT[k];
    SelectionNetwork pairs = PAIR_MERGE[k];
    SelectionNetwork candidates = CANDIDATES[k];
    SelectionNetwork rowSort = ROW_SORT[k];
    SelectionNetwork select = WINDOW_MEDIAN[k];
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int r = k / 2;
    int median = (k * k - 1) / 2;
    int rowLen = w * c;
    // A band row holds row t of each of `bands` horizontal bands of the image side by side, each
    // padded by r pixels, so that every pass over the long arrays is long enough to run at vector
    // speed: band b's padded row starts at byte b * bandStride, and its output at the same offset.
    int bandStride = (w + 2 * r) * c;
    int bands = Math.max(1, Math.min((h + 1) / 2, BAND_ROW_BYTES / bandStride));
    int bandHeight = (h + bands - 1) / bands;
    int paddedLen = bands * bandStride;
    int paddedLongs = (paddedLen + 7) >>> 3;
    int outLongs = ((bands - 1) * bandStride + rowLen + 7) >>> 3;
    // Byte buffers have room for whole-long reads at every shift used.
    int bytesLen = paddedLongs * 8 + 8 + c;
    byte[] out = new byte[h * rowLen];
    byte[] resultBytes = new byte[outLongs * 8];
    // Padded band rows t, slot (t + r) % (k + 1), as bytes and as longs.
    byte[][] ringBytes = new byte[k + 1][bytesLen];
    long[][] ring = new long[k + 1][paddedLongs];
    long[][] columnWires = new long[2 * r][paddedLongs];
    byte[][] sortedBytes = new byte[2 * r][bytesLen];
    long[][] pairWires = new long[2 * pairs.groupStride][paddedLongs];
    byte[][] pairBytes = new byte[4 * r][bytesLen];
    long[][] sharedWires = new long[(r + 1) * candidates.groupStride][outLongs];
    long[][] ownPair = new long[2][paddedLongs];
    byte[][] ownPairBytes = new byte[2][bytesLen];
    long[][] rowWires = new long[(r + 1) * rowSort.groupStride][outLongs];
    long[][] windowWires = new long[2 * select.groupStride][outLongs];
    for (int py = -r; py < r; py++) {
      padBandRow(src, py, r, bands, bandHeight, ringBytes[py + r], ring[py + r]);
    }
    for (int y = 0; y < bandHeight; y += 2) {
      for (int py = y + r; py <= y + r + 1; py++) {
        int slot = (py + r) % (k + 1);
        padBandRow(src, py, r, bands, bandHeight, ringBytes[slot], ring[slot]);
      }
      for (int dy = 0; dy < 2 * r; dy++) {
        System.arraycopy(ring[(y + 1 + dy) % (k + 1)], 0, columnWires[dy], 0, paddedLongs);
      }
      run(sort, columnWires, paddedLongs);
      for (int rank = 0; rank < 2 * r; rank++) {
        toBytes(columnWires[sort.output[rank]], paddedLongs, sortedBytes[rank]);
      }
      // Sorted pairs of columns (x, x + 1), for every padded x.
      for (int rank = 0; rank < 2 * r; rank++) {
        fromBytes(sortedBytes[rank], 0, pairWires[rank], paddedLongs);
        fromBytes(sortedBytes[rank], c, pairWires[pairs.groupStride + rank], paddedLongs);
      }
      run(pairs, pairWires, paddedLongs);
      for (int rank = 0; rank < 4 * r; rank++) {
        toBytes(pairWires[pairs.output[rank]], paddedLongs, pairBytes[rank]);
      }
      // Shared block of output x: column pairs starting at x-r, x-r+2, ..., and the column x+r.
      for (int g = 0; g < r; g++) {
        for (int rank = 0; rank < 4 * r; rank++) {
          fromBytes(pairBytes[rank], 2 * g * c, sharedWires[g * candidates.groupStride + rank], outLongs);
        }
      }
      for (int rank = 0; rank < 2 * r; rank++) {
        fromBytes(sortedBytes[rank], 2 * r * c, sharedWires[r * candidates.groupStride + rank], outLongs);
      }
      run(candidates, sharedWires, outLongs);
      for (int oy = y; oy < Math.min(y + 2, bandHeight); oy++) {
        // The output row's own source row: y - r above the shared rows, y + 1 + r below them.
        int slot = (oy == y ? y : y + 2 * r + 1) % (k + 1);
        System.arraycopy(ring[slot], 0, ownPair[0], 0, paddedLongs);
        fromBytes(ringBytes[slot], c, ownPair[1], paddedLongs);
        minMax(ownPair[0], ownPair[1], paddedLongs);
        toBytes(ownPair[0], paddedLongs, ownPairBytes[0]);
        toBytes(ownPair[1], paddedLongs, ownPairBytes[1]);
        for (int g = 0; g < r; g++) {
          for (int rank = 0; rank < 2; rank++) {
            fromBytes(ownPairBytes[rank], 2 * g * c, rowWires[g * rowSort.groupStride + rank], outLongs);
          }
        }
        fromBytes(ringBytes[slot], 2 * r * c, rowWires[r * rowSort.groupStride], outLongs);
        run(rowSort, rowWires, outLongs);
        for (int rank = 0; rank <= k; rank++) {
          long[] candidate = sharedWires[candidates.output[median - k + rank]];
          System.arraycopy(candidate, 0, windowWires[rank], 0, outLongs);
        }
        for (int rank = 0; rank < k; rank++) {
          long[] own = rowWires[rowSort.output[rank]];
          System.arraycopy(own, 0, windowWires[select.groupStride + rank], 0, outLongs);
        }
        run(select, windowWires, outLongs);
        toBytes(windowWires[select.output[k]], outLongs, resultBytes);
        for (int b = 0; b < bands && b * bandHeight + oy < h; b++) {
          System.arraycopy(resultBytes, b * bandStride, out, (b * bandHeight + oy) * rowLen, rowLen);
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  private static void toBytes(long[] src, int n, byte[] dst) {
    for (int i = 0; i < n; i++) {
      BYTES_AS_LONG.set(dst, i * 8, src[i]);
    }
  }

  /** n longs read from bytes starting at byte offset: a shift by whole bytes. */
  private static void fromBytes(byte[] src, int offset, long[] dst, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] = (long) BYTES_AS_LONG.get(src, offset + i * 8);
    }
  }

  /**
   * Band row t: row t of each band (source rows b * bandHeight + t, replicated past the image's
   * edges), each replicate-padded by r pixels, as bytes and read into longs (eight bytes,
   * little-endian, per long).
   */
  private static void padBandRow(ImageU8 src, int t, int r, int bands, int bandHeight, byte[] padded,
      long[] dst) {
    int bandStride = (src.width() + 2 * r) * src.channels();
    for (int b = 0; b < bands; b++) {
      Border.paddedBytes(src, Border.replicate(b * bandHeight + t, src.height()), r, r, true, padded,
          b * bandStride);
    }
    fromBytes(padded, 0, dst, dst.length);
  }

  private static void run(SelectionNetwork net, long[][] wires, int n) {
    for (int i = 0; i < net.size(); i++) {
      long[] lo = wires[net.low[i]];
      long[] hi = wires[net.high[i]];
      switch (net.kind[i]) {
        case SelectionNetwork.BOTH -> minMax(lo, hi, n);
        case SelectionNetwork.MIN_ONLY -> minOnly(lo, hi, n);
        default -> maxOnly(lo, hi, n);
      }
    }
  }

  /**
   * Bytewise unsigned min into lo and max into hi, eight lanes per long: the high bit of
   * ((x | 0x80) - (y & 0x7f)) per byte, fixed up by the bytes' own high bits, is x >= y.
   */
  private static void minMax(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long x = lo[i];
      long y = hi[i];
      long diff = x ^ y;
      long geHigh = ((x & ~y) | (~diff & ((x | HIGH_BITS) - (y & ~HIGH_BITS)))) & HIGH_BITS;
      long ge = geHigh >>> 7;
      long swap = diff & ((ge << 8) - ge);
      lo[i] = x ^ swap;
      hi[i] = y ^ swap;
    }
  }

  private static void minOnly(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long x = lo[i];
      long y = hi[i];
      long diff = x ^ y;
      long geHigh = ((x & ~y) | (~diff & ((x | HIGH_BITS) - (y & ~HIGH_BITS)))) & HIGH_BITS;
      long ge = geHigh >>> 7;
      lo[i] = x ^ (diff & ((ge << 8) - ge));
    }
  }

  private static void maxOnly(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long x = lo[i];
      long y = hi[i];
      long diff = x ^ y;
      long geHigh = ((x & ~y) | (~diff & ((x | HIGH_BITS) - (y & ~HIGH_BITS)))) & HIGH_BITS;
      long ge = geHigh >>> 7;
      hi[i] = y ^ (diff & ((ge << 8) - ge));
    }
  }

  /** Transposes the 8x8 bit matrix whose row i is byte i: bit 8i+j moves to 8j+i. */
  static long transpose8(long x) {
    long t = (x ^ (x >>> 7)) & 0x00AA00AA00AA00AAL;
    x = x ^ t ^ (t << 7);
    t = (x ^ (x >>> 14)) & 0x0000CCCC0000CCCCL;
    x = x ^ t ^ (t << 14);
    t = (x ^ (x >>> 28)) & 0x00000000F0F0F0F0L;
    x = x ^ t ^ (t << 28);
    return x;
  }

  static ImageU8 medianBitSliced(ImageU8 src, int k) {
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int r = k / 2;
    int n = k * k;
    int rowLen = w * c;
    // Lanes are the row's bytes in HWC order, so the window's column dx is a shift by dx * c lanes
    // and channels need no separating.
    int nw = (rowLen + 63) >>> 6;
    int planeWords = nw + 1 + ((k - 1) * c >>> 6);
    // ring[((slot * k + dx) * nw + wi) * 8 + bit]: bit-plane `bit` of lanes wi*64 .. wi*64+63 of the
    // padded source row py (slot (py + r) % k), shifted by dx pixels.
    int slotLen = k * nw * 8;
    long[] ring = new long[k * slotLen];
    long[] planes = new long[8 * planeWords];
    byte[] padded = new byte[planeWords * 64 + 8]; // room for whole 8-byte reads past the row's end
    int[] offOf = new int[n];
    long[] alive = new long[n];
    long[] res = new long[8];
    byte[] out = new byte[h * rowLen];
    for (int py = -r; py < r; py++) {
      slice(src, Border.replicate(py, h), r, k, nw, planeWords, planes, padded, ring, (py + r) * slotLen);
    }
    for (int y = 0; y < h; y++) {
      slice(src, Border.replicate(y + r, h), r, k, nw, planeWords, planes, padded, ring,
          ((y + 2 * r) % k) * slotLen);
      for (int dy = 0, j = 0; dy < k; dy++) {
        int rowBase = ((y + dy) % k) * slotLen;
        for (int dx = 0; dx < k; dx++, j++) {
          offOf[j] = rowBase + dx * nw * 8;
        }
      }
      int outRow = y * rowLen;
      for (int wi = 0; wi < nw; wi++) {
        selectMedian(ring, offOf, wi * 8, n, alive, res);
        for (int g = 0; g < 8; g++) {
          int lane = wi * 64 + g * 8;
          if (lane >= rowLen) {
            break;
          }
          int shift = g * 8;
          long packed = 0;
          for (int b = 0; b < 8; b++) {
            packed |= ((res[b] >>> shift) & 0xFFL) << (8 * b);
          }
          long values = transpose8(packed);
          if (lane + 8 <= rowLen) {
            BYTES_AS_LONG.set(out, outRow + lane, values);
          } else {
            for (int i = 0; lane + i < rowLen; i++) {
              out[outRow + lane + i] = (byte) (values >>> (8 * i));
            }
          }
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  /** Bit-planes of source row sy, replicate-padded by r pixels, pre-shifted for each window column. */
  private static void slice(ImageU8 src, int sy, int r, int k, int nw, int planeWords, long[] planes,
      byte[] padded, long[] ring, int slotStart) {
    int w = src.width();
    int c = src.channels();
    Border.paddedBytes(src, sy, r, r, true, padded, 0);
    int paddedLen = (w + 2 * r) * c;
    Arrays.fill(planes, 0L);
    // 8 lanes per long read, transposed into one byte of each of the 8 bit-planes.
    for (int x0 = 0; x0 < paddedLen && x0 < planeWords * 64; x0 += 8) {
      long bits = transpose8((long) BYTES_AS_LONG.get(padded, x0));
      int word = x0 >>> 6;
      int shift = x0 & 63;
      for (int b = 0; b < 8; b++) {
        planes[b * planeWords + word] |= ((bits >>> (8 * b)) & 0xFFL) << shift;
      }
    }
    for (int dx = 0; dx < k; dx++) {
      int words = (dx * c) >>> 6;
      int bits = (dx * c) & 63;
      int up = 63 - bits;
      for (int wi = 0; wi < nw; wi++) {
        int o = slotStart + (dx * nw + wi) * 8;
        for (int b = 0; b < 8; b++) {
          int p = b * planeWords + wi + words;
          ring[o + b] = (planes[p] >>> bits) | ((planes[p + 1] << 1) << up);
        }
      }
    }
  }

  /**
   * Median of the n window values in each of 64 lanes, bit by bit from the top: a lane's median bit
   * is 0 when more values tied with its prefix have a 0 there than its remaining rank t. Bit-plane b
   * of window value j is {@code ring[offOf[j] + wordOffset + b]}; res[b] receives the medians' plane b.
   */
  static void selectMedian(long[] ring, int[] offOf, int wordOffset, int n, long[] alive, long[] res) {
    int m = (n - 1) >>> 1;
    long t0 = -(long) (m & 1);
    long t1 = -(long) ((m >>> 1) & 1);
    long t2 = -(long) ((m >>> 2) & 1);
    long t3 = -(long) ((m >>> 3) & 1);
    long t4 = -(long) ((m >>> 4) & 1);
    long t5 = -(long) ((m >>> 5) & 1);
    long t6 = -(long) ((m >>> 6) & 1);
    long t7 = -(long) ((m >>> 7) & 1);
    long zero = 0; // lanes whose previous (higher) median bit was 0
    for (int b = 7; b >= 0; b--) {
      // Bit-sliced count Z (weights 1..128) of alive values with a 0 in bit b, Harley-Seal style;
      // the alive sets are narrowed by the previous level's decision on the way.
      boolean top = b == 7;
      long s0 = 0;
      long s1 = 0;
      long s2 = 0;
      long s3 = 0;
      long s4 = 0;
      long s5 = 0;
      long s6 = 0;
      long s7 = 0;
      int j = 0;
      for (; j + 8 <= n; j += 8) {
        long x0 = zeroBitAlive(ring, offOf[j] + wordOffset, b, top, zero, alive, j);
        long x1 = zeroBitAlive(ring, offOf[j + 1] + wordOffset, b, top, zero, alive, j + 1);
        long x2 = zeroBitAlive(ring, offOf[j + 2] + wordOffset, b, top, zero, alive, j + 2);
        long x3 = zeroBitAlive(ring, offOf[j + 3] + wordOffset, b, top, zero, alive, j + 3);
        long x4 = zeroBitAlive(ring, offOf[j + 4] + wordOffset, b, top, zero, alive, j + 4);
        long x5 = zeroBitAlive(ring, offOf[j + 5] + wordOffset, b, top, zero, alive, j + 5);
        long x6 = zeroBitAlive(ring, offOf[j + 6] + wordOffset, b, top, zero, alive, j + 6);
        long x7 = zeroBitAlive(ring, offOf[j + 7] + wordOffset, b, top, zero, alive, j + 7);
        long u = s0 ^ x0;
        long twosA = (s0 & x0) | (u & x1);
        s0 = u ^ x1;
        u = s0 ^ x2;
        long twosB = (s0 & x2) | (u & x3);
        s0 = u ^ x3;
        u = s1 ^ twosA;
        long foursA = (s1 & twosA) | (u & twosB);
        s1 = u ^ twosB;
        u = s0 ^ x4;
        twosA = (s0 & x4) | (u & x5);
        s0 = u ^ x5;
        u = s0 ^ x6;
        twosB = (s0 & x6) | (u & x7);
        s0 = u ^ x7;
        u = s1 ^ twosA;
        long foursB = (s1 & twosA) | (u & twosB);
        s1 = u ^ twosB;
        u = s2 ^ foursA;
        long eights = (s2 & foursA) | (u & foursB);
        s2 = u ^ foursB;
        long carry = s3 & eights;
        s3 ^= eights;
        eights = s4 & carry;
        s4 ^= carry;
        carry = s5 & eights;
        s5 ^= eights;
        eights = s6 & carry;
        s6 ^= carry;
        s7 ^= eights;
      }
      for (; j < n; j++) {
        long x = zeroBitAlive(ring, offOf[j] + wordOffset, b, top, zero, alive, j);
        long carry = s0 & x;
        s0 ^= x;
        x = s1 & carry;
        s1 ^= carry;
        carry = s2 & x;
        s2 ^= x;
        x = s3 & carry;
        s3 ^= carry;
        carry = s4 & x;
        s4 ^= x;
        x = s5 & carry;
        s5 ^= carry;
        carry = s6 & x;
        s6 ^= x;
        s7 ^= carry;
      }
      // d = t - Z bit-sliced; the final borrow marks lanes with t < Z, whose median bit is 0.
      long x = t0 ^ s0;
      long d0 = x;
      long borrow = ~t0 & s0;
      x = t1 ^ s1;
      long d1 = x ^ borrow;
      borrow = (~t1 & s1) | (~x & borrow);
      x = t2 ^ s2;
      long d2 = x ^ borrow;
      borrow = (~t2 & s2) | (~x & borrow);
      x = t3 ^ s3;
      long d3 = x ^ borrow;
      borrow = (~t3 & s3) | (~x & borrow);
      x = t4 ^ s4;
      long d4 = x ^ borrow;
      borrow = (~t4 & s4) | (~x & borrow);
      x = t5 ^ s5;
      long d5 = x ^ borrow;
      borrow = (~t5 & s5) | (~x & borrow);
      x = t6 ^ s6;
      long d6 = x ^ borrow;
      borrow = (~t6 & s6) | (~x & borrow);
      x = t7 ^ s7;
      long d7 = x ^ borrow;
      borrow = (~t7 & s7) | (~x & borrow);
      zero = borrow;
      long one = ~zero;
      res[b] = one;
      t0 = (t0 & zero) | (d0 & one);
      t1 = (t1 & zero) | (d1 & one);
      t2 = (t2 & zero) | (d2 & one);
      t3 = (t3 & zero) | (d3 & one);
      t4 = (t4 & zero) | (d4 & one);
      t5 = (t5 & zero) | (d5 & one);
      t6 = (t6 & zero) | (d6 & one);
      t7 = (t7 & zero) | (d7 & one);
    }
  }

  /**
   * Narrows value j's alive mask by the previous bit's decision (lanes whose median bit was 0 keep
   * values with a 0 there, the others values with a 1), stores it, and returns the lanes where the
   * value is still alive and has a 0 in bit b.
   */
  private static long zeroBitAlive(long[] ring, int o, int b, boolean top, long zero, long[] alive, int j) {
    long a = top ? -1L : alive[j] & (ring[o + b + 1] ^ zero);
    alive[j] = a;
    return a & ~ring[o + b];
  }
}
