"""Mail templates: Jinja2 files in one directory, three per mail: ``<name>.subject.txt``,
``<name>.txt`` and ``<name>.html``. HTML is autoescaped; a missing variable is an error, raised
when the mail is queued (in the request), not when it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=lambda name: bool(name and name.endswith(".html")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def exists(name: str) -> bool:
    try:
        _environment().get_template(f"{name}.txt")
    except TemplateNotFound:
        return False
    return True


def render(name: str, context: dict[str, Any]) -> Rendered:
    env = _environment()
    subject = env.get_template(f"{name}.subject.txt").render(context)
    return Rendered(
        subject=" ".join(subject.split()),  # one line: a header cannot hold a newline
        text=env.get_template(f"{name}.txt").render(context),
        html=env.get_template(f"{name}.html").render(context),
    )
