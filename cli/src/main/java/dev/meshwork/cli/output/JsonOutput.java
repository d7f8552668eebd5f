package dev.meshwork.cli.output;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/** `-o json`: the agent's message in protobuf's canonical JSON mapping. */
public final class JsonOutput {

  // Fields at their default value (0, false, "") are printed too, so scripts can rely on every key.
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();

  private JsonOutput() {}

  public static String render(MessageOrBuilder message) {
    try {
      return PRINTER.print(message) + "\n";
    } catch (InvalidProtocolBufferException e) {
      // Only possible with Any fields whose types are unknown; the agent API has none.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
    }
  }
}
