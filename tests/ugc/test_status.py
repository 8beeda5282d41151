"""The status machine: allowed transitions, refusals, history and audit, and races."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from player_platform.__main__ import migrate
from player_platform.audit.models import AuditLog
from player_platform.audit.service import SYSTEM
from player_platform.config import Settings
from player_platform.db import Database, utcnow
from player_platform.errors import DomainError, NotFound
from player_platform.identity.models import User
from player_platform.ugc.models import UgcItem, UgcTransition
from player_platform.ugc.status import transition


def _item(session, *, status: str = "draft", virus_status: str = "pending") -> uuid.UUID:
    owner = User(display_name="Creator")
    session.add(owner)
    session.flush()
    item_id = uuid.uuid4()
    session.add(
        UgcItem(
            id=item_id,
            creator_id=owner.id,
            type="image",
            name="A picture",
            filename="a.png",
            content_type="image/png",
            size=10,
            sha256="0" * 64,
            object_key=f"ugc/image/{item_id}/a.png",
            status=status,
            virus_status=virus_status,
        )
    )
    session.flush()
    return item_id


def _move(session, item_id, action, **extra):
    return transition(
        session, ugc_id=item_id, action=action, actor_id=None, origin=SYSTEM, now=utcnow(), **extra
    )


def test_an_item_goes_from_draft_to_published_and_every_step_is_recorded(db):
    with db.unit_of_work() as session:
        item_id = _item(session)
        for action in ("upload", "scan", "hold", "approve"):
            item = _move(session, item_id, action, notes=f"step {action}")
        assert item.status == "published"
        assert item.published_at is not None
        history = session.scalars(
            select(UgcTransition).where(UgcTransition.ugc_id == item_id)
        ).all()
        steps = sorted((h.from_status, h.to_status) for h in history)
        assert steps == sorted(
            [
                ("draft", "uploaded"),
                ("uploaded", "scanning"),
                ("scanning", "pending_review"),
                ("pending_review", "published"),
            ]
        )
        audited = session.scalars(
            select(AuditLog.action).where(AuditLog.resource_id == str(item_id))
        ).all()
        assert sorted(audited) == ["ugc.approve", "ugc.hold", "ugc.scan", "ugc.upload"]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "approve"),  # nothing is published unscanned
        ("uploaded", "publish"),
        ("scanning", "approve"),
        ("published", "reject"),
        ("removed", "flag"),
        ("published", "upload"),
    ],
)
def test_an_impossible_transition_is_409_and_changes_nothing(db, status, action):
    with db.unit_of_work() as session:
        item_id = _item(session, status=status)
        with pytest.raises(DomainError) as refused:
            _move(session, item_id, action)
        assert refused.value.status == 409
        assert refused.value.code == "invalid_transition"
        assert session.get(UgcItem, item_id, populate_existing=True).status == status
        assert (
            session.scalars(select(UgcTransition).where(UgcTransition.ugc_id == item_id)).all()
            == []
        )


def test_an_infected_item_cannot_be_restored_but_a_moderated_one_can(db):
    with db.unit_of_work() as session:
        infected = _item(session, status="removed", virus_status="infected")
        with pytest.raises(DomainError) as refused:
            _move(session, infected, "restore")
        assert refused.value.code == "invalid_transition"
        moderated = _item(session, status="removed", virus_status="clean")
        assert _move(session, moderated, "restore").status == "published"


def test_a_missing_item_is_404(db):
    with db.unit_of_work() as session, pytest.raises(NotFound):
        _move(session, uuid.uuid4(), "approve")


def test_two_concurrent_decisions_on_one_item_one_wins(committing_db):
    with committing_db.unit_of_work() as session:
        item_id = _item(session, status="pending_review", virus_status="clean")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(action: str) -> None:
        try:
            with committing_db.unit_of_work() as session:
                barrier.wait()
                _move(session, item_id, action, reason=action)
            outcomes.append(action)
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=decide, args=(a,)) for a in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["approve", "invalid_transition"], ["invalid_transition", "reject"])
    winner = next(o for o in outcomes if o != "invalid_transition")
    with committing_db.unit_of_work() as session:
        item = session.get_one(UgcItem, item_id)
        assert item.status == {"approve": "published", "reject": "removed"}[winner]
        history = session.scalars(
            select(UgcTransition).where(UgcTransition.ugc_id == item_id)
        ).all()
        assert [(h.from_status, h.action) for h in history] == [("pending_review", winner)]


def test_the_machine_works_on_the_embedded_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/embedded.db"
    migrate(Settings(database_url=url))
    embedded = Database.from_url(url)
    with embedded.unit_of_work() as session:
        item_id = _item(session, status="scanning")
        assert _move(session, item_id, "hold").status == "pending_review"
        with pytest.raises(DomainError):
            _move(session, item_id, "hold")
        assert session.scalar(select(UgcTransition.from_status)) == "scanning"
    embedded.dispose()
