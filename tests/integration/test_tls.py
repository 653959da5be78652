"""TLS: tandem's TLS listener against Debian's redis-cli --tls and redis-py
with ssl (with and without a client certificate, tls-auth-clients
yes/no/optional), `port 0`, replication over TLS with mutual authentication
(tandem to tandem, and Debian's redis-server 7.0 as replica and as primary),
every refusal case (unknown CA, expired and self-signed certificates, a
plain-text client on the TLS port, a TLS client on the plain port, a stalled
handshake, a replica whose certificate or password is refused), a 100 MB
value, certificate rotation by CONFIG SET while clients stay connected, and
AUTH over TLS. Certificates come from tools/gen-test-certs.sh, once per
session."""
import hashlib
import re
import socket
import ssl
import subprocess

import pytest
import redis

from conftest import (REDIS_CLI, REPO, digest, free_port, info_fields, one, raw_connect,
                      recv_until_closed, repl, wait_until)

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPO / "tools" / "gen-test-certs.sh"), str(d)], check=True,
                   capture_output=True)
    return d


def tls_args(certs, tls_port, cert="server", ca="ca", extra=()):
    return ["--tls-port", tls_port, "--tls-cert-file", certs / f"{cert}.crt",
            "--tls-key-file", certs / f"{cert}.key", "--tls-ca-cert-file", certs / f"{ca}.crt",
            "--loglevel", "verbose", *extra]


def start_tls(make, certs, extra=(), cert="server", ca="ca"):
    """A started server (tandem or redis-server) with a plain port (used to
    check that it serves) and a TLS port (srv.tls_port)."""
    port = free_port()
    srv = make(tls_args(certs, port, cert, ca, extra))
    srv.tls_port = port
    return srv


def tls_client(srv, certs, cert="client", ca="ca", **kwargs):
    """A redis-py client over TLS; cert=None sends no client certificate."""
    kw = dict(ssl=True, ssl_ca_certs=str(certs / f"{ca}.crt"), ssl_cert_reqs="required",
              port=srv.tls_port)
    if cert:
        kw.update(ssl_certfile=str(certs / f"{cert}.crt"), ssl_keyfile=str(certs / f"{cert}.key"))
    kw.update(kwargs)
    return srv.client(**kw)


def cli(port, certs, *args, cert="client", ca="ca"):
    """Debian's redis-cli --tls; returns (exit status, stdout + stderr)."""
    cmd = [str(REDIS_CLI), "-h", "127.0.0.1", "-p", str(port), "--tls", "--cacert",
           str(certs / f"{ca}.crt")]
    if cert:
        cmd += ["--cert", str(certs / f"{cert}.crt"), "--key", str(certs / f"{cert}.key")]
    p = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).strip()


def refused(fn):
    """fn() fails on a connection error (the peer refused the handshake or
    closed the connection): returns the error text."""
    with pytest.raises((redis.ConnectionError, ssl.SSLError, OSError)) as e:
        fn()
    return str(e.value)


def wait_log(srv, pattern):
    return srv.wait_for_log(pattern, timeout=10)


# ---------------------------------------------------------------- clients


