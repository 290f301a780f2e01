"""A real IMAP server for the tests: Debian's Dovecot (``dovecot-imapd``) with its own
configuration in a temporary folder, on a free loopback port, plain-text login allowed (on
loopback only: nothing listens elsewhere), one test user and its Maildir. No system daemon is
used or touched. Test messages arrive with IMAP APPEND, as a delivery agent would put them."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

USER = "activation"
PASSWORD = "imap-secret-for-tests"
DOVECOT = "/usr/sbin/dovecot"


def missing() -> str | None:
    """Why the IMAP tests cannot run here (None if they can)."""
    if not (Path(DOVECOT).exists() or shutil.which("dovecot")):
        return "Dovecot is not installed (apt-get install dovecot-imapd)"
    if not Path("/usr/lib/dovecot/imap").exists():
        return "Dovecot's IMAP server is not installed (apt-get install dovecot-imapd)"
    if os.getuid() == 0:
        for name in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(name)
            except KeyError:
                return f"the system user {name!r} of Debian's dovecot-core is missing"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CONFIG = """\
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {home}/users
}}
userdb {{
  driver = passwd-file
  args = {home}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """One Dovecot on a free port; :meth:`stop` kills it and removes its folder."""

    def __init__(self, tls: bool = False) -> None:
        self.tls = tls
        # Its own folder under /tmp, traversable: as root, Dovecot's login and mail processes
        # run as its system users, which pytest's 0700 folders would shut out.
        self.home = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.home.chmod(0o755)
        self.port = free_port()
        # IMAPS (TLS from the start) with tls=True, on this port; STARTTLS on ``port`` then.
        self.tls_port = free_port() if tls else 0
        # The self-signed certificate (for 127.0.0.1) clients must trust, with tls=True.
        self.certificate = self.home / "cert.pem"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15) -> Dovecot:
        """Configure and start it; on any failure, nothing is left behind."""
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> Dovecot:
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:
            mail_user = pwd.getpwnam("dovecot")
            internal, group, login = "dovecot", "dovecot", "dovenull"
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
        else:
            internal = login = me.pw_name
            group = _group_name(me.pw_gid)
            uid, gid = me.pw_uid, me.pw_gid
        mail_home = self.home / "mail" / USER
        mail_home.mkdir(parents=True)
        (self.home / "state").mkdir()
        if os.getuid() == 0:
            os.chown(mail_home.parent, uid, gid)
            os.chown(mail_home, uid, gid)
        ssl = "ssl = no"
        if self.tls:
            key = self.home / "key.pem"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                 "-keyout", str(key), "-out", str(self.certificate)],
                check=True, capture_output=True,
            )  # fmt: skip
            ssl = f"ssl = yes\nssl_cert = <{self.certificate}\nssl_key = <{key}"
        (self.home / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail_home}\n")
        (self.home / "dovecot.conf").write_text(
            CONFIG.format(
                home=self.home,
                port=self.port,
                internal_user=internal,
                internal_group=group,
                login_user=login,
                ssl=ssl,
                tls_port=self.tls_port,
            )
        )
        binary = DOVECOT if Path(DOVECOT).exists() else str(shutil.which("dovecot"))
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.home / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot did not start: {self.log()}")
            try:
                with self.client():
                    return self
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer in {timeout} s: {self.log()}")

    def log(self) -> str:
        path = self.home / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        """A logged-in client (stdlib imaplib: the tests' own side)."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
        try:
            client.login(USER, PASSWORD)
        except Exception:
            client.shutdown()
            raise
        return client

    def deliver(self, *messages: bytes) -> None:
        """Put ``messages`` in INBOX (IMAP APPEND)."""
        with self.client() as client:
            for message in messages:
                status, _ = client.append("INBOX", None, None, message)
                assert status == "OK", status

    def count(self) -> int:
        """Messages in INBOX."""
        with self.client() as client:
            status, data = client.select("INBOX", readonly=True)
            assert status == "OK"
            return int(data[0] or 0)

    def stop(self) -> None:
        # SIGTERM: the master stops its helper processes (SIGKILL would leave them behind).
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.home, ignore_errors=True)


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def running_dovecot(tls: bool = False) -> Iterator[Dovecot]:
    """The body of a test fixture: a started Dovecot, stopped after the test; the test skips,
    saying why, where Dovecot is missing."""
    import pytest

    reason = missing()
    if reason:
        pytest.skip(reason)
    server = Dovecot(tls=tls).start()
    try:
        yield server
    finally:
        server.stop()
