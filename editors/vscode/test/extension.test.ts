// The extension's wiring with the VS Code API stubbed (./vscode-stub) and a fake daemon client that
// records requests and notifications and answers copilotInlineEdit with a scripted edit.
import "./vscode-stub";
import { beforeEach, test } from "node:test";
import * as assert from "node:assert/strict";
import { FakeDocument, FakeEditor, Position, state, Uri, window } from "./vscode-stub";
import { activate, Zeta2Extension } from "../src/extension";
import { DaemonSettings } from "../src/daemon";

class FakeClient {
  started = false;
  stopped = false;
  requests: { method: string; params: any; token?: any }[] = [];
  notifications: { method: string; params: any }[] = [];
  handlers = new Map<string, (p: any) => void>();
  answers: any[] = [];
  constructor(readonly settings: DaemonSettings) {}
  async start() {
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
  async sendRequest(method: string, params: any, token?: any) {
    this.requests.push({ method, params, token });
    if (method === "textDocument/copilotInlineEdit") {
      const answer = this.answers.shift();
      return typeof answer === "function" ? answer() : answer;
    }
    return null;
  }
  async sendNotification(method: string, params: any) {
    this.notifications.push({ method, params });
  }
  onNotification(method: string, handler: (p: any) => void) {
    this.handlers.set(method, handler);
    return { dispose: () => this.handlers.delete(method) };
  }
  sent(method: string) {
    return this.notifications.filter((n) => n.method === method).map((n) => n.params);
  }
}

const TEXT = "class Point:\n    def __init__(self, x, y, z):\n        self.x = x\n        self.y = y\n\n    def f(self):\n        pass\n";
const URI = "file:///w/src/point.py";

function edit(id: string, l1: number, c1: number, l2: number, c2: number, text: string, version = 1) {
  return {
    edits: [
      {
        text,
        textDocument: { uri: URI, version },
        range: { start: { line: l1, character: c1 }, end: { line: l2, character: c2 } },
        command: { title: "Accept zeta2 suggestion", command: "zeta2.accept", arguments: [id] },
      },
    ],
  };
}

let clients: FakeClient[];
let ext: Zeta2Extension;
let editor: FakeEditor;

function setup(config: Record<string, unknown> = {}, cursor = new Position(1, 30), visible: [number, number] = [0, 50]) {
  state.reset();
  Object.assign(state.config, config);
  clients = [];
  const context = { subscriptions: [] as { dispose(): void }[] };
  ext = activate(context as any, (settings) => {
    const c = new FakeClient(settings);
    clients.push(c);
    return c;
  });
  editor = new FakeEditor(new FakeDocument(new Uri(URI), TEXT), cursor, visible);
  window.activeTextEditor = editor;
  return context;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => setup());

test("starts zeta2-daemon with the path and arguments from the settings, and restarts on change", async () => {
  setup({ "zeta2.daemon.path": "/opt/zeta2/bin/zeta2-daemon", "zeta2.daemon.args": ["--model", "/packs/a"] });
  await flush();
  assert.equal(clients.length, 1);
  assert.deepEqual(clients[0].settings, { path: "/opt/zeta2/bin/zeta2-daemon", args: ["--model", "/packs/a"] });
  assert.ok(clients[0].started);

  state.config["zeta2.daemon.args"] = ["--model", "/packs/b"];
  state.didChangeConfiguration.fire({ affectsConfiguration: (s: string) => "zeta2.daemon.args".startsWith(s) });
  await flush();
  await flush();
  assert.ok(clients[0].stopped);
  assert.equal(clients.length, 2);
  assert.deepEqual(clients[1].settings.args, ["--model", "/packs/b"]);
  assert.ok(clients[1].started);
});

test("a bad daemon path is reported, naming the setting", async () => {
  setup({ "zeta2.daemon.path": "  " });
  await flush();
  assert.equal(clients.length, 0);
  assert.deepEqual(state.errors, ['zeta2.daemon.path must be a non-empty string, got "  "']);
});

test("the status bar follows zeta2/status", async () => {
  await flush();
  assert.equal(state.statusBar.text, "$(loading~spin) zeta2");
  clients[0].handlers.get("zeta2/status")!({ model: "tiny", device: "cpu", busy: false, capture: true });
  assert.equal(state.statusBar.text, "$(sparkle) zeta2 · capture on");
  assert.match(state.statusBar.tooltip, /model: tiny/);
  assert.ok(state.statusBar.visible);
});

test("an edit below the cursor is drawn in place; Tab jumps, Tab again applies and accepts", async () => {
  await flush();
  const c = clients[0];
  c.answers.push(edit("s-1", 4, 0, 4, 0, "        self.z = z\n"));
  const shown = await ext.controller.request(editor as any);
  assert.equal(shown?.display.kind, "diff");
  assert.deepEqual(c.requests[0].params, {
    textDocument: { uri: URI, version: 1 },
    position: { line: 1, character: 30 },
  });
  // decoration types in creation order: deletions, insertions, hint
  assert.deepEqual(editor.drawn(), [[], [{ start: [4, 0], end: [4, 0], after: " ⟶         self.z = z" }], []]);
  assert.equal(state.context.get("zeta2.editVisible"), true);
  assert.deepEqual(c.sent("textDocument/didShowInlineEdit")[0].item.command.arguments, ["s-1"]);

  await state.commands.get("zeta2.acceptEdit")!();
  assert.deepEqual([editor.selection.active.line, editor.selection.active.character], [4, 0]);
  assert.equal(editor.document.getText(), TEXT, "a jump does not edit");

  await state.commands.get("zeta2.acceptEdit")!();
  assert.equal(
    editor.document.getText(),
    TEXT.replace("        self.y = y\n", "        self.y = y\n        self.z = z\n"),
  );
  const accept = c.requests.find((r) => r.method === "workspace/executeCommand");
  assert.deepEqual(accept?.params, { command: "zeta2.accept", arguments: ["s-1"] });
  assert.equal(state.context.get("zeta2.editVisible"), false);
  assert.deepEqual(editor.drawn(), [[], [], []]);
  assert.deepEqual(c.sent("zeta2/didReject"), [], "applying our own edit is not a rejection");
});

test("a far edit gets a hint on the cursor line; Esc rejects it with the reason", async () => {
  setup({}, new Position(0, 0), [0, 3]);
  await flush();
  const c = clients[0];
  c.answers.push(edit("s-2", 6, 8, 6, 12, "return 1"));
  const shown = await ext.controller.request(editor as any);
  assert.equal(shown?.display.kind, "jump");
  assert.deepEqual(editor.drawn(), [
    [{ start: [6, 8], end: [6, 12] }],
    [{ start: [6, 12], end: [6, 12], after: "return 1" }],
    [{ start: [0, 12], end: [0, 12], after: " ↓ Tab: edit at line 7" }],
  ]);
  await state.commands.get("zeta2.rejectEdit")!();
  assert.deepEqual(c.sent("zeta2/didReject"), [{ id: "s-2", reason: "dismissed" }]);
  assert.deepEqual(editor.drawn(), [[], [], []]);
});

test("typing that follows the suggestion keeps it; typing that contradicts it rejects it", async () => {
  setup({ "zeta2.debounceMs": 100000 }, new Position(3, 18));
  await flush();
  const c = clients[0];
  c.answers.push(edit("s-3", 3, 18, 3, 18, " + 1"));
  await ext.controller.request(editor as any);
  assert.equal(ext.controller.current?.display.kind, "inline");
  editor.document.replace(new (require("./vscode-stub").Range)(3, 18, 3, 18), " ");
  assert.deepEqual(ext.controller.current?.edit, {
    range: { start: { line: 3, character: 19 }, end: { line: 3, character: 19 } },
    text: "+ 1",
  });
  assert.deepEqual(c.sent("zeta2/didReject"), []);
  editor.document.replace(new (require("./vscode-stub").Range)(3, 19, 3, 19), "-");
  assert.deepEqual(c.sent("zeta2/didReject"), [{ id: "s-3", reason: "typed" }]);
  assert.equal(ext.controller.current, undefined);
  ext.dispose();
});

test("ghost text at the cursor comes through the inline completion provider", async () => {
  setup({}, new Position(3, 18));
  await flush();
  const c = clients[0];
  c.answers.push(edit("s-4", 3, 18, 3, 18, " + 1"));
  await ext.controller.request(editor as any);
  assert.ok(state.executed.some((e) => e.command === "editor.action.inlineSuggest.trigger"));
  const provider = state.inlineProviders[0];
  const items = await provider.provideInlineCompletionItems(editor.document, new Position(3, 18));
  assert.equal(items.length, 1);
  assert.equal(items[0].insertText, " + 1");
  assert.deepEqual(items[0].command.arguments, ["s-4"]);
  assert.deepEqual(await provider.provideInlineCompletionItems(editor.document, new Position(3, 17)), []);
  // VS Code inserts the text, then runs the item's command: an accept, not a rejection
  editor.document.replace(new (require("./vscode-stub").Range)(3, 18, 3, 18), " + 1");
  await state.commands.get(items[0].command.command)!(...items[0].command.arguments);
  assert.deepEqual(c.requests.at(-1)?.params, { command: "zeta2.accept", arguments: ["s-4"] });
  assert.deepEqual(c.sent("zeta2/didReject"), []);
  ext.dispose();
});

test("an answer for an older document version is dropped, and a newer request cancels the older", async () => {
  await flush();
  const c = clients[0];
  let release!: (v: unknown) => void;
  c.answers.push(() => new Promise((resolve) => (release = resolve)));
  c.answers.push(edit("s-6", 4, 0, 4, 0, "x\n"));
  const first = ext.controller.request(editor as any);
  const second = ext.controller.request(editor as any);
  assert.ok(c.requests[0].token.isCancellationRequested);
  release(edit("s-5", 4, 0, 4, 0, "y\n"));
  assert.equal(await first, undefined);
  assert.equal((await second)?.id, "s-6");

  c.answers.push(() => {
    editor.document.version += 1; // the user typed while the daemon was thinking
    return edit("s-7", 4, 0, 4, 0, "z\n");
  });
  assert.equal(await ext.controller.request(editor as any), undefined);
  assert.equal(ext.controller.current?.id, "s-6");
});

test("a newer suggestion replaces the shown one with a 'replaced' rejection", async () => {
  await flush();
  const c = clients[0];
  c.answers.push(edit("s-8", 4, 0, 4, 0, "a\n"), edit("s-9", 4, 0, 4, 0, "b\n"));
  await ext.controller.request(editor as any);
  await ext.controller.request(editor as any);
  assert.deepEqual(c.sent("zeta2/didReject"), [{ id: "s-8", reason: "replaced" }]);
});

test("capture toggles through didChangeConfiguration; cursor, focus and diagnostics are forwarded", async () => {
  await flush();
  const c = clients[0];
  assert.equal(await state.commands.get("zeta2.toggleCapture")!(), true);
  assert.deepEqual(c.sent("workspace/didChangeConfiguration"), [{ settings: { zeta2: { capture: { enabled: true } } } }]);
  assert.equal(await state.commands.get("zeta2.toggleCapture")!(), false);

  state.didChangeSelection.fire({ textEditor: editor, selections: [{ active: new Position(2, 3) }] });
  assert.deepEqual(c.sent("zeta2/cursor"), [{ textDocument: { uri: URI }, position: { line: 2, character: 3 } }]);

  state.didChangeActiveEditor.fire(editor);
  assert.deepEqual(c.sent("textDocument/didFocus"), [{ textDocument: { uri: URI } }]);

  const Range = require("./vscode-stub").Range;
  state.diagnostics.set(URI, [
    { range: new Range(2, 8, 2, 12), severity: 0, message: "undefined name", source: "pyright" },
    { range: new Range(0, 0, 0, 1), severity: 3, message: "ours", source: "zeta2" },
  ]);
  state.didChangeDiagnostics.fire({ uris: [new Uri(URI)] });
  assert.deepEqual(c.sent("zeta2/diagnostics"), [
    {
      textDocument: { uri: URI },
      diagnostics: [
        {
          range: { start: { line: 2, character: 8 }, end: { line: 2, character: 12 } },
          severity: 1,
          message: "undefined name",
          source: "pyright",
        },
      ],
    },
  ]);
});
