"""A scriptable SMTP/LMTP server for the smtp client's tests, on a loopback address (or a UNIX
socket), one thread per connection. What it answers is set per test; what it received is kept:
every connection (and whether it used TLS) and every transaction (sender, recipients, the
exact bytes of the message after dot-unstuffing). Every read has a time limit.

    with SmtpServer(rcpt=lambda rcpt: "550 5.1.1 no such user" if "bad" in rcpt else None,
                    data=lambda n: "451 4.3.0 try later" if n == 1 else None) as srv:
        ... srv.port, srv.connections, srv.transactions
"""
import os
import socket
import ssl
import threading
import time

from conftest import free_port

TIMEOUT = 20


class Transaction:
    def __init__(self):
        self.sender = None
        self.mail_params = ""
        self.rcpts = []           # accepted recipients
        self.rcpt_params = []     # their parameters
        self.data = b""
        self.tls = False


class Listener:
    """A listening socket on host:port (a port from conftest.free_port by default; port 0
    could take one it already gave an instance) or a UNIX socket, accepting in a thread and
    running self.session(sock), which a subclass defines, in a thread per connection; a
    context manager. connections counts the accepted ones."""

    def __init__(self, host="127.0.0.1", port=0, unix_path=None, backlog=64):
        self.connections = 0
        self.lock = threading.Lock()
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if os.path.exists(unix_path):
                os.unlink(unix_path)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o666)
            self.port = None
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((host, port or free_port()))
            self.port = self.sock.getsockname()[1]
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()


