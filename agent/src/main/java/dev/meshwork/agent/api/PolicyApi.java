package dev.meshwork.agent.api;

import dev.meshwork.agent.policy.EndpointPolicy;
import dev.meshwork.agent.policy.PolicyEngine;
import dev.meshwork.agent.policy.PolicyStatus;
import dev.meshwork.agent.policy.PortProtocol;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.proto.v1.AllowedEntry;
import dev.meshwork.proto.v1.EndpointPolicyInfo;
import dev.meshwork.proto.v1.GetPolicyRequest;
import dev.meshwork.proto.v1.PolicyReport;
import dev.meshwork.proto.v1.PolicyRuleInfo;
import dev.meshwork.proto.v1.PolicyServiceGrpc;
import dev.meshwork.proto.v1.PolicyStatusInfo;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;

/** {@code meshwork policy get}: the policies received and the rules in force per local endpoint. */
public final class PolicyApi extends PolicyServiceGrpc.PolicyServiceImplBase {
  private final PolicyEngine engine;
  private final boolean enforcementEnabled;

  public PolicyApi(PolicyEngine engine, boolean enforcementEnabled) {
    this.engine = engine;
    this.enforcementEnabled = enforcementEnabled;
  }

  @Override
  public void getPolicy(GetPolicyRequest request, StreamObserver<PolicyReport> out) {
    List<EndpointPolicy> endpoints;
    if (request.getEndpointIp().isEmpty()) {
      endpoints = engine.endpointPolicies();
    } else {
      int ip;
      try {
        ip = Ipv4.parse(request.getEndpointIp());
      } catch (IllegalArgumentException e) {
        out.onError(
            Status.INVALID_ARGUMENT
                .withDescription("endpoint_ip \"" + request.getEndpointIp() + "\" is not an IPv4 address")
                .asRuntimeException());
        return;
      }
      Optional<EndpointPolicy> one = engine.endpointPolicy(ip);
      if (one.isEmpty()) {
        out.onError(
            Status.NOT_FOUND
                .withDescription("no local endpoint with IP " + request.getEndpointIp())
                .asRuntimeException());
        return;
      }
      endpoints = List.of(one.get());
    }
    PolicyReport.Builder report = PolicyReport.newBuilder().setEnforcementEnabled(enforcementEnabled);
    for (PolicyStatus s : engine.statuses()) {
      report.addPolicies(
          PolicyStatusInfo.newBuilder()
              .setNamespace(s.namespace())
              .setName(s.name())
              .setKind(s.kind())
              .setValid(s.valid())
              .addAllErrors(s.errors())
              .addAllSelectedEndpoints(s.selectedEndpoints().stream().map(Ipv4::format).toList())
              .setPreviousVersionInForce(s.previousVersionInForce()));
    }
    endpoints.forEach(e -> report.addEndpoints(endpoint(e)));
    out.onNext(report.build());
    out.onCompleted();
  }

  static EndpointPolicyInfo endpoint(EndpointPolicy e) {
    EndpointPolicyInfo.Builder b =
        EndpointPolicyInfo.newBuilder()
            .setIpv4(Ipv4.format(e.endpointIp()))
            .setIdentity(e.identity())
            .setIngressEnforced(e.ingressEnforced())
            .setEgressEnforced(e.egressEnforced());
    for (EndpointPolicy.AppliedRule r : e.rules()) {
      b.addRules(
          PolicyRuleInfo.newBuilder()
              .setPolicy(r.policy().toString())
              .setDirection(r.direction().name())
              .addAllPeers(r.peers())
              .addAllPorts(r.ports().stream().map(PortProtocol::toString).toList())
              .addAllPeerIdentities(r.peerIdentities()));
    }
    for (PolicyKey key : e.allowed()) {
      b.addAllowed(
          AllowedEntry.newBuilder()
              .setDirection(key.direction().name())
              .setRemoteIdentity(key.remoteIdentity())
              .setPort(key.port())
              .setProtocol(key.protocol() == null ? "" : key.protocol().name())
              .addAllPolicies(
                  e.rules().stream()
                      .filter(r -> allows(r, key))
                      .map(r -> r.policy().toString())
                      .distinct()
                      .toList()));
    }
    return b.build();
  }

  /** Whether a rule contributes the key: same direction, the peer among its identities, the port among its ports. */
  private static boolean allows(EndpointPolicy.AppliedRule rule, PolicyKey key) {
    if (rule.direction() != key.direction() || !rule.peerIdentities().contains(key.remoteIdentity())) {
      return false;
    }
    PortProtocol port = new PortProtocol(key.port(), key.protocol());
    return rule.ports().isEmpty() ? port.equals(PortProtocol.ANY) : rule.ports().contains(port);
  }
}
