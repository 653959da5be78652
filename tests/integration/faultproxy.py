"""A TCP proxy of the project's own, put between a replica and its primary
to inject faults into the replication link.

FaultProxy(target_port) listens on a free loopback port and forwards every
accepted connection to 127.0.0.1:target_port, one thread a connection
moving bytes both ways. Faults:

- hold(direction, pattern): once the bytes going that way ("up": replica to
  primary, "down": primary to replica) contain pattern, the command or
  payload that starts with it is kept back, and nothing more goes that way,
  until release(). A held request keeps the replica waiting for its reply,
  in the state after that request; a held payload keeps it in TRANSFER.
- cut(): closes every connection at once, both sides (a dropped link).
- truncate(direction, nbytes): lets nbytes more go that way, then closes
  the connection (a link that dies in the middle of a message).
- refuse()/accept(): stop or start listening (a primary that cannot be
  reached).
- blackhole(): listen without ever accepting, the queue already full, so
  that a new connect hangs (the replica waits in CONNECTING) until
  release() or accept().

stop() ends everything; the pytest fixture calls it.
"""
import select
import socket
import threading

from conftest import free_port

UP, DOWN = "up", "down"


class _Pair:
    """One proxied connection: client is the replica's side, server the
    primary's."""

    def __init__(self, proxy, client, server):
        self.proxy = proxy
        self.sockets = {UP: (client, server), DOWN: (server, client)}
        self.pending = {UP: b"", DOWN: b""}  # bytes held back, per direction
        self.closed = False

    def close(self):
        if self.closed:
            return
        self.closed = True
        for s in self.sockets[UP]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _forward(self, direction, data):
        """Sends what the proxy's rules let through; keeps the rest."""
        proxy = self.proxy
        with proxy.lock:
            data = self.pending[direction] + data
            rule = proxy.holds.get(direction)
            if rule is not None:
                if self.pending[direction]:
                    self.pending[direction] = data
                    return True
                at = data.find(rule)
                if at >= 0:
                    # Hold from the start of the message that holds the pattern:
                    # a RESP command begins with '*'.
                    start = data.rfind(b"*", 0, at + 1) if direction == UP else at
                    start = max(start, 0)
                    self.pending[direction] = data[start:]
                    data = data[:start]
                    proxy.held_event.set()
            else:
                self.pending[direction] = b""
            limit = proxy.truncates.get(direction)
            if limit is not None:
                data = data[:limit]
                proxy.truncates[direction] = limit - len(data)
        if data:
            self.sockets[direction][1].sendall(data)
        with proxy.lock:
            left = proxy.truncates.get(direction)
        return left is None or left > 0

    def _readable(self, ends):
        """The ends to read from: not those whose direction is held with bytes
        kept back, so that the sender feels the back-pressure (a primary
        stays in SEND_BULK while its replica's payload is held)."""
        with self.proxy.lock:
            return [s for s, d in ends.items()
                    if not (self.pending[d] and d in self.proxy.holds)]

    def run(self):
        client, server = self.sockets[UP]
        ends = {client: UP, server: DOWN}
        try:
            while not self.closed:
                ready, _, _ = select.select(self._readable(ends), [], [], 0.05)
                for s in ready:
                    data = s.recv(65536)
                    if not data or not self._forward(ends[s], data):
                        return
                for direction in (UP, DOWN):
                    if self.pending[direction] and direction not in self.proxy.holds:
                        if not self._forward(direction, b""):
                            return
        except OSError:
            pass
        finally:
            self.close()
            self.proxy._forget(self)


class FaultProxy:
    def __init__(self, target_port):
        self.target_port = target_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.holds = {}
        self.truncates = {}
        self.held_event = threading.Event()
        self.pairs = []
        self.listener = None
        self.filler = None  # the connection that fills a blackhole's queue
        self.stopping = False
        self.accept()

    # ------------------------------------------------------------ faults

    def hold(self, direction, pattern):
        with self.lock:
            self.holds[direction] = pattern
            self.held_event.clear()

    def release(self):
        with self.lock:
            self.holds.clear()
            self.truncates.clear()
        if self.filler:
            self.accept()

    def truncate(self, direction, nbytes):
        with self.lock:
            self.truncates[direction] = nbytes

    def cut(self):
        with self.lock:
            pairs = list(self.pairs)
        for p in pairs:
            p.close()

    def refuse(self):
        if self.filler:
            self.filler.close()
            self.filler = None
        if self.listener:
            # shutdown() wakes the accept loop and leaves the port free.
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None

    def _listen(self, backlog):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(backlog)

    def accept(self):
        if self.filler:
            self.refuse()
        if self.listener:
            return
        self._listen(16)
        threading.Thread(target=self._accept_loop, args=(self.listener,), daemon=True).start()

    def blackhole(self):
        self.refuse()
        self._listen(0)
        # Linux queues one connection past a backlog of 0: this one. Later
        # SYNs are dropped and the connect stays pending.
        self.filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def stop(self):
        self.stopping = True
        self.refuse()
        self.cut()

    # ---------------------------------------------------------- plumbing

    def _accept_loop(self, listener):
        while not self.stopping:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = _Pair(self, client, server)
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=pair.run, daemon=True).start()

    def _forget(self, pair):
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)
