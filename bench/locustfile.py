"""Agents working the inbox while customers' messages arrive over the API (run by bench/load.py).

Configured by environment variables that bench/load.py sets: RZ_TOKEN (an API token), RZ_CHANNEL (the API
channel's id), RZ_AGENTS (agent user names, comma-separated), RZ_PASSWORD, RZ_INBOUND_RATE (messages per
second in all), RZ_SENT (a file; every external id the server acknowledged is appended, one per line).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
import uuid

from locust import HttpUser, between, constant_throughput, task

AGENTS = itertools.cycle(os.environ.get("RZ_AGENTS", "agent0").split(","))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ROW = re.compile(r'data-id="(\d+)"')
WORDS = ["Paket", "Rechnung", "Kündigung", "refund", "Lieferung", "password", "Vertrag", "broken"]
TEXTS = ["Wo bleibt mein Paket? Die Bestellung {n} ist seit einer Woche unterwegs.",
         "My invoice {n} is wrong, I was charged twice. Please refund.",
         "Ich möchte meinen Vertrag {n} kündigen.", "The app crashes when I open order {n}.",
         "Danke für die schnelle Hilfe bei Auftrag {n}!"]
INBOUND_USERS = max(1, int(os.environ.get("RZ_INBOUND_USERS", "5")))


class Customer(HttpUser):
    """One of the systems posting customers' messages: together they send RZ_INBOUND_RATE per second."""

    weight = int(os.environ.get("RZ_INBOUND_USERS", "5"))
    wait_time = constant_throughput(float(os.environ.get("RZ_INBOUND_RATE", "10")) / INBOUND_USERS)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {os.environ['RZ_TOKEN']}"
        self.sent = open(os.environ["RZ_SENT"], "a", buffering=1)  # noqa: SIM115 (kept open for the run)

    @task
    def post_message(self):
        external_id = f"load-{uuid.uuid4().hex}"
        n = random.randint(1000, 99999)
        payload = {"external_id": external_id, "text": random.choice(TEXTS).format(n=n),
                   "sender": {"handle": f"kunde{random.randint(1, 3000)}@example.com"}, "subject": f"Anfrage {n}"}
        for attempt in range(5):  # a well-behaved client sends a 503 ("busy, nothing stored") again, same id
            with self.client.post(f"/api/channels/{os.environ['RZ_CHANNEL']}/inbound/", json=payload,
                                  name="inbound (API)" if attempt == 0 else "inbound (API, resent)",
                                  catch_response=True) as response:
                if response.status_code in (200, 201):
                    self.sent.write(external_id + "\n")
                    response.success()
                    return
                if response.status_code == 503 and attempt < 4:
                    response.success()  # counted under its own name; a failure only if the resends fail too
                    time.sleep(min(2.0, float(response.headers.get("Retry-After") or 1)))
                    continue
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return


class Agent(HttpUser):
    """An agent in the browser: the inbox, a conversation, a search, now and then a reply."""

    weight = int(os.environ.get("RZ_AGENT_USERS", "10"))
    wait_time = between(*(float(x) for x in os.environ.get("RZ_THINK", "1,3").split(",")))

    def on_start(self):
        page = self.client.get("/accounts/login/", name="login")
        token = CSRF.search(page.text).group(1)
        done = self.client.post("/accounts/login/", data={"username": next(AGENTS),
                                                          "password": os.environ.get("RZ_PASSWORD", ""),
                                                          "csrfmiddlewaretoken": token, "next": "/inbox/"},
                                headers={"Referer": self.host + "/accounts/login/"}, name="login")
        self.ids = [int(i) for i in ROW.findall(done.text)]
        self.csrf = self.client.cookies.get("csrftoken", "")

    @task(4)
    def inbox(self):
        page = self.client.get("/inbox/", name="inbox page")
        self.ids = [int(i) for i in ROW.findall(page.text)] or self.ids

    @task(4)
    def open_conversation(self):
        if self.ids:
            self.client.get(f"/inbox/conversations/{random.choice(self.ids)}/", name="conversation page")

    @task(2)
    def search(self):
        self.client.get(f"/inbox/?q={random.choice(WORDS)}", name="search page")

    @task(1)
    def reply(self):
        if not self.ids:
            return
        pk = random.choice(self.ids)
        with self.client.post(f"/inbox/conversations/{pk}/reply/",
                              data={"text": "Danke, wir kümmern uns darum.", "csrfmiddlewaretoken": self.csrf},
                              headers={"Referer": f"{self.host}/inbox/conversations/{pk}/"},
                              name="reply", catch_response=True, allow_redirects=False) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"{response.status_code}")
