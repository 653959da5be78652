"""tandem-backup pull over TLS (--tls --cacert --cert --key), from tandem and
from Debian's redis-server 7.0, with certificates made by
tools/gen-test-certs.sh: the pulled file restores an equal DEBUG DIGEST; a
server that wants a client certificate and gets none, and a server whose
certificate another CA signed, end the pull with exit 2 and no file; the
TLS options without --tls are a usage error (exit 1).
"""
import json

from test_backup import assert_no_files, fill, pull, restored_digest
from test_tls import certs, start_tls  # noqa: F401 (certs is a fixture)

from conftest import digest

DEBUG = ["--enable-debug-command", "yes"]


def tls_flags(certs, ca="ca", cert="client"):
    flags = ["--tls", "--cacert", certs / f"{ca}.crt"]
    if cert:
        flags += ["--cert", certs / f"{cert}.crt", "--key", certs / f"{cert}.key"]
    return flags


def test_pull_from_tandem_over_tls_with_a_client_certificate(make_tandem, certs, tmp_path):
    src = start_tls(make_tandem, certs, extra=DEBUG)
    fill(src)
    out = tmp_path / "tls.rdb"
    r = pull(src.tls_port, out, "--json", *tls_flags(certs))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["keys_total"] == 1204
    assert restored_digest(make_tandem, out) == digest(src)


def test_pull_without_a_certificate_when_the_server_does_not_ask(make_tandem, certs, tmp_path):
    src = start_tls(make_tandem, certs, extra=DEBUG + ["--tls-auth-clients", "no"])
    fill(src, n=50)
    out = tmp_path / "nocert.rdb"
    r = pull(src.tls_port, out, *tls_flags(certs, cert=None))
    assert r.returncode == 0, r.stderr
    assert restored_digest(make_tandem, out) == digest(src)


def test_pull_from_redis_over_tls(make_redis, make_tandem, certs, tmp_path):
    src = start_tls(make_redis, certs, extra=DEBUG + ["--repl-diskless-sync-delay", "0"])
    fill(src, n=100)
    out = tmp_path / "redis-tls.rdb"
    r = pull(src.tls_port, out, *tls_flags(certs))
    assert r.returncode == 0, r.stderr
    assert restored_digest(make_tandem, out) == digest(src)


def test_missing_client_certificate_exits_2(make_tandem, certs, tmp_path):
    src = start_tls(make_tandem, certs)  # tls-auth-clients yes
    out = tmp_path / "refused.rdb"
    r = pull(src.tls_port, out, "--timeout", "5", *tls_flags(certs, cert=None))
    assert r.returncode == 2, r.stderr
    assert_no_files(out)


def test_server_certificate_from_another_ca_exits_2(make_tandem, certs, tmp_path):
    src = start_tls(make_tandem, certs)
    out = tmp_path / "wrong-ca.rdb"
    r = pull(src.tls_port, out, "--timeout", "5", *tls_flags(certs, ca="other-ca"))
    assert r.returncode == 2, r.stderr
    assert "certificate" in r.stderr
    assert_no_files(out)


def test_tls_options_need_tls(certs, tmp_path):
    out = tmp_path / "x.rdb"
    r = pull(1, out, "--cacert", certs / "ca.crt")
    assert r.returncode == 1 and "need --tls" in r.stderr
    r = pull(1, out, "--tls", "--cert", certs / "client.crt")
    assert r.returncode == 1 and "go together" in r.stderr
    assert_no_files(out)
