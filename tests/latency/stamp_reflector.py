#!/usr/bin/env python3
"""A tiny STAMP session-reflector (RFC 8762, unauthenticated, stateless),
written from the RFC's packet layouts, independently of peerscope's
sender, for the probe tests.

    stamp_reflector.py ADDRESS [--port 862] [--hold-ms H] [--duration S]

For every test packet of at least 44 octets it answers, to the sender's
address and port, the RFC 8762 4.3.1 reflected packet, padded to the
test packet's length (symmetric size, 4.2):

    0 Sequence Number       (stateless: the sender's, 4.3)
    4 Timestamp             T3, just before the reply is sent
   12 Error Estimate        S=0 Z=0 scale 22 multiplier 1
   14 MBZ (2)
   16 Receive Timestamp     T2, the kernel's receive time of the test
                            packet (SO_TIMESTAMPNS)
   24 Session-Sender Sequence Number
   28 Session-Sender Timestamp
   36 Session-Sender Error Estimate
   38 MBZ (2)
   40 Ses-Sender TTL        the received packet's TTL / hop limit
   41 MBZ (3)

--hold-ms keeps each packet that long between T2 and T3, as a busy
reflector would: a sender that subtracts (T3 - T2) does not see it.
Prints "ready" once bound; stops on SIGTERM or after --duration seconds.
"""
import argparse
import select
import socket
import struct
import sys
import time

NTP_UNIX = 2208988800
# Linux values, absent from some Python builds
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def ntp(ns):
    s, frac = divmod(ns, 1_000_000_000)
    return ((s + NTP_UNIX) << 32) | ((frac << 32) // 1_000_000_000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("--port", type=int, default=862)
    ap.add_argument("--hold-ms", type=float, default=0.0)
    ap.add_argument("--duration", type=float, default=600.0)
    args = ap.parse_args()

    v6 = ":" in args.address
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                      socket.SOCK_DGRAM)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    # T2 is the kernel's receive time, as a reflector should take it
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((args.address, args.port))
    print("ready", flush=True)
    deadline = time.monotonic() + args.duration
    answered = 0
    while time.monotonic() < deadline:
        if not select.select([s], [], [], 0.5)[0]:
            continue
        data, anc, _flags, peer = s.recvmsg(2048, 256)
        t2 = ntp(time.time_ns())
        if len(data) < 44:
            continue
        ttl = 0
        for level, kind, value in anc:
            if (level, kind) in ((socket.IPPROTO_IP, socket.IP_TTL),
                                 (socket.IPPROTO_IPV6,
                                  socket.IPV6_HOPLIMIT)):
                ttl = int.from_bytes(value[:4], sys.byteorder) & 0xFF
            elif (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS):
                sec, nsec = struct.unpack("@qq", value[:16])
                t2 = ntp(sec * 1_000_000_000 + nsec)
        seq, t1, err = struct.unpack_from("!IQH", data, 0)
        if args.hold_ms:
            time.sleep(args.hold_ms / 1000.0)
        t3 = ntp(time.time_ns())
        reply = struct.pack("!IQHHQIQHHB3x", seq, t3, 0x1601, 0, t2, seq,
                            t1, err, 0, ttl)
        reply += bytes(len(data) - len(reply))
        s.sendto(reply, peer)
        answered += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
