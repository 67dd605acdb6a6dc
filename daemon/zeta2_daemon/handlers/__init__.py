"""The daemon's LSP handlers, grouped by what they serve; `register(ls)` installs them all.

- lifecycle: initialize / initialized / shutdown, configuration changes, `zeta2/ping`;
- documents: didOpen / didChange / didClose and what the editor reports about them (cursor, focus,
  diagnostics);
- suggestions: the requests that ask for a suggestion and the notifications that say what the user
  did with it (shown, accepted, partially accepted, rejected).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import documents, lifecycle, suggestions

if TYPE_CHECKING:
    from ..server import Zeta2Server


def register(ls: Zeta2Server) -> None:
    lifecycle.register(ls)
    documents.register(ls)
    suggestions.register(ls)
