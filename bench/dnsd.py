#!/usr/bin/python3
"""bench/dnsd.py: the authoritative DNS server of workload f (bench/run): answers from a zone
given as JSON, over UDP and TCP, with every positive answer built once at start, so that it
costs far less than the MTAs' look-ups it serves (its rate is measured and reported).

    dnsd.py serve ZONE.json ADDR PORT      # zone: {"name": {"TXT": ["...", ...], "A": [...],
                                           #                 "PTR": ["host."]}, ...}
    dnsd.py probe ADDR PORT SECONDS        # answers a second, 64 queries in flight

A TXT query for `queries.dnsd.bench` answers with the number of queries served so far, which
is how bench/run counts the queries of each run. A name outside the zone is NXDOMAIN, a type
it lacks NOERROR without data; both carry an SOA of the name's last label (cached by TTL)."""
import json
import os
import socket
import struct
import sys
import threading
import time

TYPES = {"A": 1, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
TTL = 3600
COUNTER = "queries.dnsd.bench"


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rdata(rtype, value):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == "PTR":
        return encode_name(value)
    if rtype == "MX":
        return struct.pack("!H", value[0]) + encode_name(value[1])
    if rtype == "TXT":   # one record; cut into character-strings of at most 255 bytes
        data = value.encode()
        return b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                        for i in range(0, max(len(data), 1), 255))
    raise ValueError(f"type {rtype} not served")


def rr(owner, qtype, data):
    """One resource record; owner is the bytes of a name or of a compression pointer."""
    return owner + struct.pack("!HHIH", qtype, 1, TTL, len(data)) + data


class Zone:
    def __init__(self, zone):
        self.answers = {}     # (lowercase name, qtype) -> (count, records after the question)
        self.names = set()
        for name, types in zone.items():
            name = name.lower().rstrip(".")
            self.names.add(name)
            for rtype, values in types.items():
                records = b"".join(rr(b"\xc0\x0c", TYPES[rtype], rdata(rtype, v))
                                   for v in values)
                self.answers[(name, TYPES[rtype])] = (len(values), records)
        self.queries = 0
        self.lock = threading.Lock()

    def negative(self, name):
        tld = name.rsplit(".", 1)[-1] if name else ""
        soa = (encode_name(f"ns.{tld}") + encode_name(f"hostmaster.{tld}")
               + struct.pack("!IIIII", 1, TTL, 600, 86400, TTL))
        return rr(encode_name(tld), 6, soa)

    def answer(self, query):
        """The response to one query message, or None when it is not one to answer."""
        if len(query) < 12:
            return None
        qid, flags, qd = struct.unpack("!HHH", query[:6])
        if flags & 0x8000 or qd != 1:
            return None
        labels, i = [], 12
        while True:
            if i >= len(query):
                return None
            n = query[i]
            i += 1
            if n == 0:
                break
            if n > 63 or i + n > len(query):
                return None
            labels.append(query[i:i + n].decode("latin-1").lower())
            i += n
        if i + 4 > len(query):
            return None
        qtype = struct.unpack("!H", query[i:i + 2])[0]
        question = query[12:i + 4]
        name = ".".join(labels)
        with self.lock:
            self.queries += 1
            served = self.queries
        rd = flags & 0x0100
        if name == COUNTER:
            an, records, ns, auth, rcode = 1, rr(b"\xc0\x0c", 16, rdata("TXT", str(served))), \
                0, b"", 0
        elif (name, qtype) in self.answers:
            an, records = self.answers[(name, qtype)]
            ns, auth, rcode = 0, b"", 0
        else:
            an, records, ns = 0, b"", 1
            auth = self.negative(name)
            rcode = 0 if name in self.names else 3
        head = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, an, ns, 0)
        return head + question + records + auth


def serve_udp(zone, sock):
    while True:
        query, peer = sock.recvfrom(4096)
        reply = zone.answer(query)
        if reply is not None:
            sock.sendto(reply, peer)


def serve_tcp_client(zone, conn):
    with conn:
        conn.settimeout(10)
        try:
            while True:
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return
                query = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                reply = zone.answer(query)
                if reply is None:
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return


def serve_tcp(zone, sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(zone, conn), daemon=True).start()


def serve(zone_file, addr, port):
    with open(zone_file) as f:
        zone = Zone(json.load(f))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    udp.bind((addr, port))
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(64)
    threading.Thread(target=serve_tcp, args=(zone, tcp), daemon=True).start()
    print("ready", flush=True)
    serve_udp(zone, udp)


def query_bytes(qid, name, qtype):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", qtype, 1)


def served(addr, port):
    """The number of queries the server at addr:port answered so far (itself included)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(query_bytes(1, COUNTER, 16), (addr, port))
        reply = s.recv(4096)
    qend = 12 + len(encode_name(COUNTER)) + 4
    return int(reply[qend + 2 + 10 + 1:].decode())


def probe(addr, port, seconds, window=64):
    """Answers a second from one client keeping `window` queries in flight (a TXT question
    of the zone, as the MTAs ask); lost datagrams are sent again after 0.2 s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((addr, port))
    s.settimeout(0.2)
    q = query_bytes(7, "probe.dnsd.bench", 16)
    answered, start = 0, time.monotonic()
    end = start + seconds
    for _ in range(window):
        s.send(q)
    while time.monotonic() < end:
        try:
            s.recv(4096)
            answered += 1
        except socket.timeout:
            for _ in range(window):
                s.send(q)
            continue
        s.send(q)
    rate = answered / (time.monotonic() - start)
    s.close()
    return rate


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "probe":
        print(f"{probe(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])):.0f}")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
