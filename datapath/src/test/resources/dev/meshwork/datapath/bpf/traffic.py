"""Test traffic for the datapath ITs, run inside pod namespaces.

serve NAME tcp|udp PORT  answer every TCP connection with "NAME CLIENT_IP", then echo lines;
                         answer every UDP datagram with "NAME CLIENT_IP". Prints "ready".
get tcp HOST PORT        connect, print the server's first line (exit 1 on failure)
get udp HOST PORT        send one datagram, print "ANSWER from SOURCE_IP:SOURCE_PORT"
session HOST PORT        connect, print the first line, then send each stdin line and print
                         the echo: a long-lived connection the test drives
"""
import socket
import sys
import threading


def serve(name, proto, port):
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        print("ready", flush=True)
        while True:
            _, (ip, p) = s.recvfrom(2048)
            s.sendto(f"{name} {ip}".encode(), (ip, p))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    print("ready", flush=True)

    def handle(conn, ip):
        with conn:
            conn.sendall(f"{name} {ip}\n".encode())
            f = conn.makefile("rb")
            for line in f:
                conn.sendall(line)

    while True:
        conn, (ip, _) = s.accept()
        threading.Thread(target=handle, args=(conn, ip), daemon=True).start()


def get(proto, host, port):
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(b"hello", (host, port))
        data, (ip, p) = s.recvfrom(2048)
        print(f"{data.decode()} from {ip}:{p}")
        return
    s = socket.create_connection((host, port), timeout=2)
    print(s.makefile("r").readline().strip())
    s.close()


def session(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(None)
    f = s.makefile("rw")
    print(f.readline().strip(), flush=True)
    for line in sys.stdin:
        f.write(line)
        f.flush()
        print(f.readline().strip(), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    try:
        if mode == "serve":
            serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        elif mode == "get":
            get(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        elif mode == "session":
            session(sys.argv[2], int(sys.argv[3]))
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
