package dev.meshwork.agent.endpoint;

import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of the {@link EndpointManager} for the CNI plugin. Every outcome is a
 * {@link CniResponse}: refusals and failures travel as {@code CniError} (the plugin prints them as
 * they are), never as gRPC statuses, so the runtime always sees a CNI code and a message naming
 * the container. Calls block (interface set-up, identity wait): serve this on an executor that
 * may block, not on the event loop.
 */
public final class EndpointApi extends EndpointServiceGrpc.EndpointServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(EndpointApi.class);

  private final EndpointManager manager;

  public EndpointApi(EndpointManager manager) {
    this.manager = Objects.requireNonNull(manager, "manager");
  }

  @FunctionalInterface
  private interface Call {
    CniResult run() throws CniFailure;
  }

  @Override
  public void add(CniRequest request, StreamObserver<CniResponse> response) {
    answer("ADD", request, response, () -> manager.add(request));
  }

  @Override
  public void delete(CniRequest request, StreamObserver<CniResponse> response) {
    answer("DEL", request, response, () -> {
      manager.delete(request);
      return CniResult.getDefaultInstance();
    });
  }

  @Override
  public void check(CniRequest request, StreamObserver<CniResponse> response) {
    answer("CHECK", request, response, () -> {
      manager.check(request);
      return CniResult.getDefaultInstance();
    });
  }

  @Override
  public void status(CniRequest request, StreamObserver<CniResponse> response) {
    answer("STATUS", request, response, () -> {
      manager.status();
      return CniResult.getDefaultInstance();
    });
  }

  @Override
  public void garbageCollect(CniRequest request, StreamObserver<CniResponse> response) {
    answer("GC", request, response, () -> {
      manager.garbageCollect(request);
      return CniResult.getDefaultInstance();
    });
  }

  private static void answer(String verb, CniRequest request, StreamObserver<CniResponse> response, Call call) {
    CniResponse answer;
    try {
      answer = CniResponse.newBuilder().setResult(call.run()).build();
    } catch (CniFailure e) {
      log.warn("CNI {} of container {} interface {}: error {}: {}: {}", verb, request.getContainerId(),
          request.getIfname(), e.code(), e.getMessage(), e.details());
      answer = CniResponse.newBuilder().setError(e.toCniError()).build();
    } catch (RuntimeException e) {
      log.error("CNI {} of container {} interface {} failed unexpectedly", verb, request.getContainerId(),
          request.getIfname(), e);
      answer = CniResponse.newBuilder().setError(new CniFailure(CniFailure.INTERNAL,
          "agent failed on " + verb + " of container " + request.getContainerId(), e.toString()).toCniError()).build();
    }
    response.onNext(answer);
    response.onCompleted();
  }
}
