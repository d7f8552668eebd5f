package dev.meshwork.cni.grpc;

/** A header block that cannot be decoded (HPACK COMPRESSION_ERROR). */
final class HpackException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  HpackException(String message) {
    super(message);
  }
}
