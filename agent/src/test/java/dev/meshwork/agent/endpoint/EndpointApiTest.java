package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every outcome reaches the plugin as a CniResponse: results, and refusals as CniError with their code. */
class EndpointApiTest {
  @TempDir Path stateDir;
  private final FakeLinkManager links = new FakeLinkManager();
  private final FakeIdentityResolver identities = new FakeIdentityResolver();
  private EndpointApi api;

  /** Collects what the service sends, as grpc-java would hand it to the plugin. */
  private static final class Answer implements StreamObserver<CniResponse> {
    final List<CniResponse> values = new ArrayList<>();
    boolean completed;

    @Override
    public void onNext(CniResponse value) {
      values.add(value);
    }

    @Override
    public void onError(Throwable t) {
      throw new AssertionError("the service must answer with a CniResponse, not a gRPC error", t);
    }

    @Override
    public void onCompleted() {
      completed = true;
    }

    CniResponse single() {
      assertThat(completed).isTrue();
      assertThat(values).hasSize(1);
      return values.getFirst();
    }
  }

  private interface Rpc {
    void call(CniRequest request, StreamObserver<CniResponse> observer);
  }

  private static CniResponse call(Rpc rpc, CniRequest request) {
    Answer answer = new Answer();
    rpc.call(request, answer);
    return answer.single();
  }

  @BeforeEach
  void serve() throws Exception {
    EndpointManager manager = EndpointManager.open(
        new EndpointConfig(IpPrefix.parse("10.1.0.0/24"), stateDir, 1450, Duration.ofMillis(100)), links, identities,
        new DatapathEndpointSink(new FakeDatapath()));
    api = new EndpointApi(manager);
  }

  private CniRequest web() {
    links.createNamespace("/run/netns/web", "lo");
    identities.publish(new PodRef("default", "web"), new PodIdentity(7000, List.of("k8s:app=web")));
    return CniRequest.newBuilder().setContainerId("ctr-web").setNetns("/run/netns/web").setIfname("eth0")
        .setNetworkName("meshwork").putArgs("K8S_POD_NAMESPACE", "default").putArgs("K8S_POD_NAME", "web").build();
  }

  @Test
  void answersAddWithTheResultAndASecondAddWithError110() {
    CniResponse first = call(api::add, web());
    CniResponse second = call(api::add, web());

    assertThat(first.getResult().getIps(0).getAddress()).isEqualTo("10.1.0.2/32");
    assertThat(second.getError().getCode()).isEqualTo(110);
    assertThat(second.getError().getMsg()).contains("ctr-web");
  }

  @Test
  void answersDelCheckStatusAndGcWithEmptyResults() {
    CniRequest web = web();
    call(api::add, web);

    assertThat(call(api::check, web).hasResult()).isTrue();
    assertThat(call(api::status, CniRequest.getDefaultInstance()).hasResult()).isTrue();
    assertThat(call(api::delete, web).hasResult()).isTrue();
    assertThat(call(api::delete, web).hasResult()).isTrue();
    assertThat(call(api::garbageCollect, CniRequest.newBuilder().setNetworkName("meshwork").build()).hasResult()).isTrue();
  }

  @Test
  void answersCheckOfAnUnknownContainerWithCode3NamingIt() {
    CniResponse response = call(api::check, CniRequest.newBuilder().setContainerId("ctr-ghost").setIfname("eth0").build());

    assertThat(response.getError().getCode()).isEqualTo(3);
    assertThat(response.getError().getMsg()).contains("ctr-ghost");
  }
}
