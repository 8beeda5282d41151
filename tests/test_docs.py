"""/docs works without internet: the page and every asset it loads come from the app."""

from __future__ import annotations

import re

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_docs_and_every_asset_they_load_are_served_by_the_app(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "//" not in html  # no http://, https:// or protocol-relative //host anywhere
    assets = ASSET.findall(html)
    assert {a.rsplit("/", 1)[-1] for a in assets} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for url in assets:
        assert url.startswith("/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.get_data()) > 10_000, url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in response.mimetype, (url, response.mimetype)
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"] == "3.0.3"


def test_an_unknown_asset_is_404_not_a_file_outside_the_bundle(client):
    assert client.get("/docs/assets/no-such-file.js").status_code == 404
    assert client.get("/docs/assets/../../../pyproject.toml").status_code == 404
    assert client.get("/docs/assets/%2e%2e/__init__.py").status_code == 404
