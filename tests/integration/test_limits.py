"""Per-client memory limits: client-query-buffer-limit and the normal class
of client-output-buffer-limit.

A client that exceeds either limit is disconnected, the event is logged and
counted in INFO stats, other clients are unaffected, and the server's memory
stays bounded.
"""
import socket
import threading

from conftest import (RespReader, encode_command, info_fields, raw_connect, recv_until_closed,
                      wait_until)

MB = 1024 * 1024


def stats(srv):
    return info_fields(srv, "stats")


def test_query_buffer_limit_disconnects(make_tandem):
    srv = make_tandem(["--client-query-buffer-limit", "1mb"])
    other = srv.client()
    assert other.ping() is True
    with raw_connect(srv.port) as s:
        s.settimeout(10)
        # a request announcing a 5MB argument, sent in 64KB pieces
        sent = 0
        try:
            s.sendall(b"*2\r\n$4\r\nECHO\r\n$5000000\r\n")
            chunk = b"q" * 65536
            while sent < 5000000 - len(chunk):
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        data, closed = recv_until_closed(s, timeout=10)
        assert closed, "the client over the query buffer limit was not disconnected"
        assert data == b""
    srv.wait_for_log(r"Closing client that reached max query buffer length")
    assert stats(srv)["client_query_buffer_limit_disconnections"] == "1"
    assert other.ping() is True
    assert other.echo("fine") == "fine"


def test_query_buffer_below_limit_is_fine(make_tandem):
    srv = make_tandem(["--client-query-buffer-limit", "1mb"])
    value = b"v" * (700 * 1024)
    r = srv.client(decode_responses=False)
    assert r.echo(value) == value
    assert stats(srv)["client_query_buffer_limit_disconnections"] == "0"


def test_output_buffer_limit_disconnects_a_client_that_does_not_read(tandem):
    control = tandem.client()
    assert control.config_set("client-output-buffer-limit", "normal 1mb 512kb 10") is True
    limits = control.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    assert limits.startswith("normal 1048576 524288 10 ")

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.settimeout(20)
    s.connect(("127.0.0.1", tandem.port))
    sender = None
    try:
        s.sendall(encode_command("CLIENT", "ID"))
        client_id = RespReader(s).read()
        payload = encode_command("ECHO", b"e" * 65536) * 200  # 12.8MB of replies

        def flood():
            try:
                s.sendall(payload)
            except OSError:
                pass  # the server closed the connection: expected

        sender = threading.Thread(target=flood, daemon=True)
        sender.start()

        def gone():
            listing = control.execute_command("CLIENT", "LIST")
            return f"id={client_id} " not in listing

        wait_until(gone, 20, interval=0.05,
                   message="the non-reading client to be disconnected")
        tandem.wait_for_log(
            r"scheduled to be closed ASAP for overcoming of output buffer limits")
        assert stats(tandem)["client_output_buffer_limit_disconnections"] == "1"
        used = int(control.info("memory")["used_memory"])
        assert used < 50 * MB, f"used_memory {used} after the disconnect"
        # what the client still receives ends with the connection closed
        _, closed = recv_until_closed(s, timeout=10)
        assert closed
    finally:
        s.close()
        if sender:
            sender.join(10)
    assert control.ping() is True
    assert control.echo("ok") == "ok"


def test_output_buffer_limit_spares_clients_that_read(tandem):
    control = tandem.client()
    control.config_set("client-output-buffer-limit", "normal 1mb 512kb 10")
    r = tandem.client(decode_responses=False)
    value = b"r" * 65536
    for _ in range(20):  # 8 replies (512KB) at most outstanding at a time
        pipe = r.pipeline(transaction=False)
        for _ in range(8):
            pipe.echo(value)
        assert pipe.execute() == [value] * 8
    assert stats(tandem)["client_output_buffer_limit_disconnections"] == "0"
