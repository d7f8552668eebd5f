package dev.meshwork.cni.grpc;

/** One HTTP/2 header field; names and values as ISO-8859-1 strings (bytes kept as they are). */
record Header(String name, String value) {

  /** HPACK's size of an entry: name and value octets plus 32. */
  int hpackSize() {
    return name.length() + value.length() + 32;
  }
}
