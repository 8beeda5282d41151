"""The app sending mail to the loopback SMTP server, its notification_send queue drained by a
real RQ worker, and the links read out of the mails received."""

from __future__ import annotations

import dataclasses
import re
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from rq import SimpleWorker

from player_platform.app import create_app
from player_platform.platform import Platform, bind_current

LINK = re.compile(r"https?://[^\s\"<>]+\?token=[A-Za-z0-9_-]+")


@pytest.fixture
def mail_platform(settings, db, smtp_server) -> Platform:
    p = Platform.from_settings(dataclasses.replace(settings, smtp_url=smtp_server[0]), db=db)
    bind_current(p)
    return p


@pytest.fixture
def mail_client(mail_platform):
    return create_app(platform=mail_platform).test_client()


def drain(platform: Platform) -> None:
    queue = platform.jobs.queue("notification_send")
    SimpleWorker([queue], connection=platform.jobs.redis).work(burst=True)


def parts(message: EmailMessage) -> dict[str, str]:
    """The text and HTML bodies of a multipart/alternative mail, by content type."""
    assert message.get_content_type() == "multipart/alternative"
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


def only_link(message: EmailMessage) -> str:
    """The one link the mail carries, the same in its text and its HTML part."""
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    links = {part: set(LINK.findall(body)) for part, body in bodies.items()}
    assert len(links["text/plain"]) == 1
    assert links["text/plain"] == links["text/html"]
    return links["text/plain"].pop()


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]
