package dev.meshwork.agent.service;

import dev.meshwork.datapath.Service;

/** One address a Service is reachable on in its own cluster (IPv4 as int). */
public record FrontendSpec(int ip, Service.Kind kind) {}
