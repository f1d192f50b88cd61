"""Separate hosts on one machine: a Linux network namespace per host, joined by a bridge, each with its own
address and its own loopback. A host is lost the way a machine is lost: every process in it killed at once
and its cable pulled."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path


def available() -> str:
    """Why namespaces cannot be made here, or "" when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (the ip command) is not installed"
    probe = f"rzprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def _ip(*args: str, netns: str | None = None) -> None:
    command = ["ip", *args] if netns is None else ["ip", "netns", "exec", netns, "ip", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")


class Network:
    """A /24 of private addresses unique to this process; the test itself runs on the bridge at .1."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.tag = f"rz{pid % 100000}"
        self.prefix = f"10.{100 + pid % 100}.{(pid // 100) % 250}"
        self.bridge = f"{self.tag}br"
        self.hosts: dict[str, str] = {}  # name -> namespace
        self.processes: dict[str, list[subprocess.Popen]] = {}
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.prefix}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def address(self, host: str) -> str:
        return f"{self.prefix}.{10 + list(self.hosts).index(host)}"

    def add_host(self, name: str) -> str:
        namespace = f"{self.tag}{name}"
        self.hosts[name] = namespace
        veth = f"{self.tag}v{len(self.hosts)}"
        _ip("netns", "add", namespace)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("addr", "add", f"{self.address(name)}/24", "dev", "eth0", netns=namespace)
        _ip("link", "set", "eth0", "up", netns=namespace)
        _ip("link", "set", "lo", "up", netns=namespace)
        return self.address(name)

    def start(self, host: str, argv: list[str], env: dict, log: Path) -> subprocess.Popen:
        process = subprocess.Popen(["ip", "netns", "exec", self.hosts[host], *argv], env=env,
                                   stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.setdefault(host, []).append(process)
        return process

    def lose(self, host: str) -> None:
        """Every process of the host dies at once (SIGKILL), then its link goes down."""
        pids = subprocess.run(["ip", "netns", "pids", self.hosts[host]], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in self.processes.get(host, []):
            process.wait(10)
        _ip("link", "set", "eth0", "down", netns=self.hosts[host])

    def destroy(self) -> None:
        for host in list(self.hosts):
            try:
                self.lose(host)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            subprocess.run(["ip", "netns", "del", self.hosts[host]], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
