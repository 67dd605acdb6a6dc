// How to show an edit: a pure decision from the edit and the editor's view, with no VS Code API, so
// it is unit-tested directly. Positions are 0-based lines and UTF-16 characters, like VS Code's.

export interface Pos {
  line: number;
  character: number;
}

export interface Span {
  start: Pos;
  end: Pos;
}

export interface EditLike {
  range: Span;
  text: string;
}

export interface ViewLike {
  cursor: Pos;
  /** Visible line ranges, inclusive. */
  visible: { start: number; end: number }[];
  /** Edits farther than this many lines from the cursor get a jump hint. */
  nearbyLines: number;
}

/** Text to draw after the end of a line (VS Code cannot add virtual lines). */
export interface AfterText {
  /** Where the text goes: a position inside the line (inline) or the line's end. */
  at: Pos;
  text: string;
}

export type Display =
  /** An insertion at the cursor: ghost text through the inline completion provider. */
  | { kind: "inline"; at: Pos; text: string }
  /** An edit near the cursor, drawn in place: struck-through deletions, inserted text after them. */
  | { kind: "diff"; target: Pos; deletions: Span[]; insertions: AfterText[] }
  /** An edit away from the cursor or off-screen: drawn in place and announced by a hint on the cursor line. */
  | { kind: "jump"; target: Pos; deletions: Span[]; insertions: AfterText[]; hint: AfterText };

const isEmpty = (s: Span) => s.start.line === s.end.line && s.start.character === s.end.character;
const samePos = (a: Pos, b: Pos) => a.line === b.line && a.character === b.character;

/**
 * Decides how to show `edit`. `lineLength(line)` gives a line's length, for placing text at its end.
 */
export function decideDisplay(edit: EditLike, view: ViewLike, lineLength: (line: number) => number): Display {
  const { range, text } = edit;
  if (isEmpty(range) && samePos(range.start, view.cursor) && text !== "") {
    return { kind: "inline", at: range.start, text };
  }
  const deletions = isEmpty(range) ? [] : [range];
  const insertions: AfterText[] = [];
  if (text !== "") {
    if (!text.includes("\n") && range.start.line === range.end.line) {
      insertions.push({ at: range.end, text });
    } else {
      // Several lines: show them, newline marks included, after the last line the edit touches.
      const line = range.end.line;
      const shown = text.replace(/\n$/, "").split("\n").join(" ⏎ ");
      insertions.push({ at: { line, character: lineLength(line) }, text: ` ⟶ ${shown}` });
    }
  }
  const target = range.start;
  const far = Math.abs(target.line - view.cursor.line) > view.nearbyLines;
  const onScreen = view.visible.some((r) => target.line >= r.start && target.line <= r.end);
  if (!far && onScreen) {
    return { kind: "diff", target, deletions, insertions };
  }
  const arrow = target.line < view.cursor.line ? "↑" : "↓";
  const hint = {
    at: { line: view.cursor.line, character: lineLength(view.cursor.line) },
    text: ` ${arrow} Tab: edit at line ${target.line + 1}`,
  };
  return { kind: "jump", target, deletions, insertions, hint };
}

/** What Tab does: jump when the cursor is not on the lines the edit touches, else apply it. */
export function tabAction(edit: EditLike, cursor: Pos): "jump" | "apply" {
  return cursor.line < edit.range.start.line || cursor.line > edit.range.end.line ? "jump" : "apply";
}

/**
 * The suggestion after the user typed `typed` at `at`: still valid (moved along) when the typing is a
 * prefix of its new text at its start, else undefined (the typing contradicts it).
 */
export function typedThrough(edit: EditLike, at: Pos, typed: string): EditLike | undefined {
  const { range, text } = edit;
  if (!samePos(at, range.start) || typed === "" || typed.includes("\n") || typed.length >= text.length) {
    return undefined;
  }
  if (!text.startsWith(typed)) {
    return undefined;
  }
  const k = typed.length;
  const shift = (p: Pos): Pos => (p.line === range.start.line ? { line: p.line, character: p.character + k } : p);
  return { range: { start: shift(range.start), end: shift(range.end) }, text: text.slice(k) };
}

export interface Zeta2Status {
  model?: string | null;
  device?: string | null;
  busy?: boolean;
  capture?: boolean;
  trained?: boolean | null;
  lastError?: { message?: string } | null;
}

/** The status bar's text and tooltip for a zeta2/status notification. */
export function statusText(status: Zeta2Status | undefined, enabled: boolean): { text: string; tooltip: string } {
  if (!enabled) {
    return { text: "$(circle-slash) zeta2", tooltip: "zeta2: suggestions disabled" };
  }
  if (!status) {
    return { text: "$(loading~spin) zeta2", tooltip: "zeta2: starting the daemon" };
  }
  const icon = status.lastError ? "$(warning)" : status.busy ? "$(sync~spin)" : "$(sparkle)";
  const capture = status.capture ? " · capture on" : "";
  const tooltip = [
    `model: ${status.model ?? "none"}${status.trained === false ? " (untrained)" : ""}`,
    `device: ${status.device ?? "?"}`,
    `capture: ${status.capture ? "on" : "off"}`,
    ...(status.lastError?.message ? [`last error: ${status.lastError.message}`] : []),
  ].join("\n");
  return { text: `${icon} zeta2${capture}`, tooltip };
}
