"""Sending a mail: over SMTP (PP_SMTP_URL), or, with the embedded default, a log line.

``smtp://host:port`` speaks plain SMTP and upgrades with STARTTLS when the server offers it;
``?starttls=require`` refuses to send without it and ``?starttls=never`` never tries (a relay
on loopback). ``smtps://host:port`` is TLS from the first byte. Credentials (``user:password@``)
are never sent unencrypted: with them, ``smtp://`` requires STARTTLS. Certificates are checked
against the system's trust store.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from player_platform.config import ConfigError

STARTTLS_MODES = ("opportunistic", "require", "never")
TIMEOUT_SECONDS = 20
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    """A rendered mail, ready to send; ``mail_id`` makes its Message-ID."""

    mail_id: str
    to: str
    subject: str
    text: str
    html: str
    template: str


class MailError(Exception):
    """Sending failed; ``permanent`` when the server refused for good (5xx), so no retry."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, envelope: Envelope) -> None: ...


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: str
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("PP_SMTP_URL must be smtp://host:port or smtps://host:port")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError:
            raise ConfigError("PP_SMTP_URL has an invalid port") from None
        options = parse_qs(parts.query)
        starttls = options.get("starttls", ["opportunistic"])[-1]
        if starttls not in STARTTLS_MODES:
            raise ConfigError(f"PP_SMTP_URL starttls must be one of {', '.join(STARTTLS_MODES)}")
        username = unquote(parts.username) if parts.username else None
        if username and parts.scheme == "smtp":
            if starttls == "never":
                raise ConfigError("PP_SMTP_URL: credentials are never sent without TLS")
            starttls = "require"
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            starttls=starttls,
            username=username,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpMailer:
    def __init__(self, target: SmtpTarget, *, sender: str) -> None:
        self.target = target
        self.sender = sender

    def send(self, envelope: Envelope) -> None:
        message = build_message(envelope, sender=self.sender)
        try:
            with self._connect() as smtp:
                if self.target.username:
                    smtp.login(self.target.username, self.target.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailError(f"recipient refused ({codes})", permanent=min(codes) >= 500) from None
        except smtplib.SMTPResponseException as error:
            raise MailError(f"SMTP {error.smtp_code}", permanent=error.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, timed out, TLS failed
            raise MailError(f"{error.__class__.__name__}: {error}") from None

    def _connect(self) -> smtplib.SMTP:
        t, context = self.target, ssl.create_default_context()
        if t.implicit_tls:
            return smtplib.SMTP_SSL(t.host, t.port, timeout=TIMEOUT_SECONDS, context=context)
        smtp = smtplib.SMTP(t.host, t.port, timeout=TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            offered = smtp.has_extn("starttls")
            if t.starttls == "require" and not offered:
                raise MailError("the SMTP server does not offer STARTTLS, which is required")
            if offered and t.starttls != "never":
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp


class LogMailer:
    """The embedded default: says that a mail was written, to whom and which template, and
    never its content (a link in it is a credential)."""

    def send(self, envelope: Envelope) -> None:
        log.info(
            "mail written (no PP_SMTP_URL: not sent)",
            extra={"mail": envelope.mail_id, "to": envelope.to, "template": envelope.template},
        )


def build_message(envelope: Envelope, *, sender: str) -> EmailMessage:
    """multipart/alternative: the text part first, the HTML part second."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = envelope.to
    message["Subject"] = envelope.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{envelope.mail_id}@player-platform>"
    message.set_content(envelope.text)
    message.add_alternative(envelope.html, subtype="html")
    return message


def open_mailer(smtp_url: str | None, *, sender: str) -> Mailer:
    if not smtp_url:
        return LogMailer()
    return SmtpMailer(SmtpTarget.parse(smtp_url), sender=sender)
