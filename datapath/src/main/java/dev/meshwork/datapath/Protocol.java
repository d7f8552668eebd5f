package dev.meshwork.datapath;

/** Transport protocols the datapath load-balances and filters, with their IP protocol numbers. */
public enum Protocol {
  TCP(6),
  UDP(17),
  SCTP(132);

  private final int ipProtocolNumber;

  Protocol(int ipProtocolNumber) {
    this.ipProtocolNumber = ipProtocolNumber;
  }

  public int ipProtocolNumber() {
    return ipProtocolNumber;
  }
}
