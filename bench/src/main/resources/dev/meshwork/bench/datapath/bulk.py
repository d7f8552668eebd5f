"""Bulk TCP transfer for TunnelThroughputScenario, run inside pod namespaces.

sink PORT              accept one connection, count bytes until EOF, print "bytes seconds"
send HOST PORT SECONDS send 256 KiB writes for SECONDS, then close
"""
import socket
import sys
import time


def sink(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    print("ready", flush=True)
    conn, _ = s.accept()
    total = 0
    t0 = time.perf_counter()
    buf = bytearray(1 << 20)
    while True:
        n = conn.recv_into(buf)
        if n == 0:
            break
        total += n
    print(f"{total} {time.perf_counter() - t0:.3f}", flush=True)


def send(host, port, seconds):
    c = socket.create_connection((host, port), timeout=5)
    chunk = b"x" * (256 << 10)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        c.sendall(chunk)
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "sink":
        sink(int(sys.argv[2]))
    else:
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
