"""Start-up configuration: config files, command-line overrides, include,
mistakes that stop start-up, and real Redis 7.0 config files.

A bad file must stop the server with exit status 1 and a message on stderr
that names the file, the line and the directive. Debian's own
/etc/redis/redis.conf must start tandem (with the few settings that would
make it daemonize or write outside the test directory overridden on the
command line), warning once about the Redis directives that have no effect.
"""
import re
import shutil
import subprocess

import pytest

from conftest import TANDEM_BIN, free_port, kill_process, _live_processes

DEBIAN_CONF = "/etc/redis/redis.conf"
WARNING_RE = r"WARNING: these Redis directives are accepted but have no effect in tandem: (.*)"


def run_failing_start(tmp_path, config_text=None, args=()):
    """Runs tandem expecting it to refuse to start. A safe port, bind and log
    are always given so that a server that does start harms nothing; it is
    stopped by pid in any case. Returns (exit status, stderr, config path)."""
    conf = None
    cmd = [str(TANDEM_BIN)]
    if config_text is not None:
        conf = tmp_path / "bad.conf"
        conf.write_text(config_text)
        cmd.append(str(conf))
    cmd += list(args)
    cmd += ["--port", str(free_port()), "--bind", "127.0.0.1", "--dir", str(tmp_path),
            "--logfile", str(tmp_path / "bad.log")]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    _live_processes.add(proc)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        kill_process(proc)
        out, err = proc.communicate()
        pytest.fail(f"tandem kept running instead of refusing the configuration:\n{err}")
    finally:
        kill_process(proc)
    return proc.returncode, err, conf


def test_unknown_directive_stops_startup(tmp_path):
    text = "# a comment\nmaxclients 100\nno-such-directive yes\ntimeout 0\n"
    rc, err, conf = run_failing_start(tmp_path, text)
    assert rc == 1
    assert str(conf) in err
    assert re.search(r"line\D{0,3}3\b", err), err
    assert "no-such-directive" in err


@pytest.mark.parametrize("line,directive", [
    ("maxclients abc", "maxclients"),
    ("loglevel loud", "loglevel"),
    ("port 99999", "port"),
    ("timeout", "timeout"),
    ("proto-max-bulk-len 10", "proto-max-bulk-len"),
    ('bind "127.0.0.1', None),
])
def test_bad_value_stops_startup(tmp_path, line, directive):
    text = f"hz 10\n\n{line}\n"
    rc, err, conf = run_failing_start(tmp_path, text)
    assert rc == 1
    assert str(conf) in err
    assert re.search(r"line\D{0,3}3\b", err), err
    if directive:
        assert directive in err


def test_bad_command_line_option_stops_startup(tmp_path):
    rc, err, _ = run_failing_start(tmp_path, args=["--maxclients", "lots"])
    assert rc == 1
    assert "maxclients" in err


def test_missing_config_file_stops_startup(tmp_path):
    missing = tmp_path / "nope.conf"
    rc, err, _ = run_failing_start(tmp_path, args=[str(missing)])
    assert rc == 1
    assert str(missing) in err


@pytest.mark.parametrize("where", ["file", "command line"])
def test_appendonly_yes_is_refused(tmp_path, where):
    if where == "file":
        rc, err, _ = run_failing_start(tmp_path, "appendonly yes\n")
    else:
        rc, err, _ = run_failing_start(tmp_path, args=["--appendonly", "yes"])
    assert rc == 1
    assert "appendonly" in err


def test_appendonly_no_is_accepted(make_tandem):
    srv = make_tandem(config_text="appendonly no\n")
    assert srv.client().config_get("appendonly") == {"appendonly": "no"}


def debian_conf_copy(tmp_path, extra=""):
    conf = tmp_path / "redis.conf"
    shutil.copyfile(DEBIAN_CONF, conf)
    if extra:
        with open(conf, "a") as f:
            f.write(extra)
    return conf.read_text()


def debian_overrides(srv):
    return ["--daemonize", "no", "--supervised", "no",
            "--pidfile", str(srv.dir / "redis.pid")]


def warning_lines(srv):
    return [line for line in srv.read_log().splitlines() if re.search(WARNING_RE, line)]


