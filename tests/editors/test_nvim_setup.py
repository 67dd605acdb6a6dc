"""setup() validation and the lsp/zeta2.lua config, in a real nvim (no daemon needed)."""

from __future__ import annotations


def test_wrong_options_name_the_key_what_was_given_and_what_is_expected(run_scenario):
    out = run_scenario("setup_errors").result
    assert out["errors"] == [
        "zeta2.setup: option 'debounce_ms' must be a non-negative integer (milliseconds), got \"fast\"",
        "zeta2.setup: unknown option 'debuonce_ms' (given number 50); expected one of: cmd, debounce_ms, enabled, "
        "filetypes, forward_diagnostics, init_options, keymaps, log_level, nearby_lines, root_markers, sign_text, triggers",
        "zeta2.setup: option 'keymaps.accept' must be a key (string) or false, got number 1",
        "zeta2.setup: unknown option 'keymaps.tab' (given \"<Tab>\"); expected one of: keymaps.accept, "
        "keymaps.accept_line, keymaps.accept_word, keymaps.dismiss",
        "zeta2.setup: option 'cmd' must be a non-empty list of strings (program, then arguments), got table {}",
        "zeta2.setup: option 'cmd' must be a non-empty list of strings (program, then arguments), got \"zeta2-daemon\"",
        'zeta2.setup: option \'log_level\' must be "error", "warn", "info" or "debug", got "loud"',
        "zeta2.setup: option 'triggers' must be a table, got boolean true",
        "zeta2.setup: option 'sign_text' must be a string 1 or 2 cells wide, got \"\"",
        'zeta2.setup: opts must be a table, got "not a table"',
    ]


def test_lsp_config_and_valid_options(run_scenario):
    out = run_scenario("setup_errors").result
    assert out["lsp_cmd"] == ["zeta2-daemon"]
    assert out["lsp_root_markers"] == [".git"]
    assert out["applied_cmd"] == ["my-daemon", "--model", "/packs/x"]
    assert out["debounce"] == 10
    assert out["accept_word"] is False
    assert out["accept"] == "<Tab>"
