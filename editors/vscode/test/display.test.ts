// The pure display decision and its helpers.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { decideDisplay, statusText, tabAction, typedThrough } from "../src/display";

const view = { cursor: { line: 1, character: 4 }, visible: [{ start: 0, end: 30 }], nearbyLines: 12 };
const lineLength = (line: number) => [12, 20, 8, 14, 0][line] ?? 10;
const span = (l1: number, c1: number, l2: number, c2: number) => ({
  start: { line: l1, character: c1 },
  end: { line: l2, character: c2 },
});

test("an insertion at the cursor is ghost text", () => {
  assert.deepEqual(decideDisplay({ range: span(1, 4, 1, 4), text: "abc\n  def" }, view, lineLength), {
    kind: "inline",
    at: { line: 1, character: 4 },
    text: "abc\n  def",
  });
});

test("a one-line replacement nearby: struck deletion and the new text right after it", () => {
  assert.deepEqual(decideDisplay({ range: span(3, 8, 3, 11), text: "bar" }, view, lineLength), {
    kind: "diff",
    target: { line: 3, character: 8 },
    deletions: [span(3, 8, 3, 11)],
    insertions: [{ at: { line: 3, character: 11 }, text: "bar" }],
  });
});

test("inserted lines are shown after the end of the line the edit touches", () => {
  const d = decideDisplay({ range: span(4, 0, 4, 0), text: "        self.z = z\n" }, view, lineLength);
  assert.deepEqual(d, {
    kind: "diff",
    target: { line: 4, character: 0 },
    deletions: [],
    insertions: [{ at: { line: 4, character: 0 }, text: " ⟶         self.z = z" }],
  });
  const two = decideDisplay({ range: span(2, 0, 3, 0), text: "a\nb\n" }, view, lineLength);
  assert.equal(two.kind, "diff");
  assert.deepEqual(two.kind === "diff" && two.insertions, [{ at: { line: 3, character: 14 }, text: " ⟶ a ⏎ b" }]);
});

test("an insertion on the cursor line but not at the cursor is a diff, not ghost text", () => {
  assert.equal(decideDisplay({ range: span(1, 9, 1, 9), text: "x" }, view, lineLength).kind, "diff");
});

test("a far edit gets a jump hint at the end of the cursor line", () => {
  const d = decideDisplay({ range: span(40, 2, 40, 2), text: "!" }, { ...view, visible: [{ start: 0, end: 60 }] }, lineLength);
  assert.equal(d.kind, "jump");
  assert.deepEqual(d.kind === "jump" && d.hint, { at: { line: 1, character: 20 }, text: " ↓ Tab: edit at line 41" });
});

test("a near edit scrolled out of view is a jump too; above the cursor the arrow points up", () => {
  const d = decideDisplay({ range: span(0, 0, 0, 1), text: "y" }, { ...view, visible: [{ start: 1, end: 30 }] }, lineLength);
  assert.equal(d.kind, "jump");
  assert.equal(d.kind === "jump" && d.hint.text, " ↑ Tab: edit at line 1");
});

test("Tab jumps from another line and applies on the edit's lines", () => {
  const edit = { range: span(4, 0, 5, 0), text: "x" };
  assert.equal(tabAction(edit, { line: 1, character: 0 }), "jump");
  assert.equal(tabAction(edit, { line: 4, character: 3 }), "apply");
  assert.equal(tabAction(edit, { line: 5, character: 0 }), "apply");
  assert.equal(tabAction(edit, { line: 6, character: 0 }), "jump");
});

test("typing a prefix of the suggestion keeps the rest; other typing contradicts it", () => {
  const edit = { range: span(2, 4, 2, 6), text: "hello" };
  assert.deepEqual(typedThrough(edit, { line: 2, character: 4 }, "he"), { range: span(2, 6, 2, 8), text: "llo" });
  assert.equal(typedThrough(edit, { line: 2, character: 4 }, "x"), undefined);
  assert.equal(typedThrough(edit, { line: 2, character: 5 }, "h"), undefined);
  assert.equal(typedThrough(edit, { line: 2, character: 4 }, "hello"), undefined);
  assert.equal(typedThrough(edit, { line: 2, character: 4 }, "h\n"), undefined);
});

test("status bar text", () => {
  assert.deepEqual(statusText(undefined, false), { text: "$(circle-slash) zeta2", tooltip: "zeta2: suggestions disabled" });
  assert.equal(statusText(undefined, true).text, "$(loading~spin) zeta2");
  const s = statusText({ model: "smollm2-135m", device: "cpu", capture: true, busy: false, trained: false }, true);
  assert.equal(s.text, "$(sparkle) zeta2 · capture on");
  assert.equal(s.tooltip, "model: smollm2-135m (untrained)\ndevice: cpu\ncapture: on");
  const e = statusText({ model: "m", device: "cuda", lastError: { message: "pack deleted" } }, true);
  assert.equal(e.text, "$(warning) zeta2");
  assert.match(e.tooltip, /last error: pack deleted$/);
});