def test_debian_redis_conf_starts_tandem(make_tandem, tmp_path):
    text = debian_conf_copy(tmp_path, "\nmaxmemory-policy allkeys-lru\nlazyfree-lazy-eviction yes\n")
    srv = make_tandem(start=False)
    srv.start(debian_overrides(srv), config_text=text)
    r = srv.client()
    assert r.ping() is True
    assert r.config_get("port") == {"port": str(srv.port)}
    assert r.config_get("daemonize") == {"daemonize": "no"}
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert r.config_get("databases") == {"databases": "16"}
    warnings = warning_lines(srv)
    assert len(warnings) == 1, warnings
    listed = re.search(WARNING_RE, warnings[0]).group(1).split()
    assert "maxmemory-policy" in listed and "lazyfree-lazy-eviction" in listed
    for implemented in ("port", "bind", "dir", "logfile", "pidfile", "maxclients"):
        assert implemented not in listed
    assert (srv.dir / "redis.pid").read_text().strip() == str(srv.pid)


def test_debian_redis_conf_warning_names_only_changed_directives(make_tandem, tmp_path):
    """Debian's file sets many Redis-only directives to their default values
    (e.g. 'auto-aof-rewrite-min-size 64mb' is the default 67108864); those
    must not be named in the warning."""
    text = debian_conf_copy(tmp_path, "\nmaxmemory-policy allkeys-lru\n")
    srv = make_tandem(start=False)
    srv.start(debian_overrides(srv), config_text=text)
    warnings = warning_lines(srv)
    assert len(warnings) == 1, warnings
    listed = re.search(WARNING_RE, warnings[0]).group(1).split()
    assert listed == ["maxmemory-policy"]


def test_config_get_redis_only_directive_values(make_tandem, redis_server):
    """Redis-only directives keep their values and CONFIG GET shows them as
    Redis 7.0 does (sizes in bytes, booleans as yes/no)."""
    settings = [("maxmemory-policy", "allkeys-lru"), ("maxmemory", "100mb"),
                ("auto-aof-rewrite-min-size", "64mb"), ("activerehashing", "no"),
                ("slowlog-max-len", "256"), ("lazyfree-lazy-eviction", "YES"),
                ("list-max-listpack-size", "-3")]
    text = "".join(f"{name} {value}\n" for name, value in settings)
    srv = make_tandem(config_text=text)
    t, r = srv.client(), redis_server.client()
    for name, value in settings:
        r.config_set(name, value)
    for name, _ in settings:
        assert t.config_get(name) == r.config_get(name), name
    assert t.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}


def test_config_get_redis_only_directive_default(tandem, redis_server):
    t, r = tandem.client(), redis_server.client()
    for name in ("maxmemory-policy", "maxmemory", "appendfsync", "slowlog-log-slower-than",
                 "notify-keyspace-events", "io-threads"):
        assert t.config_get(name) == r.config_get(name), name


def test_include_directive(make_tandem, tmp_path):
    extra = tmp_path / "extra.conf"
    extra.write_text("# included\ntimeout 3\nmaxclients 77\n")
    text = f"hz 12\ninclude {extra}\ntimeout 5\n"
    srv = make_tandem(config_text=text)
    r = srv.client()
    assert r.config_get("maxclients") == {"maxclients": "77"}  # from the included file
    assert r.config_get("timeout") == {"timeout": "5"}  # the later line wins
    assert r.config_get("hz") == {"hz": "12"}


def test_include_of_a_bad_file_names_that_file(tmp_path):
    extra = tmp_path / "extra.conf"
    extra.write_text("timeout 3\nbogus-directive 1\n")
    rc, err, _ = run_failing_start(tmp_path, f"include {extra}\n")
    assert rc == 1
    assert str(extra) in err
    assert re.search(r"line\D{0,3}2\b", err), err
    assert "bogus-directive" in err


def test_command_line_overrides_file(make_tandem):
    srv = make_tandem(["--maxclients", "42", "--loglevel", "warning"],
                      config_text="maxclients 100\nloglevel verbose\ntimeout 7\n")
    r = srv.client()
    assert r.config_get("maxclients") == {"maxclients": "42"}
    assert r.config_get("loglevel") == {"loglevel": "warning"}
    assert r.config_get("timeout") == {"timeout": "7"}  # from the file


def test_quoted_values_and_units(make_tandem):
    text = ('client-output-buffer-limit normal 2mb 1mb 30\n'
            'proto-max-bulk-len 2mb\n'
            'CLIENT-QUERY-BUFFER-LIMIT "4mb"\n'
            "requirepass 'a b'\n")
    srv = make_tandem(config_text=text)
    r = srv.client(password="a b")
    assert r.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "2097152"}
    assert r.config_get("client-query-buffer-limit") == {"client-query-buffer-limit": "4194304"}
    limits = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    assert limits.startswith("normal 2097152 1048576 30 ")


def test_config_file_path_in_info(make_tandem):
    srv = make_tandem(config_text="hz 10\n")
    assert srv.client().info("server")["config_file"] == str(srv.config_path)
