#!/usr/bin/python3
"""Traffic end points for make-peering-captures.sh (run inside a namespace).

    agent.py serve [--http-port 8080] [--udp-port 7007] [--max-seconds S]
        HTTP/1.0 server (GET /bytes/N answers N body bytes) and UDP echo
        server, both dual-stack on every address of the namespace; stops on
        SIGTERM or after S seconds.
    agent.py udp --to ADDR [--bind ADDR] [--port 7007] [--count N]
                 [--size BYTES]
        sends N datagrams of BYTES payload bytes, one at a time, each
        waiting (at most 1 s) for its echo; prints "sent N echoed M".
    agent.py sink --udp PORT,... --tcp PORT --out FILE [--max-seconds S]
        the collector's side: reads and drops the export datagrams (so the
        exporter never sees "port unreachable") and accepts the BMP
        connection, writing its byte stream to FILE (never sends a byte).

The body bytes are a repeated text pattern, so the capture files compress
well; their sizes, not their content, are what the captures are about.
"""
import argparse
import http.server
import signal
import socket
import socketserver
import sys
import threading
import time

PATTERN = b"peerscope peering capture body. "


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request a connection, then FIN

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "bytes" or not parts[1].isdigit():
            self.send_error(404)
            return
        n = min(int(parts[1]), 10 * 1000 * 1000)
        body = (PATTERN * (n // len(PATTERN) + 1))[:n]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class DualStackServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()


def udp_echo(port, stop):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.settimeout(0.5)
    while not stop.is_set():
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        s.sendto(data, peer)


def serve(args):
    stop = threading.Event()
    httpd = DualStackServer(("::", args.http_port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    threading.Thread(target=udp_echo, args=(args.udp_port, stop),
                     daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    deadline = time.monotonic() + args.max_seconds
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.5)
    stop.set()
    httpd.shutdown()


def udp_client(args):
    fam = socket.AF_INET6 if ":" in args.to else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    if args.bind:
        s.bind((args.bind, 0))
    payload = (PATTERN * (args.size // len(PATTERN) + 1))[:args.size]
    echoed = 0
    for _ in range(args.count):
        s.sendto(payload, (args.to, args.port))
        try:
            data, _peer = s.recvfrom(65535)
            echoed += len(data) == args.size
        except socket.timeout:
            pass
    print("sent %d echoed %d" % (args.count, echoed))
    return 0 if echoed == args.count else 1


def sink(args):
    import selectors
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sel = selectors.DefaultSelector()
    for port in [int(p) for p in args.udp.split(",") if p]:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        u.bind(("0.0.0.0", port))
        sel.register(u, selectors.EVENT_READ, "udp")
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("0.0.0.0", args.tcp))
    lst.listen(4)
    sel.register(lst, selectors.EVENT_READ, "listen")
    out = open(args.out, "wb", buffering=0)
    print("ready", flush=True)
    deadline = time.monotonic() + args.max_seconds
    while not stop.is_set() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            if key.data == "udp":
                key.fileobj.recv(65535)
            elif key.data == "listen":
                conn, _peer = key.fileobj.accept()
                sel.register(conn, selectors.EVENT_READ, "tcp")
            else:
                data = key.fileobj.recv(1 << 20)
                if data:
                    out.write(data)
                else:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
    out.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve")
    sv.add_argument("--http-port", type=int, default=8080)
    sv.add_argument("--udp-port", type=int, default=7007)
    sv.add_argument("--max-seconds", type=float, default=900)
    cl = sub.add_parser("udp")
    cl.add_argument("--to", required=True)
    cl.add_argument("--bind", default=None)
    cl.add_argument("--port", type=int, default=7007)
    cl.add_argument("--count", type=int, default=5)
    cl.add_argument("--size", type=int, default=400)
    sk = sub.add_parser("sink")
    sk.add_argument("--udp", required=True)
    sk.add_argument("--tcp", type=int, required=True)
    sk.add_argument("--out", required=True)
    sk.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()
    if args.cmd == "sink":
        sink(args)
        return 0
    if args.cmd == "serve":
        serve(args)
        return 0
    return udp_client(args)


if __name__ == "__main__":
    sys.exit(main())
