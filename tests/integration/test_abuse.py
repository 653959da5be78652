"""Limits hold under abuse, and everyone else is still served.

- 10,000 idle connections: all accepted (maxclients 10100), the memory
  they cost stays under 8 KB each (no buffer is allocated before it is
  needed), a well-behaved client is served meanwhile, and closing them frees
  it all; clients that were busy and went idle give their buffers back.
- A client that declares a 1 GB bulk and sends it slowly: the server's
  memory grows with the bytes that arrived, not with the declared length,
  and the client is dropped when client-query-buffer-limit is reached.
- A client that pipelines without reading its replies: it is dropped when
  client-output-buffer-limit normal is reached; memory comes back.
- Fairness does not cost correctness: a pipeline whose replies run to many
  MB (its input runs a slice of output per loop iteration) gets every reply
  in order, and a big argument read straight into place arrives intact
  whatever the pieces it came in.

Latency under abuse is a benchmark's business (tools/bench/abuse.sh): here
a bystander only has to be served, within bounded waits.
"""
import random
import socket
import threading

from conftest import (RespReader, encode_command, info_fields, one, raise_nofile_limit,
                      raw_connect, wait_until)

MB = 1024 * 1024


def used_memory(srv):
    return int(info_fields(srv, "memory")["used_memory"])


def connected(srv):
    return int(info_fields(srv, "clients")["connected_clients"])


def bystander_served(srv, n=50):
    with raw_connect(srv.port) as s:
        for i in range(n):
            s.sendall(encode_command("SET", f"by:{i}", i))
            assert s.recv(64) == b"+OK\r\n"


def test_ten_thousand_idle_connections(make_tandem):
    assert raise_nofile_limit(10000 + 512) >= 10000 + 512
    srv = make_tandem(["--maxclients", "10100"])
    base = used_memory(srv)
    socks = []
    try:
        # In batches within the listen backlog (tcp-backlog 511), so that no
        # SYN is dropped and retried seconds later.
        for batch in range(25):
            for _ in range(400):
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
            wait_until(lambda: connected(srv) >= len(socks) + 1, 60, interval=0.01,
                       message=lambda: f"connected_clients {connected(srv)}")
        bystander_served(srv)
        # A client that never sent anything holds no query or reply buffer.
        grown = used_memory(srv) - base
        assert grown < 10000 * 8 * 1024, f"10,000 idle clients cost {grown} bytes"
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: connected(srv) == 1, 60, interval=0.1,
               message=lambda: f"connected_clients {connected(srv)}")
    bystander_served(srv)


def test_idle_clients_give_their_buffers_back(make_tandem):
    srv = make_tandem()
    base = used_memory(srv)
    socks = [raw_connect(srv.port) for _ in range(1000)]
    try:
        for s in socks:
            s.sendall(encode_command("PING"))
        for s in socks:
            assert s.recv(16) == b"+PONG\r\n"
        # Each holds a query buffer and a reply buffer now.
        busy = used_memory(srv) - base
        assert busy > 1000 * 16 * 1024, f"1,000 clients after a PING cost {busy} bytes"
        # Idle for 2 s, the cron gives them back.
        wait_until(lambda: used_memory(srv) - base < 1000 * 8 * 1024, 30,
                   message=lambda: f"used_memory {used_memory(srv)} base {base}")
        for s in socks:
            s.sendall(encode_command("PING"))
        for s in socks:
            assert s.recv(16) == b"+PONG\r\n"
    finally:
        for s in socks:
            s.close()


def test_slow_one_gigabyte_bulk_costs_what_arrived(make_tandem):
    srv = make_tandem(["--proto-max-bulk-len", "2gb", "--client-query-buffer-limit", "64mb"])
    base = used_memory(srv)
    with raw_connect(srv.port) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$1073741824\r\n")
        chunk = b"x" * MB
        for i in range(16):
            s.sendall(chunk)
            bystander_served(srv, 5)
        # 16 MB of a declared 1 GB arrived: memory follows the 16 MB.
        grown = used_memory(srv) - base
        assert grown < 48 * MB, f"{grown} bytes for 16 MB received"
        # Past client-query-buffer-limit the client is dropped.
        try:
            for _ in range(80):
                s.sendall(chunk)
        except OSError:
            pass  # closed by the server while we were sending
        s.settimeout(30)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
    wait_until(lambda: connected(srv) == 1, 30, message=lambda: srv.read_log()[-2000:])
    assert "Closing client that reached max query buffer length" in srv.read_log()
    wait_until(lambda: used_memory(srv) - base < 8 * MB, 30,
               message=lambda: f"used_memory {used_memory(srv)} base {base}")
    assert one(srv, "EXISTS", "huge") == 0
    bystander_served(srv)


def test_pipelining_without_reading_is_dropped_at_the_output_limit(make_tandem):
    srv = make_tandem(["--client-output-buffer-limit", "normal 16mb 0 0"])
    one(srv, "SET", "v", "x" * 4096)
    base = used_memory(srv)
    request = encode_command("GET", "v") * 1000
    with raw_connect(srv.port) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        try:
            for _ in range(100):  # 100,000 GETs: 400 MB of replies, never read
                s.sendall(request)
        except OSError:
            pass  # the server dropped us while we were still sending
        bystander_served(srv)
        # Still connected, never reading: the server must drop us (the
        # requests sent but not run yet make far more than the limit).
        wait_until(lambda: connected(srv) == 1, 30, message=lambda: srv.read_log()[-2000:])
    assert "scheduled to be closed ASAP for overcoming of output buffer limits" in srv.read_log()
    wait_until(lambda: used_memory(srv) - base < 8 * MB, 30,
               message=lambda: f"used_memory {used_memory(srv)} base {base}")
    bystander_served(srv)


def test_pipeline_of_big_replies_arrives_whole_and_in_order(make_tandem):
    srv = make_tandem()
    value = bytes(random.Random(1).randrange(256) for _ in range(4096))
    one(srv, "SET", "v", value)
    # 4,000 GETs (16 MB of replies, dozens of slices) with an INCR every
    # 100 that numbers them: any lost, repeated or reordered reply shows.
    request = b"".join(encode_command("INCR", "n") if i % 100 == 0 else encode_command("GET", "v")
                       for i in range(4000))
    with raw_connect(srv.port) as s:
        s.settimeout(30)
        sender = threading.Thread(target=s.sendall, args=(request,))
        sender.start()
        bystander_served(srv)  # while the pipeline's replies wait unread
        reader = RespReader(s, 30)
        for i in range(4000):
            reply = reader.read()
            if i % 100 == 0:
                assert reply == i // 100 + 1, f"reply {i}"
            else:
                assert reply == value, f"reply {i}"
        sender.join()
    assert one(srv, "GET", "n") == b"40"


def test_big_argument_in_odd_pieces_arrives_intact(make_tandem):
    srv = make_tandem()
    rng = random.Random(2)
    value = rng.randbytes(3 * MB + 17)
    payload = encode_command("SET", "big", value) + encode_command("STRLEN", "big")
    with raw_connect(srv.port) as s:
        s.settimeout(30)
        pos = 0
        while pos < len(payload):
            n = rng.choice([1, 2, 100, 4095, 32768, 65537, 500000])
            s.sendall(payload[pos:pos + n])
            pos += n
        f = s.makefile("rb")
        assert f.readline() == b"+OK\r\n"
        assert f.readline() == f":{len(value)}\r\n".encode()
    assert one(srv, "GET", "big") == value
