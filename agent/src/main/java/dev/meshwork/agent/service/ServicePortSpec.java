package dev.meshwork.agent.service;

import dev.meshwork.datapath.Protocol;

/**
 * One port of a Service: clients connect to {@code port}/{@code protocol} on every frontend, and
 * to {@code nodePort} on every node when it is not 0. Backends serve it under {@code name}.
 */
public record ServicePortSpec(String name, int port, Protocol protocol, int nodePort) {}
