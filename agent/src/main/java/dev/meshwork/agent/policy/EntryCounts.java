package dev.meshwork.agent.policy;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * Reference counts of one endpoint's policy entries ({@link PolicyEntry}, a long each): an
 * open-addressing hash table with linear probing, so that counting a contribution allocates
 * nothing. An entry whose count reaches zero is removed.
 */
final class EntryCounts {
  private static final long EMPTY = -1L; // never a PolicyEntry: those are non-negative

  private long[] entries = emptyTable(16);
  private int[] counts = new int[16];
  private int size;

  /** Adds {@code delta} to the entry's count and returns the new count (0: the entry is gone). */
  int add(long entry, int delta) {
    int mask = entries.length - 1;
    int i = home(entry, mask);
    while (entries[i] != EMPTY) {
      if (entries[i] == entry) {
        int count = counts[i] + delta;
        if (count == 0) {
          removeAt(i);
        } else {
          counts[i] = count;
        }
        return count;
      }
      i = (i + 1) & mask;
    }
    if (delta == 0) {
      return 0;
    }
    entries[i] = entry;
    counts[i] = delta;
    if (++size * 2 > entries.length) {
      grow();
    }
    return delta;
  }

  boolean contains(long entry) {
    int mask = entries.length - 1;
    for (int i = home(entry, mask); entries[i] != EMPTY; i = (i + 1) & mask) {
      if (entries[i] == entry) {
        return true;
      }
    }
    return false;
  }

  int size() {
    return size;
  }

  void forEach(LongConsumer action) {
    for (long entry : entries) {
      if (entry != EMPTY) {
        action.accept(entry);
      }
    }
  }

  /** Removes slot {@code i} and shifts back the entries after it that would no longer be found. */
  private void removeAt(int i) {
    int mask = entries.length - 1;
    int hole = i;
    for (int j = (hole + 1) & mask; entries[j] != EMPTY; j = (j + 1) & mask) {
      int home = home(entries[j], mask);
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      boolean homeBetween = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!homeBetween) {
        entries[hole] = entries[j];
        counts[hole] = counts[j];
        hole = j;
      }
    }
    entries[hole] = EMPTY;
    size--;
  }

  private void grow() {
    long[] oldEntries = entries;
    int[] oldCounts = counts;
    entries = emptyTable(oldEntries.length * 2);
    counts = new int[oldEntries.length * 2];
    int mask = entries.length - 1;
    for (int k = 0; k < oldEntries.length; k++) {
      if (oldEntries[k] != EMPTY) {
        int i = home(oldEntries[k], mask);
        while (entries[i] != EMPTY) {
          i = (i + 1) & mask;
        }
        entries[i] = oldEntries[k];
        counts[i] = oldCounts[k];
      }
    }
  }

  private static int home(long entry, int mask) {
    long h = entry * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }

  private static long[] emptyTable(int capacity) {
    long[] table = new long[capacity];
    Arrays.fill(table, EMPTY);
    return table;
  }
}
