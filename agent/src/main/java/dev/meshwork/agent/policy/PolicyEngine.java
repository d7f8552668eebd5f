package dev.meshwork.agent.policy;

import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.datapath.PolicyKey.Direction;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns policies, identities and local endpoints into the datapath's policy keys, incrementally.
 *
 * <p>Each distinct peer selector is resolved once (through {@link IdentityIndex}) and cached with
 * the set of identities it matches; the rules using it hang off the cache entry. An identity
 * event tests the cached selectors (not the rules) and touches only the rules whose selectors
 * changed; a policy event touches only that policy's rules. Every (endpoint, key) pair is
 * reference-counted across rules, and only keys whose count crossed zero are marked dirty.
 * {@link #drain()} then compares dirty keys with what it handed out before, so the caller gets
 * the net difference however many events came in between.
 *
 * <p>Thread-safe: every public method holds the engine's lock for its (short) duration.
 */
public final class PolicyEngine {
  private static final Logger log = LoggerFactory.getLogger(PolicyEngine.class);
  // Endpoint, direction, remote identity, port, protocol (null, meaning any, first). Written out
  // rather than composed from Comparator.comparing...: the drain sorts thousands of keys.
  private static final Comparator<PolicyKey> KEY_ORDER = PolicyEngine::compareKeys;

  private final CiliumNetworkPolicyParser cnpParser;
  private final KubernetesNetworkPolicyParser npParser;
  private final PolicyMetrics metrics;

  private final IdentityIndex identities = new IdentityIndex();
  private final Map<Selector, CachedSelector> selectors = new HashMap<>();
  // Unordered (a hash lookup per event); reports sort by PolicyRef.
  private final Map<PolicyRef, PolicyState> policies = new HashMap<>();
  private final Map<Integer, EndpointState> endpoints = new HashMap<>();
  // Subject selectors always name their namespace: a new rule looks only at that namespace's pods.
  private final Map<String, Set<EndpointState>> endpointsByNamespace = new HashMap<>();
  private int rulesInForce;
  private int invalidPolicies;

  private final Set<PolicyKey> programmed = new HashSet<>();
  private final Set<PolicyKey> dirtyKeys = new HashSet<>();
  private final Map<Integer, PolicyChanges.EndpointEnforcement> programmedEnforcement = new HashMap<>();
  private final Set<Integer> dirtyEndpoints = new HashSet<>();

  public PolicyEngine(PolicyConfig config, MeterRegistry registry) {
    this.cnpParser = new CiliumNetworkPolicyParser(config);
    this.npParser = new KubernetesNetworkPolicyParser(config);
    this.metrics = new PolicyMetrics(registry);
    for (IdentityTable.IdentityEntry reserved : IdentityTable.RESERVED) {
      identities.put(reserved.id(), LabelSet.parse(reserved.labels()));
    }
  }

  // ---- identities (mesh-wide, remote included) ----

  /** An identity appeared (or its labels changed): labels as in the kvstore, {@code k8s:app=x}. */
  public synchronized void upsertIdentity(int id, List<String> labels) {
    LabelSet set = LabelSet.parse(labels);
    LabelSet previous = identities.get(id);
    if (set.equals(previous)) {
      return;
    }
    if (previous != null) {
      deleteIdentity(id);
    }
    int slot = identities.put(id, set);
    for (CachedSelector cached : selectors.values()) {
      if (cached.selector.matches(set)) {
        cached.matches.set(slot);
        for (RuleState rule : cached.users) {
          for (EndpointState e : rule.subjects) {
            contribute(rule, e, id, 1);
          }
        }
      }
    }
  }

  public synchronized void deleteIdentity(int id) {
    int slot = identities.remove(id);
    if (slot < 0) {
      return;
    }
    // The slot goes back to the index for the next identity: no selection may keep it.
    for (CachedSelector cached : selectors.values()) {
      if (cached.matches.get(slot)) {
        cached.matches.clear(slot);
        for (RuleState rule : cached.users) {
          for (EndpointState e : rule.subjects) {
            contribute(rule, e, id, -1);
          }
        }
      }
    }
  }

  // ---- local endpoints ----

  /** A local pod with its IP, identity and that identity's labels. */
  public synchronized void upsertEndpoint(int ip, int identity, List<String> labels) {
    LabelSet set = LabelSet.parse(labels);
    EndpointState existing = endpoints.get(ip);
    if (existing != null) {
      if (existing.identity == identity && existing.labels.equals(set)) {
        return;
      }
      deleteEndpoint(ip);
    }
    EndpointState e = new EndpointState(ip, identity, set);
    endpoints.put(ip, e);
    endpointsByNamespace.computeIfAbsent(namespaceKey(set), n -> new LinkedHashSet<>()).add(e);
    dirtyEndpoints.add(ip);
    for (PolicyState p : policies.values()) {
      for (RuleState rule : p.rules) {
        if (rule.rule.subject().matches(set)) {
          attach(rule, e);
        }
      }
    }
  }

  public synchronized void deleteEndpoint(int ip) {
    EndpointState e = endpoints.get(ip);
    if (e == null) {
      return;
    }
    for (RuleState rule : List.copyOf(e.rules)) {
      detach(rule, e);
    }
    endpoints.remove(ip);
    Set<EndpointState> inNamespace = endpointsByNamespace.get(namespaceKey(e.labels));
    inNamespace.remove(e);
    if (inNamespace.isEmpty()) {
      endpointsByNamespace.remove(namespaceKey(e.labels));
    }
    dirtyEndpoints.add(ip);
  }

  // ---- policies ----

  public synchronized ParseResult upsertCiliumNetworkPolicy(GenericKubernetesResource resource) {
    ParseResult result = safely(CiliumNetworkPolicyParser.ref(resource), () -> cnpParser.parse(resource));
    apply(result);
    return result;
  }

  public synchronized ParseResult upsertNetworkPolicy(NetworkPolicy policy) {
    ParseResult result = safely(KubernetesNetworkPolicyParser.ref(policy), () -> npParser.parse(policy));
    apply(result);
    return result;
  }

  /** Puts a parsed policy in force, or records why it is not (an earlier valid version stays). */
  public synchronized void apply(ParseResult result) {
    PolicyState state = policies.computeIfAbsent(result.ref(), PolicyState::new);
    boolean wasInvalid = !state.errors.isEmpty();
    switch (result) {
      case ParseResult.Valid valid -> {
        state.errors = List.of();
        if (!valid.policy().equals(state.inForce)) {
          removeRules(state);
          state.inForce = valid.policy();
          for (PolicyRule rule : valid.policy().rules()) {
            addRule(state, rule);
          }
        }
      }
      case ParseResult.Invalid invalid -> {
        state.errors = invalid.errors();
        metrics.rejected(result.ref().kind());
        log.warn(
            "{} is not applied{}: {}",
            result.ref(),
            state.inForce == null ? "" : " (its previous valid version stays in force)",
            String.join("; ", invalid.errors()));
      }
    }
    invalidPolicies += (state.errors.isEmpty() ? 0 : 1) - (wasInvalid ? 1 : 0);
    updateGauges();
  }

  /** The policy object was deleted: its rules go, so everything is as if it never existed. */
  public synchronized void deletePolicy(PolicyRef ref) {
    PolicyState state = policies.remove(ref);
    if (state != null) {
      removeRules(state);
      invalidPolicies -= state.errors.isEmpty() ? 0 : 1;
    }
    updateGauges();
  }

  // ---- output ----

  /** The net differences since the previous drain (or since {@link #resetProgrammed}). */
  public synchronized PolicyChanges drain() {
    List<PolicyKey> allows = new ArrayList<>();
    List<PolicyKey> revokes = new ArrayList<>();
    for (PolicyKey key : dirtyKeys) {
      if (desired(key)) {
        if (programmed.add(key)) {
          allows.add(key);
        }
      } else if (programmed.remove(key)) {
        revokes.add(key);
      }
    }
    dirtyKeys.clear();
    List<PolicyChanges.EndpointEnforcement> enforcement = new ArrayList<>();
    for (int ip : dirtyEndpoints) {
      EndpointState e = endpoints.get(ip);
      if (e == null) {
        programmedEnforcement.remove(ip);
        continue;
      }
      var now = new PolicyChanges.EndpointEnforcement(ip, e.ingressRules > 0, e.egressRules > 0);
      if (!now.equals(programmedEnforcement.put(ip, now))) {
        enforcement.add(now);
      }
    }
    dirtyEndpoints.clear();
    allows.sort(KEY_ORDER);
    revokes.sort(KEY_ORDER);
    enforcement.sort(Comparator.comparingInt(PolicyChanges.EndpointEnforcement::endpointIp));
    return new PolicyChanges(allows, revokes, enforcement);
  }

  /**
   * Declares what the datapath holds now (after an agent restart, or a full resync): the next
   * {@link #drain()} revokes what is there but not wanted, allows what is missing, and reports
   * every endpoint's enforcement flags.
   */
  public synchronized void resetProgrammed(Collection<PolicyKey> inDatapath) {
    programmed.clear();
    programmed.addAll(inDatapath);
    dirtyKeys.addAll(programmed);
    for (EndpointState e : endpoints.values()) {
      e.refs.forEach(entry -> dirtyKeys.add(PolicyEntry.key(e.ip, entry)));
    }
    programmedEnforcement.clear();
    dirtyEndpoints.addAll(endpoints.keySet());
  }

  /** Every key wanted now, sorted. */
  public synchronized List<PolicyKey> allowedKeys() {
    List<PolicyKey> out = new ArrayList<>();
    endpoints.values().forEach(e -> e.refs.forEach(entry -> out.add(PolicyEntry.key(e.ip, entry))));
    out.sort(KEY_ORDER);
    return out;
  }

  /** Whether ingress/egress enforcement is on for the endpoint; empty for an unknown endpoint. */
  public synchronized Optional<PolicyChanges.EndpointEnforcement> enforcement(int ip) {
    EndpointState e = endpoints.get(ip);
    return e == null
        ? Optional.empty()
        : Optional.of(new PolicyChanges.EndpointEnforcement(ip, e.ingressRules > 0, e.egressRules > 0));
  }

  /** Every policy object seen, valid or not, sorted by namespace and name. */
  public synchronized List<PolicyStatus> statuses() {
    List<PolicyStatus> out = new ArrayList<>();
    for (PolicyState p : new TreeMap<>(policies).values()) {
      Set<Integer> selected = new TreeSet<>();
      p.rules.forEach(r -> r.subjects.forEach(e -> selected.add(e.ip)));
      out.add(
          new PolicyStatus(
              p.ref.namespace(),
              p.ref.name(),
              p.ref.kind().kubernetesKind(),
              p.errors.isEmpty(),
              p.errors,
              List.copyOf(selected),
              !p.errors.isEmpty() && p.inForce != null));
    }
    return out;
  }

  /** The rules and keys in force for one local endpoint. */
  public synchronized Optional<EndpointPolicy> endpointPolicy(int ip) {
    EndpointState e = endpoints.get(ip);
    if (e == null) {
      return Optional.empty();
    }
    List<EndpointPolicy.AppliedRule> rules = new ArrayList<>();
    List<RuleState> byPolicy = new ArrayList<>(e.rules);
    byPolicy.sort(Comparator.comparing(r -> r.rule.source())); // stable: a policy's rules keep their order
    for (RuleState r : byPolicy) {
      Set<Integer> ids = new TreeSet<>();
      for (int fixed : r.fixedIds) {
        ids.add(fixed);
      }
      r.peerSelectors.forEach(s -> ids.addAll(identities.idsOf(s.matches)));
      rules.add(
          new EndpointPolicy.AppliedRule(
              r.rule.source(),
              r.rule.direction(),
              r.rule.peers().stream().map(Peer::toString).toList(),
              r.rule.ports(),
              List.copyOf(ids)));
    }
    List<PolicyKey> keys = new ArrayList<>(e.refs.size());
    e.refs.forEach(entry -> keys.add(PolicyEntry.key(ip, entry)));
    keys.sort(KEY_ORDER);
    return Optional.of(new EndpointPolicy(ip, e.identity, e.ingressRules > 0, e.egressRules > 0, rules, keys));
  }

  /** Every local endpoint's policy, by IP. */
  public synchronized List<EndpointPolicy> endpointPolicies() {
    return endpoints.keySet().stream().sorted().map(ip -> endpointPolicy(ip).orElseThrow()).toList();
  }

  // ---- internals ----

  private ParseResult safely(PolicyRef ref, java.util.function.Supplier<ParseResult> parse) {
    try {
      return parse.get();
    } catch (RuntimeException e) {
      // A parser bug must not take the agent down; the policy is reported like any invalid one.
      log.error("{}: parsing failed unexpectedly", ref, e);
      return new ParseResult.Invalid(ref, List.of("internal error while parsing: " + e));
    }
  }

  private void addRule(PolicyState policy, PolicyRule rule) {
    RuleState state = new RuleState(rule);
    List<Integer> fixed = new ArrayList<>();
    for (Peer peer : rule.peers()) {
      switch (peer) {
        case Peer.Selected s -> {
          CachedSelector cached =
              selectors.computeIfAbsent(s.selector(), sel -> new CachedSelector(sel, identities.select(sel)));
          cached.users.add(state);
          state.peerSelectors.add(cached);
        }
        case Peer.Reserved r -> fixed.addAll(r.identities());
        case Peer.Any a -> fixed.add(0);
      }
    }
    state.fixedIds = fixed.stream().mapToInt(Integer::intValue).toArray();
    policy.rules.add(state);
    rulesInForce++;
    for (EndpointState e : candidateSubjects(rule.subject())) {
      if (rule.subject().matches(e.labels)) {
        attach(state, e);
      }
    }
  }

  private Collection<EndpointState> candidateSubjects(Selector subject) {
    for (Requirement r : subject.requirements()) {
      if (r.key().equals(LabelSet.NAMESPACE) && r.operator() == Operator.IN && r.values().size() == 1) {
        return endpointsByNamespace.getOrDefault(r.values().getFirst(), Set.of());
      }
    }
    return endpoints.values();
  }

  private static String namespaceKey(LabelSet labels) {
    String namespace = labels.namespace();
    return namespace == null ? "" : namespace;
  }

  private void removeRules(PolicyState policy) {
    for (RuleState rule : policy.rules) {
      for (EndpointState e : List.copyOf(rule.subjects)) {
        detach(rule, e);
      }
      for (CachedSelector cached : rule.peerSelectors) {
        cached.users.remove(rule);
        if (cached.users.isEmpty()) {
          selectors.remove(cached.selector);
        }
      }
      rulesInForce--;
    }
    policy.rules.clear();
    policy.inForce = null;
  }

  private void attach(RuleState rule, EndpointState e) {
    rule.subjects.add(e);
    e.rules.add(rule);
    enforcement(rule, e, 1);
    for (int id : rule.fixedIds) {
      contribute(rule, e, id, 1);
    }
    for (CachedSelector cached : rule.peerSelectors) {
      BitSet slots = cached.matches;
      for (int slot = slots.nextSetBit(0); slot >= 0; slot = slots.nextSetBit(slot + 1)) {
        contribute(rule, e, identities.idAt(slot), 1);
      }
    }
  }

  private void detach(RuleState rule, EndpointState e) {
    for (int id : rule.fixedIds) {
      contribute(rule, e, id, -1);
    }
    for (CachedSelector cached : rule.peerSelectors) {
      BitSet slots = cached.matches;
      for (int slot = slots.nextSetBit(0); slot >= 0; slot = slots.nextSetBit(slot + 1)) {
        contribute(rule, e, identities.idAt(slot), -1);
      }
    }
    enforcement(rule, e, -1);
    rule.subjects.remove(e);
    e.rules.remove(rule);
  }

  private void enforcement(RuleState rule, EndpointState e, int delta) {
    if (rule.rule.direction() == Direction.INGRESS) {
      e.ingressRules += delta;
    } else {
      e.egressRules += delta;
    }
    dirtyEndpoints.add(e.ip);
  }

  private void contribute(RuleState rule, EndpointState e, int remoteIdentity, int delta) {
    for (long portEntry : rule.portEntries) {
      long entry = PolicyEntry.withIdentity(portEntry, remoteIdentity);
      int count = e.refs.add(entry, delta);
      if (count == 0 || (count == 1 && delta > 0)) {
        dirtyKeys.add(PolicyEntry.key(e.ip, entry));
      }
    }
  }

  private boolean desired(PolicyKey key) {
    EndpointState e = endpoints.get(key.endpointIp());
    return e != null && e.refs.contains(PolicyEntry.of(key));
  }

  private static int compareKeys(PolicyKey a, PolicyKey b) {
    int c = Integer.compare(a.endpointIp(), b.endpointIp());
    if (c == 0) {
      c = a.direction().compareTo(b.direction());
    }
    if (c == 0) {
      c = Integer.compare(a.remoteIdentity(), b.remoteIdentity());
    }
    if (c == 0) {
      c = Integer.compare(a.port(), b.port());
    }
    if (c == 0) {
      c = Integer.compare(protocolRank(a), protocolRank(b));
    }
    return c;
  }

  private static int protocolRank(PolicyKey key) {
    return key.protocol() == null ? -1 : key.protocol().ordinal();
  }

  private void updateGauges() {
    metrics.invalidPolicies(invalidPolicies);
    metrics.rulesInForce(rulesInForce);
  }

  private static final class CachedSelector {
    final Selector selector;
    // Slots of the identity index (see IdentityIndex): cleared when an identity goes.
    final BitSet matches;
    // A list, not a set: a rule naming the same selector twice contributes twice, and removes twice.
    final List<RuleState> users = new ArrayList<>(2);

    CachedSelector(Selector selector, BitSet matches) {
      this.selector = selector;
      this.matches = matches;
    }
  }

  private static final class RuleState {
    final PolicyRule rule;
    // The rule's direction and ports as PolicyEntry bits, shared by every endpoint it selects.
    final long[] portEntries;
    final List<CachedSelector> peerSelectors = new ArrayList<>(2);
    int[] fixedIds = new int[0];
    final Set<EndpointState> subjects = new LinkedHashSet<>();

    RuleState(PolicyRule rule) {
      this.rule = rule;
      this.portEntries = new long[rule.ports().size()];
      for (int i = 0; i < portEntries.length; i++) {
        portEntries[i] = PolicyEntry.ofPort(rule.direction(), rule.ports().get(i));
      }
    }
  }

  private static final class EndpointState {
    final int ip;
    final int identity;
    final LabelSet labels;
    // How many (rule, peer) pairs allow each entry; the key is in force while its count is above 0.
    final EntryCounts refs = new EntryCounts();
    final Set<RuleState> rules = new LinkedHashSet<>();
    int ingressRules;
    int egressRules;

    EndpointState(int ip, int identity, LabelSet labels) {
      this.ip = ip;
      this.identity = identity;
      this.labels = Objects.requireNonNull(labels);
    }
  }

  private static final class PolicyState {
    final PolicyRef ref;
    final List<RuleState> rules = new ArrayList<>();
    CompiledPolicy inForce;
    List<String> errors = List.of();

    PolicyState(PolicyRef ref) {
      this.ref = ref;
    }
  }
}
