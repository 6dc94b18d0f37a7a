"""Starts a real `twinscape serve` for the SDK tests and gives them a client.

The server binary comes from TWINSCAPE_BIN (the Rust test `tests/sdk.rs` sets
it); TWINSCAPE_ENDPOINT (+ TWINSCAPE_TOKEN) points the tests at a running
server instead.
"""
import os
import re
import shutil
import subprocess
import tempfile
import threading

import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.digitaltwins.core import DigitalTwinsClient


class StaticBearer(SansIOHTTPPolicy):
    """A token credential for plain http on loopback: azure-core refuses
    bearer tokens over http with a real credential, so the test sets the
    header itself (see docs/adt-api.md, 'Plain http against 127.0.0.1')."""

    def __init__(self, token):
        super().__init__()
        self.token = token

    def on_request(self, request):
        if self.token:
            request.http_request.headers["Authorization"] = "Bearer " + self.token


def _supports_auth(binary):
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=False)
    return "--auth" in out.stdout


@pytest.fixture(scope="session")
def server():
    endpoint = os.environ.get("TWINSCAPE_ENDPOINT")
    if endpoint:
        yield {"endpoint": endpoint, "token": os.environ.get("TWINSCAPE_TOKEN", "")}
        return
    binary = os.environ["TWINSCAPE_BIN"]
    data_dir = tempfile.mkdtemp(prefix="twinscape-sdk-")
    token = ""
    args = [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir,
            "--web-dir", os.path.join(data_dir, "no-web")]
    if _supports_auth(binary):
        out = subprocess.run([binary, "token", "--role", "owner", "--data-dir", data_dir],
                             capture_output=True, text=True, check=True)
        token = out.stdout.strip().splitlines()[-1]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = None
    for line in proc.stdout:
        m = re.match(r"Twinscape listening on (https?://[^/\s]+)/", line)
        if m:
            endpoint = m.group(1)
            break
    assert endpoint, "the server did not report its address"
    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    yield {"endpoint": endpoint, "token": token, "data_dir": data_dir}
    proc.kill()
    proc.wait()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def client(server):
    return DigitalTwinsClient(
        server["endpoint"],
        credential=object(),
        authentication_policy=StaticBearer(server["token"]),
        retry_total=0,
    )
