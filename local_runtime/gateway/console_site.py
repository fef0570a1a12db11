"""The seller console's static files, served at ``/`` as CloudFront serves them in AWS.

The files are ``console/`` as they are in the repository; ``config.json``, which a
deployment writes next to them, is made here for the local stack (same-origin API, the
seller picker instead of Cognito's sign-in). Every file goes out with the response
headers of the template's CloudFront policy, so that a page breaking its
Content-Security-Policy breaks locally too.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from local_runtime import PROJECT_ROOT
from local_runtime.gateway.http_api import HttpRequest, HttpResponse

CONSOLE_DIR = PROJECT_ROOT / "console"
CONFIG_PATH = "/config.json"
_INDEX = "index.html"
# What a deployment uploads: the page and its assets, not the console's tests or notes.
_SERVED_SUFFIXES = frozenset({".html", ".css", ".js", ".svg", ".png", ".ico", ".json"})
_NOT_SERVED_DIRS = frozenset({"test", "node_modules"})
_NOT_SERVED_FILES = frozenset({"package.json", "package-lock.json"})


def is_deployed(relative: Path) -> bool:
    """Whether a file of ``console/`` is part of the site (not its tests, notes or
    package manifest)."""
    parts = relative.parts
    return (
        relative.suffix in _SERVED_SUFFIXES
        and relative.name not in _NOT_SERVED_FILES
        and not _NOT_SERVED_DIRS & set(parts[:-1])
        and not any(part.startswith(".") for part in parts)
    )


def deployed_files(root: Path = CONSOLE_DIR) -> list[Path]:
    """The site's files, relative to ``root``, in a stable order."""
    return sorted(
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and is_deployed(path.relative_to(root))
    )


def content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed.endswith(("javascript", "json")):
        guessed += "; charset=utf-8"
    return guessed


def local_config(sellers: Sequence[str]) -> dict[str, Any]:
    """``config.json`` for the local stack: the API on the same origin, the demo sellers."""
    return {"api_url": "", "auth": {"mode": "local", "sellers": list(sellers)}}


class ConsoleSite:
    def __init__(
        self,
        config: Mapping[str, Any],
        headers: Sequence[tuple[str, str]] = (),
        root: Path = CONSOLE_DIR,
    ) -> None:
        self._root = root.resolve()
        self._config = json.dumps(config, indent=2).encode()
        self._headers = list(headers)

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        """The file for a GET or HEAD of ``request``'s path, or None when there is none."""
        if request.method not in ("GET", "HEAD"):
            return None
        path = unquote(request.raw_path)
        if path == CONFIG_PATH:
            return self._response(content_type(CONFIG_PATH), self._config)
        file = self._file(path)
        if file is None:
            return None
        return self._response(content_type(file.name), file.read_bytes())

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/") or _INDEX
        candidate = (self._root / relative).resolve()
        if not candidate.is_relative_to(self._root) or not candidate.is_file():
            return None
        return candidate if is_deployed(candidate.relative_to(self._root)) else None

    def _response(self, content_type: str, body: bytes) -> HttpResponse:
        return HttpResponse(
            status=200,
            headers=[
                ("Content-Type", content_type),
                ("Cache-Control", "no-store"),
                *self._headers,
            ],
            body=body,
        )