class SmtpServer(Listener):
    """Options (all optional):
    greeting   the first reply (default "220 test ESMTP")
    ehlo       extensions offered, e.g. ["PIPELINING", "SIZE 1000000", "8BITMIME", "DSN"]
    starttls   (certfile, keyfile): offer STARTTLS with that certificate
    inject     a line sent right after the 220 to STARTTLS, in the same packet (an attack)
    rcpt       f(address) -> reply text or None (250)
    data       f(n) -> reply text or None (250) for the n-th message (from 1) after its dot
    lmtp       answer LHLO, and one reply per accepted recipient after the dot
                (data_lmtp f(address, n) -> reply text or None)
    close_in_data  close the connection after reading this many bytes of message
    delay      seconds to wait before each reply after the greeting (a slow server)
    host/port/unix_path  where to listen (default 127.0.0.1, a free port)"""

    def __init__(self, host="127.0.0.1", port=0, unix_path=None, greeting="220 test ESMTP",
                 ehlo=("PIPELINING", "8BITMIME", "SIZE 10240000", "DSN", "SMTPUTF8"),
                 starttls=None, inject=None, rcpt=None, data=None, lmtp=False, data_lmtp=None,
                 close_in_data=None, delay=0.0):
        self.greeting, self.ehlo, self.starttls, self.inject = greeting, list(ehlo), starttls, \
            inject
        self.rcpt_fn, self.data_fn, self.lmtp, self.data_lmtp = rcpt, data, lmtp, data_lmtp
        self.close_in_data, self.delay = close_in_data, delay
        self.tls_connections = 0
        self.transactions = []
        self.commands = []        # every command line received, in order
        self.messages = 0
        super().__init__(host, port, unix_path)

    # ---- one connection ----

    def session(self, conn):
        conn.settimeout(TIMEOUT)
        s = _Lines(conn)
        try:
            self._dialogue(s)
        except (OSError, ValueError, ssl.SSLError):
            pass
        finally:
            try:
                s.conn.close()
            except OSError:
                pass

    def _reply(self, s, text):
        if self.delay:
            time.sleep(self.delay)
        s.send(text)

    def _dialogue(self, s):
        s.send(self.greeting)
        if not self.greeting.startswith("220"):
            s.readline()      # QUIT
            s.send("221 bye")
            return
        tx, tls = Transaction(), False
        while True:
            line = s.readline()
            if line is None:
                return
            with self.lock:
                self.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "LHLO") or (verb == "HELO" and not self.lmtp):
                if verb == "HELO":
                    self._reply(s, "250 test")
                    continue
                ext = [e for e in self.ehlo if e != "STARTTLS" or not tls]
                if self.starttls and not tls:
                    ext.append("STARTTLS")
                lines = ["test"] + ext
                self._reply(s, "\r\n".join(f"250{'-' if i < len(lines) - 1 else ' '}{x}"
                                           for i, x in enumerate(lines)))
            elif verb == "STARTTLS" and self.starttls and not tls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(*self.starttls)
                s.send("220 2.0.0 go ahead" + ("\r\n" + self.inject if self.inject else ""))
                s.conn = ctx.wrap_socket(s.conn, server_side=True)
                s.buf = b""
                tls = True
                with self.lock:
                    self.tls_connections += 1
            elif verb == "MAIL":
                tx = Transaction()
                tx.tls = tls
                arg = line[10:] if line.upper().startswith("MAIL FROM:") else ""
                tx.sender, _, tx.mail_params = arg.partition(" ")
                tx.sender = tx.sender.strip("<>")
                self._reply(s, "250 2.1.0 Ok")
            elif verb == "RCPT":
                arg = line[8:] if line.upper().startswith("RCPT TO:") else ""
                addr, _, params = arg.partition(" ")
                addr = addr.strip("<>")
                answer = self.rcpt_fn(addr) if self.rcpt_fn else None
                if answer is None:
                    tx.rcpts.append(addr)
                    tx.rcpt_params.append(params)
                self._reply(s, answer or "250 2.1.5 Ok")
            elif verb == "DATA":
                if not tx.rcpts:
                    self._reply(s, "554 5.5.1 no valid recipients")
                    continue
                self._reply(s, "354 go ahead")
                data = s.read_data(self.close_in_data)
                if data is None:
                    return        # closed in the middle, as asked
                tx.data = data
                with self.lock:
                    self.messages += 1
                    n = self.messages
                if self.lmtp:
                    ok = False
                    for r in tx.rcpts:
                        answer = self.data_lmtp(r, n) if self.data_lmtp else None
                        ok = ok or answer is None
                        self._reply(s, answer or "250 2.0.0 delivered")
                    if ok:
                        with self.lock:
                            self.transactions.append(tx)
                else:
                    answer = self.data_fn(n) if self.data_fn else None
                    if answer is None:
                        with self.lock:
                            self.transactions.append(tx)
                    self._reply(s, answer or f"250 2.0.0 Ok: queued as T{n}")
                tx = Transaction()
            elif verb == "RSET":
                tx = Transaction()
                self._reply(s, "250 2.0.0 Ok")
            elif verb == "NOOP":
                self._reply(s, "250 2.0.0 Ok")
            elif verb == "QUIT":
                s.send("221 2.0.0 Bye")
                return
            else:
                self._reply(s, "502 5.5.2 unknown command")


class _Lines:
    """CRLF lines over a socket that may become TLS; bounded."""

    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def send(self, text):
        self.conn.sendall(text.encode() + b"\r\n")

    def _fill(self):
        chunk = self.conn.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        if len(self.buf) > 64 * 1024 * 1024:
            raise ValueError("too much data")
        return True

    def readline(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 4096 or not self._fill():
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def read_data(self, close_after=None):
        """The message up to CRLF.CRLF, dot-unstuffed; None when closing early as asked."""
        if close_after is not None:
            while len(self.buf) < close_after and self._fill():
                pass
            return None
        while b"\r\n.\r\n" not in b"\r\n" + self.buf:
            if not self._fill():
                return None
        raw = b"\r\n" + self.buf
        end = raw.index(b"\r\n.\r\n")
        body, self.buf = raw[2:end + 2], raw[end + 5:]
        lines = body.split(b"\r\n")
        return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)