def test_redis_cli_with_client_certificate(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    assert cli(t.tls_port, certs, "SET", "k", "v") == (0, "OK")
    assert cli(t.tls_port, certs, "GET", "k") == (0, "v")
    assert one(t, "GET", "k") == b"v"  # the same dataset on the plain port


def test_redis_cli_without_certificate_refused_when_required(make_tandem, certs):
    t = start_tls(make_tandem, certs)  # tls-auth-clients yes (the default)
    rc, out = cli(t.tls_port, certs, "PING", cert=None)
    assert out != "PONG"
    wait_log(t, r"Error accepting a client connection: .*peer did not return a certificate")
    assert cli(t.tls_port, certs, "PING") == (0, "PONG")


@pytest.mark.parametrize("mode", ["no", "optional"])
def test_auth_clients_no_and_optional(make_tandem, certs, mode):
    t = start_tls(make_tandem, certs, ["--tls-auth-clients", mode])
    assert cli(t.tls_port, certs, "PING", cert=None) == (0, "PONG")
    assert cli(t.tls_port, certs, "PING") == (0, "PONG")
    assert tls_client(t, certs, cert=None).ping()


def test_auth_clients_optional_still_checks_a_given_certificate(make_tandem, certs):
    t = start_tls(make_tandem, certs, ["--tls-auth-clients", "optional"])
    refused(lambda: tls_client(t, certs, cert="selfsigned").ping())
    wait_log(t, r"Error accepting a client connection: .*self-signed certificate")


def test_redis_py_ssl(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    r = tls_client(t, certs)
    assert r.set("a", "1")
    p = r.pipeline(transaction=True)
    for i in range(1000):
        p.incr("a")
    p.get("a")
    assert p.execute()[-1] == "1001"
    assert r.info("server")["redis_version"] == "7.0.15"
    assert r.config_get("tls-auth-clients") == {"tls-auth-clients": "yes"}


def test_port_zero_serves_tls_only(make_tandem, certs):
    t = make_tandem(start=False)
    t.tls_port = free_port()
    t.spawn(tls_args(certs, t.tls_port) + ["--port", "0"])
    r = tls_client(t, certs, socket_timeout=2)

    def ping():
        try:
            return r.ping()
        except (redis.ConnectionError, OSError):
            return False

    wait_until(ping, 10, message="tandem answering over TLS")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", t.port), timeout=2).close()
    assert r.config_get("port") == {"port": "0"}


def test_many_pipelined_replies_over_tls(make_tandem, certs):
    """Replies bigger than a TLS record, read in pieces by the client, and
    requests that fill records: nothing stays stuck inside OpenSSL."""
    t = start_tls(make_tandem, certs)
    r = tls_client(t, certs)
    values = {f"key:{i}": "x" * (i % 3000) for i in range(2000)}
    r.mset(values)
    got = r.mget(list(values))
    assert got == list(values.values())


def test_100mb_value_over_tls(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    r = tls_client(t, certs, decode_responses=False, socket_timeout=120)
    big = hashlib.sha256(b"seed").digest() * (100 * 1024 * 1024 // 32)
    assert r.set(b"big", big)
    back = r.get(b"big")
    assert len(back) == len(big)
    assert hashlib.sha256(back).digest() == hashlib.sha256(big).digest()
    assert r.strlen(b"big") == 100 * 1024 * 1024


# ---------------------------------------------------------------- refusals


def test_unknown_ca_refused_by_client(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    err = refused(lambda: tls_client(t, certs, ca="other-ca").ping())
    assert "certificate verify failed" in err
    wait_log(t, r"Error accepting a client connection: ")
    assert tls_client(t, certs).ping()


def test_client_certificate_from_unknown_ca_refused(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    refused(lambda: tls_client(t, certs, cert="other").ping())
    wait_log(t, r"Error accepting a client connection: .*certificate verify failed.*"
                r"unable to get local issuer certificate")


def test_expired_client_certificate_refused(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    refused(lambda: tls_client(t, certs, cert="expired").ping())
    wait_log(t, r"Error accepting a client connection: .*certificate has expired")
    assert tls_client(t, certs).ping()


def test_self_signed_client_certificate_refused(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    refused(lambda: tls_client(t, certs, cert="selfsigned").ping())
    wait_log(t, r"Error accepting a client connection: .*self-signed certificate")


def test_self_signed_server_refused_by_client(make_tandem, certs):
    t = start_tls(make_tandem, certs, cert="selfsigned")
    assert "certificate verify failed" in refused(lambda: tls_client(t, certs).ping())


def test_plain_client_on_tls_port(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    s = raw_connect(t.tls_port)
    s.sendall(b"PING\r\n")
    data, closed = recv_until_closed(s)
    assert closed and b"PONG" not in data
    wait_log(t, r"Error accepting a client connection: .*wrong version number")
    assert tls_client(t, certs).ping()
    assert one(t, "PING") == "PONG"


def test_tls_client_on_plain_port(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    r = tls_client(t, certs, port=t.port, socket_timeout=5)
    refused(r.ping)
    wait_log(t, r"Closing client id=\d+ addr=127.0.0.1:\d+: it sent a TLS handshake to a "
                r"plain-text port")
    assert one(t, "PING") == "PONG"
    assert tls_client(t, certs).ping()


def test_stalled_handshake_is_closed(make_tandem, certs):
    t = start_tls(make_tandem, certs, ["--tls-handshake-timeout", "300"])
    s = socket.create_connection(("127.0.0.1", t.tls_port), timeout=10)
    assert recv_until_closed(s) == (b"", True)  # closed by the server, not by us
    wait_log(t, r"Error accepting a client connection: TLS handshake timed out after 300 ms")
    assert tls_client(t, certs).ping()


def test_wrong_key_stops_start_up(make_tandem, certs):
    t = make_tandem(start=False)
    t.spawn(tls_args(certs, free_port()) + ["--tls-key-file", certs / "client.key"])
    assert t.wait_exit() != 0
    assert re.search(r"Failed to configure TLS\. .*Failed to load private key: .*"
                     r"key values mismatch", t.read_log())


# ---------------------------------------------------------------- rotation


def test_certificate_rotation_keeps_clients(make_tandem, certs):
    t = start_tls(make_tandem, certs)
    old = tls_client(t, certs)
    assert old.set("k", "before")
    admin = t.client()
    # A bad certificate is refused and the old context stays.
    with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
        admin.config_set("tls-cert-file", str(certs / "missing.crt"))
    wait_log(t, r"Failed to update TLS configuration: Failed to load certificate")
    with pytest.raises(redis.ResponseError):
        admin.config_set("tls-key-file", str(certs / "client.key"))  # does not match
    assert admin.config_get("tls-cert-file")["tls-cert-file"] == str(certs / "server.crt")
    assert tls_client(t, certs).get("k") == "before"
    # Rotate to a certificate of another CA, in one CONFIG SET.
    admin.execute_command("CONFIG", "SET", "tls-cert-file", str(certs / "other.crt"),
                          "tls-key-file", str(certs / "other.key"))
    assert old.set("k", "after")  # the connection made before keeps working
    assert "certificate verify failed" in refused(lambda: tls_client(t, certs).ping())
    assert tls_client(t, certs, ca="other-ca").get("k") == "after"
    # A passphrase-protected key.
    admin.execute_command("CONFIG", "SET", "tls-cert-file", str(certs / "server.crt"),
                          "tls-key-file", str(certs / "server-pass.key"),
                          "tls-key-file-pass", "secret")
    assert tls_client(t, certs).get("k") == "after"
    assert old.get("k") == "after"


# ---------------------------------------------------------------- AUTH


def test_auth_over_tls(make_tandem, certs):
    t = start_tls(make_tandem, certs, ["--requirepass", "pw"])
    r = tls_client(t, certs)
    with pytest.raises(redis.AuthenticationError):
        r.ping()
    with pytest.raises(redis.ResponseError, match="WRONGPASS"):
        r.execute_command("AUTH", "nope")
    with pytest.raises(redis.ResponseError, match="WRONGPASS"):
        r.execute_command("AUTH", "default", "nope")
    r2 = tls_client(t, certs, password="pw")
    assert r2.ping()
    r3 = tls_client(t, certs, username="default", password="pw")
    assert r3.set("x", "1")
    assert int(r2.info("stats")["acl_access_denied_auth"]) == 2


# ---------------------------------------------------------------- replication


def repl_extra(certs, primary_port, cert="server"):
    return ["--tls-replication", "yes", "--replicaof", f"127.0.0.1 {primary_port}",
            "--tls-client-cert-file", certs / f"{cert}.crt",
            "--tls-client-key-file", certs / f"{cert}.key"]


def fill(r, n=2000):
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"key:{i}", f"value:{i}" * (i % 7 + 1))
    p.execute()


def wait_link_up(srv):
    wait_until(lambda: repl(srv).get("master_link_status") == "up", 20,
               message=lambda: f"link up; INFO: {repl(srv)}\n{srv.read_log()[-2000:]}")


def test_tandem_pair_over_tls_with_mutual_auth(make_tandem, certs):
    p = start_tls(make_tandem, certs)  # tls-auth-clients yes: the replica must show a cert
    fill(tls_client(p, certs))
    r = start_tls(make_tandem, certs, repl_extra(certs, p.tls_port, cert="client"))
    wait_link_up(r)
    wait_log(r, r"Replication link: CONNECTING -> TLS_HANDSHAKE")
    wait_log(r, r"TLS handshake with MASTER completed")
    tls_client(p, certs).set("after", "sync")
    wait_until(lambda: one(r, "GET", "after") == b"sync", 10, message="the stream")
    wait_until(lambda: digest(r) == digest(p), 10, message="equal digests")
    slave = repl(p)["slave0"]
    assert f"port={r.tls_port}" in slave  # the replica announces its TLS port
    assert one(r, "ROLE")[3] == b"connected"


def test_redis_server_as_tls_replica_of_tandem(make_tandem, make_redis, certs):
    t = start_tls(make_tandem, certs)
    fill(tls_client(t, certs))
    rs = start_tls(make_redis, certs, repl_extra(certs, t.tls_port, cert="client"))
    wait_link_up(rs)
    tls_client(t, certs).set("after", "sync")
    wait_until(lambda: one(rs, "GET", "after") == b"sync", 10, message="the stream")
    assert one(rs, "DBSIZE") == one(t, "DBSIZE") == 2001
    assert one(rs, "GET", "key:1999") == one(t, "GET", "key:1999")


def test_redis_server_as_tls_primary_of_tandem(make_tandem, make_redis, certs):
    rs = start_tls(make_redis, certs)
    fill(tls_client(rs, certs))
    t = start_tls(make_tandem, certs, repl_extra(certs, rs.tls_port))
    wait_link_up(t)
    tls_client(rs, certs).set("after", "sync")
    wait_until(lambda: one(t, "GET", "after") == b"sync", 10, message="the stream")
    assert one(t, "DBSIZE") == one(rs, "DBSIZE") == 2001
    assert one(t, "GET", "key:1999") == one(rs, "GET", "key:1999")


def assert_link_keeps_failing(r, reason):
    """The link is down with a reason matching the regex in INFO and the
    log, and retries."""
    wait_until(lambda: int(repl(r).get("tandem_link_failures", 0)) >= 2, 20,
               message=lambda: f"two failed attempts; INFO: {repl(r)}")
    info = repl(r)
    assert info["master_link_status"] == "down"
    assert re.search(reason, info["tandem_link_last_failure"]), info["tandem_link_last_failure"]
    wait_log(r, reason)


def test_replica_with_refused_certificate(make_tandem, certs):
    p = start_tls(make_tandem, certs)
    r = start_tls(make_tandem, certs, repl_extra(certs, p.tls_port, cert="selfsigned"))
    # TLS 1.3: the replica learns of the refusal at its first read (the
    # primary's alert) or write (the connection reset).
    assert_link_keeps_failing(r, "I/O error trying to sync with MASTER: .*alert unknown ca|"
                                 "Error condition on socket for SYNC: Connection reset by peer")
    wait_log(p, r"Error accepting a client connection: .*self-signed certificate")


def test_replica_that_does_not_trust_the_primary(make_tandem, certs):
    p = start_tls(make_tandem, certs, cert="other")
    r = start_tls(make_tandem, certs, repl_extra(certs, p.tls_port, cert="client"))
    assert_link_keeps_failing(r, "TLS handshake with MASTER failed")
    assert "certificate verify failed" in repl(r)["tandem_link_last_failure"]


def test_replica_with_wrong_password(make_tandem, certs):
    p = start_tls(make_tandem, certs, ["--requirepass", "right"])
    r = start_tls(make_tandem, certs,
                  repl_extra(certs, p.tls_port, cert="client") + ["--masterauth", "wrong"])
    assert_link_keeps_failing(r, "WRONGPASS")
    one(r, "CONFIG", "SET", "masterauth", "right")
    wait_link_up(r)


def test_protected_mode_serves_loopback(make_tandem):
    """protected-mode yes (the default) and no password: loopback clients
    are served (the refusal of other addresses is tested in
    tests/unit/test_protected.c, since tests connect over loopback only)."""
    t = make_tandem()
    r = t.client()
    assert r.config_get("protected-mode") == {"protected-mode": "yes"}
    assert r.ping()
    r.config_set("protected-mode", "no")
    assert r.config_get("protected-mode") == {"protected-mode": "no"}
