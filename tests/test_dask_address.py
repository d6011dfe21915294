"""`--dask ADDRESS` that is not a Dask scheduler: one line within the stated timeout, before any store.

Only loopback servers started here are contacted (an HTTP server, a server
sending junk, one that closes at once); an unroutable address is simulated by
a connect that times out.
"""

import http.server
import socket
import threading
import time

import pytest

import genlab.runs.executors as ex
from genlab import GenlabError
from genlab.cli.app import main
from genlab.runs.executors import check_dask, reach_dask


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    monkeypatch.setattr(ex, "DASK_CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(ex, "_REACHED", {})


def serve(handler):
    """A loopback TCP server calling ``handler(conn)`` on each connection (for a bounded number); its address."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(30)

    def loop():
        with srv:
            for _ in range(8):
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    handler(conn)

    threading.Thread(target=loop, daemon=True).start()
    return f"tcp://127.0.0.1:{srv.getsockname()[1]}"


def refused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


@pytest.fixture
def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"tcp://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def refused_in_time(address, match, seconds=3.0):
    t0 = time.monotonic()
    with pytest.raises(GenlabError, match=match) as exc:
        reach_dask(address)
    assert time.monotonic() - t0 < seconds and "\n" not in str(exc.value)
    return str(exc.value)


def test_an_http_server_is_refused_within_the_timeout(http_server):
    message = refused_in_time(http_server, "sent no Dask handshake within 1 s")
    assert message == (f"{http_server} accepted a connection but sent no Dask handshake within 1 s: it is not "
                       "a Dask scheduler (an HTTP server?); check --dask")


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",  # would be read as an 8-byte length of 3 EiB
    b"SSH-2.0-OpenSSH_9.2\r\n",
    (40).to_bytes(8, "little") + (1).to_bytes(8, "little") + (999).to_bytes(8, "little") + b"x" * 16,  # bad frames
    b"\x00\x01",  # a few bytes, then closed (struct.error in distributed)
    b"",  # closed at once
])
def test_another_protocol_is_refused_at_once(reply):
    address = serve(lambda conn: conn.sendall(reply))
    message = refused_in_time(address, f"{address} is not a Dask scheduler: it answered", seconds=1.0)
    assert ("nothing" in message) == (reply == b"")


def test_a_closed_port_and_an_unroutable_address(monkeypatch):
    port = refused_port()
    refused_in_time(f"tcp://127.0.0.1:{port}", f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} "
                                               r"\(connection refused\)")

    def never_connects(address, timeout):
        time.sleep(min(timeout, 0.2))
        raise socket.timeout("timed out")

    monkeypatch.setattr(ex.socket, "create_connection", never_connects)  # as tcp://10.255.255.1:8786 would
    refused_in_time("tcp://10.255.255.1:8786", r"cannot reach the Dask scheduler at tcp://10.255.255.1:8786 "
                                               r"\(no connection within 1 s\)")


def test_a_hung_name_lookup_is_bounded_too(monkeypatch):
    def hung_lookup(address, timeout):
        time.sleep(3)  # beyond the 1 s given: the probe's thread is left to end on its own
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(ex.socket, "create_connection", hung_lookup)
    refused_in_time("tcp://slow.invalid:8786", r"\(no answer within 1 s\)", seconds=4.0)


def test_address_forms():
    assert check_dask("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_dask(" tcp://[::1]:8786 ") == "tcp://[::1]:8786"
    for bad, match in (("http://h:1", "unknown protocol 'http'"), ("tcp://h:99999", "not a scheduler address"),
                       ("tcp://h", "not a scheduler address"), ("tcp://h:1/x", "not a scheduler address"),
                       ("scheduler", "not a scheduler address")):
        with pytest.raises(GenlabError, match=match):
            check_dask(bad)


def test_a_real_scheduler_passes():
    distributed = pytest.importorskip("distributed")

    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=None,
                                  scheduler_port=0, host="127.0.0.1") as cluster:
        reach_dask(cluster.scheduler_address)
        assert cluster.scheduler_address in ex._REACHED


def test_the_cli_refuses_before_creating_the_store(tmp_path, capsys):
    address = serve(lambda conn: conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n"))
    rc = main(["runs", "demo", "--n", "2", "--out", str(tmp_path / "o"), "--dask", address])
    out, err = capsys.readouterr()
    assert rc == 2 and err == (f"genlab: error: {address} is not a Dask scheduler: it answered "
                               "b'HTTP/1.0 200 OK\\r\\n\\r\\n'; check --dask\n")
    assert not (tmp_path / "o").exists()
