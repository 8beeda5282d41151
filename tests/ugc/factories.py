"""UGC test data made directly in the database, in the status a test needs (the upload and scan
pipeline has its own tests); bytes go to storage through the storage API when a download needs a
real object."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from player_platform.db import utcnow
from player_platform.identity.models import User
from player_platform.ugc.items import rating_score
from player_platform.ugc.models import UgcItem

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10


def make_user(session, name: str = "Creator") -> uuid.UUID:
    user = User(display_name=name)
    session.add(user)
    session.flush()
    return user.id


def make_item(
    session,
    *,
    owner_id: uuid.UUID,
    status: str = "published",
    visibility: str = "public",
    type: str = "image",
    name: str = "A picture",
    description: str = "",
    tags: list[str] | None = None,
    age_minutes: int = 0,
    downloads: int = 0,
    ratings: tuple[int, int] = (0, 0),
    virus_status: str = "clean",
    storage=None,
    data: bytes = PNG_BYTES,
) -> uuid.UUID:
    """An item of ``owner_id``; published ``age_minutes`` ago (older first in 'recent')."""
    item_id = uuid.uuid4()
    at = utcnow() - timedelta(minutes=age_minutes)
    key = f"ugc/{type}/{item_id}/picture one.png"
    session.add(
        UgcItem(
            id=item_id, creator_id=owner_id, type=type, name=name, description=description,
            tags=tags or [], visibility=visibility, status=status, virus_status=virus_status,
            filename="picture one.png", content_type="image/png", size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), object_key=key,
            published_at=at if status == "published" else None, created_at=at, updated_at=at,
            download_count=downloads, rating_sum=ratings[0], rating_count=ratings[1],
            rating_score=rating_score(*ratings) if ratings[1] else 0,
        )
    )  # fmt: skip
    session.flush()
    if storage is not None:
        storage.put(key, data, content_type="image/png")
    return item_id
