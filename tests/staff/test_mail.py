"""Invitation and reset links arrive by e-mail through a real (local) SMTP server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from api.app_state import state_of
from harness.servers import free_port
from kernel.mail import NullMailer, SmtpMailer, mailer_for
from kernel.settings import Settings
from tests.staff.staff_helpers import Browser, make_user, new_email


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    async def wait_for(self, to: str, seconds: float = 10) -> Message:
        for _ in range(int(seconds * 20)):
            for message in self.messages:
                if message["To"] == to:
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no mail to {to}")


@pytest.fixture
def inbox(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    monkeypatch.setattr(state_of(app), "mailer", mailer_for(settings))
    try:
        yield box
    finally:
        controller.stop()


def test_no_smtp_host_means_no_mail() -> None:
    assert isinstance(mailer_for(Settings(smtp_host=None)), NullMailer)
    assert isinstance(mailer_for(Settings(smtp_host="mail.example.org")), SmtpMailer)


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_an_invitation_arrives_by_mail(app: FastAPI, inbox: Inbox) -> None:
    organiser = await make_user(app)
    invitee = new_email()
    async with Browser(app) as browser:
        await browser.sign_in(organiser)
        sent = await browser.post(
            "/console/staff/invitations",
            {"email": invitee, "role": "organiser", "game": ""},
            page="/console/staff",
        )
        assert sent.status_code == 303 and sent.headers["location"].endswith("notice=mailed")
    message = await inbox.wait_for(invitee)
    assert "invited" in message["Subject"]
    link = re.search(r"http://testserver(/invite/[A-Za-z0-9_-]+)", _body(message))
    assert link
    async with Browser(app) as guest:
        password = "mailed bright kettle 55"
        done = await guest.post(link.group(1), {"password": password, "confirm": password})
        assert done.status_code == 303
        assert (await guest.get("/console/")).status_code == 200


async def test_a_reset_link_arrives_by_mail(app: FastAPI, inbox: Inbox) -> None:
    email = await make_user(app)
    async with Browser(app) as browser:
        asked = await browser.post("/reset", {"email": email})
        assert asked.status_code == 200
        message = await inbox.wait_for(email)
        link = re.search(r"http://testserver(/reset/[A-Za-z0-9_-]+)", _body(message))
        assert link
        password = "another fine lantern 9"
        done = await browser.post(link.group(1), {"password": password, "confirm": password})
        assert done.status_code == 303
        assert (await browser.sign_in(email, password)).status_code == 303
    assert len([m for m in inbox.messages if m["To"] == email]) == 1
    nobody = new_email()
    async with Browser(app) as browser:
        await browser.post("/reset", {"email": nobody})
    await asyncio.sleep(0.2)
    assert not [m for m in inbox.messages if m["To"] == nobody]
