package dev.meshwork.datapath;

/** {@link FakeDatapath} passes the same contract as the eBPF datapath. */
class FakeDatapathTest extends DatapathContract {
  @Override
  protected Datapath newDatapath() {
    return new FakeDatapath();
  }
}
