package dev.meshwork.agent.testsupport;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.FakeDatapath;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link FakeDatapath} that records every batch and can hold or fail the next ones. */
public final class RecordingDatapath implements Datapath {
  public final FakeDatapath fake = new FakeDatapath();
  public final List<ChangeSet> batches = new CopyOnWriteArrayList<>();
  public final AtomicInteger failNext = new AtomicInteger();
  public volatile CountDownLatch gate = new CountDownLatch(0);
  public volatile CountDownLatch entered = new CountDownLatch(0);

  @Override
  public void apply(ChangeSet changes) throws DatapathException {
    entered.countDown();
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new DatapathException("injected failure");
    }
    batches.add(changes);
    fake.apply(changes);
  }

  @Override
  public DatapathSnapshot snapshot() {
    return fake.snapshot();
  }

  @Override
  public void close() {}
}
