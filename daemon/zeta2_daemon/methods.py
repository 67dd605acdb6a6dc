"""The non-standard LSP method names the daemon serves (BRIEF section 4), in one place.

Standard methods come from `lsprotocol.types`; these are Copilot's next-edit methods and zeta2's own.
"""

from __future__ import annotations

COPILOT_INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit"
DID_FOCUS = "textDocument/didFocus"
PARTIAL_ACCEPT = "zeta2/didPartiallyAccept"
REJECT = "zeta2/didReject"
CURSOR = "zeta2/cursor"
DIAGNOSTICS = "zeta2/diagnostics"
PING = "zeta2/ping"
ADVANCE_CLOCK = "zeta2/test/advanceClock"  # only with the hidden --test-clock flag
ACCEPT_COMMAND = "zeta2.accept"  # workspace/executeCommand

# The notifications a client may send, advertised under capabilities.experimental.zeta2.
CLIENT_NOTIFICATIONS = [DID_SHOW_INLINE_EDIT, PARTIAL_ACCEPT, REJECT, CURSOR, DID_FOCUS, DIAGNOSTICS]
