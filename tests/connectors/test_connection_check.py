"""Connection checks run in the worker, never in the web request (issue 16, "Requests Resonanz makes"): the desk
button and the API queue the check; the channel's page and the API show its answer once the worker ran it."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.connectors import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(monkeypatch):
    """Tasks are queued, not run; ``worker.run()`` runs them as the worker would. Connections are recorded."""

    class Worker:
        def __init__(self) -> None:
            self.queued: list[int] = []
            self.connected: list[int] = []

        def run(self) -> None:
            while self.queued:
                tasks.check_channel_task.run(self.queued.pop(0))

    w = Worker()
    monkeypatch.setattr(tasks.check_channel_task, "delay", lambda pk: w.queued.append(pk))
    return w


def test_the_desk_button_queues_the_check_and_the_page_shows_its_answer(api_channel, admin_user, worker,
                                                                         monkeypatch):
    driver = type(api_channel.driver)
    monkeypatch.setattr(driver, "check_connection", lambda self: (worker.connected.append(self.channel.pk)
                                                                  or (True, "API bereit")))
    desk = Client()
    desk.force_login(admin_user)
    response = desk.post(f"/inbox/settings/channels/{api_channel.pk}/check/")
    assert response.status_code == 302 and response["Location"].endswith("#health")
    assert worker.connected == [] and worker.queued == [api_channel.pk]  # nothing connected in the request
    page = desk.get(response["Location"]).content.decode()
    assert "The check runs in the background" in page

    worker.run()
    assert worker.connected == [api_channel.pk]
    page = desk.get(response["Location"]).content.decode()
    assert "Connection works: API bereit" in page and "The check runs" not in page


def test_the_api_answers_202_at_once_and_shows_the_result_on_the_channel(api_channel, admin_api, worker,
                                                                          monkeypatch):
    driver = type(api_channel.driver)
    monkeypatch.setattr(driver, "check_connection", lambda self: (worker.connected.append(self.channel.pk)
                                                                  or (False, "connection refused")))
    response = admin_api.post(f"/api/channels/{api_channel.pk}/check/")
    assert response.status_code == 202 and response.json()["pending"] is True
    assert worker.connected == []
    assert admin_api.get(f"/api/channels/{api_channel.pk}/").json()["last_check"]["pending"] is True

    worker.run()
    check = admin_api.get(f"/api/channels/{api_channel.pk}/").json()["last_check"]
    assert (check["ok"], check["detail"], check["pending"]) == (False, "connection refused", False)
    assert check["at"]
    channel = admin_api.get(f"/api/channels/{api_channel.pk}/").json()
    assert channel["last_error"] == "connection refused" and not channel["healthy"]
