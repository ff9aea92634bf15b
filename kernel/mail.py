"""Sending e-mail: invitation and password-reset links.

``mailer_for(settings)`` is an ``SmtpMailer`` when ``TAPTRAIL_SMTP_HOST`` is set, else a
``NullMailer`` that sends nothing (the console shows the link to copy instead). ``send``
returns whether the message was handed to the mail server; it never raises, so a mail
server that is down never undoes the change that sent the mail (send after the commit).
Neither the address nor the body is logged: only that a message was or was not sent.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Protocol

from kernel.logging import log
from kernel.settings import Settings


class Mailer(Protocol):
    configured: bool

    async def send(self, to: str, subject: str, body: str) -> bool: ...


class NullMailer:
    configured = False

    async def send(self, to: str, subject: str, body: str) -> bool:
        return False


class SmtpMailer:
    configured = True

    def __init__(self, settings: Settings, *, timeout: float = 20.0) -> None:
        assert settings.smtp_host is not None
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.starttls = settings.smtp_starttls
        self.timeout = timeout

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)

    async def send(self, to: str, subject: str, body: str) -> bool:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail.failed", subject=subject, error=type(exc).__name__)
            return False
        log.info("mail.sent", subject=subject)
        return True


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else NullMailer()
