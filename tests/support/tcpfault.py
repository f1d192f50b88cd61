"""A TCP proxy on 127.0.0.1 that cuts a connection at the worst moment, for protocols other than HTTP.

Tests put it between a client and a real server (Dovecot, say) and arm a cut: once the client has sent a
chunk containing ``trigger`` (b"FETCH"), the proxy forwards ``after_bytes`` more bytes of the server's answer
and then closes both sides, as a dropped network or a restarted server would. ``times`` cuts are made, then
the proxy passes everything through.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass


@dataclass
class Cut:
    trigger: bytes
    after_bytes: int = 0
    times: int = 1


class TcpFaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.cuts: list[Cut] = []
        self.made = 0  # cuts that happened
        self.connections = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, trigger: bytes, after_bytes: int = 0, times: int = 1) -> Cut:
        cut = Cut(trigger, after_bytes, times)
        self.cuts.append(cut)
        return cut

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream)
        state = {"armed": None, "left": 0}
        closed = threading.Event()

        def close() -> None:
            closed.set()
            for s in (client, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

        def upward() -> None:  # client -> server: watch for the trigger
            while not closed.is_set():
                try:
                    data = client.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                with self._lock:
                    for cut in self.cuts:
                        if cut.times > 0 and cut.trigger in data and state["armed"] is None:
                            cut.times -= 1
                            state["armed"], state["left"] = cut, cut.after_bytes
                try:
                    server.sendall(data)
                except OSError:
                    break
            close()

        def downward() -> None:  # server -> client: cut after the armed number of bytes
            while not closed.is_set():
                try:
                    data = server.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                if state["armed"] is not None:
                    if len(data) >= state["left"]:
                        try:
                            client.sendall(data[: state["left"]])
                        except OSError:
                            pass
                        self.made += 1
                        break
                    state["left"] -= len(data)
                try:
                    client.sendall(data)
                except OSError:
                    break
            close()

        threading.Thread(target=upward, daemon=True).start()
        threading.Thread(target=downward, daemon=True).start()

    def stop(self) -> None:
        self._stopped = True
        self._server.close()
