"""Connection-setup latency probe, run inside pod namespaces by ServiceLatencyScenario.

serve PORT               accept TCP connections and close them; prints "ready"
measure HOST PORT COUNT  COUNT sequential connects (SYN to established); prints
                         "median_us p90_us p99_us"
"""
import socket
import sys
import threading
import time


def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4096)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        conn.close()


def measure(host, port, count):
    samples = []
    for _ in range(count + 50):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        t0 = time.perf_counter_ns()
        c.connect((host, port))
        t1 = time.perf_counter_ns()
        c.close()
        samples.append((t1 - t0) / 1000)
    samples = sorted(samples[50:])
    n = len(samples)
    print(f"{samples[n // 2]:.1f} {samples[n * 9 // 10]:.1f} {samples[n * 99 // 100]:.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
