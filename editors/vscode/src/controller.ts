// Suggestions in the editor: asks zeta2-daemon for the next edit, shows it (ghost text at the cursor
// or decorations elsewhere), and tells the daemon what the user did with it.
import * as vscode from "vscode";
import { DaemonClient } from "./daemon";
import { decideDisplay, Display, EditLike, Pos, tabAction, typedThrough } from "./display";

export interface ControllerSettings {
  enabled: boolean;
  debounceMs: number;
  nearbyLines: number;
}

interface CopilotEdit {
  text: string;
  range: { start: Pos; end: Pos };
  textDocument: { uri: string; version: number };
  command?: { title: string; command: string; arguments?: unknown[] };
}

export interface Shown {
  id: string | undefined;
  uri: string;
  edit: EditLike;
  item: CopilotEdit;
  display: Display;
}

export const CONTEXT_KEY = "zeta2.editVisible";

function toRange(r: { start: Pos; end: Pos }): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export class EditController implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  current: Shown | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private applying = false;
  private readonly deleteType: vscode.TextEditorDecorationType;
  private readonly insertType: vscode.TextEditorDecorationType;
  private readonly hintType: vscode.TextEditorDecorationType;

  constructor(
    private readonly client: () => DaemonClient | undefined,
    private readonly settings: () => ControllerSettings,
    private readonly log: (line: string) => void,
  ) {
    this.deleteType = vscode.window.createTextEditorDecorationType({
      textDecoration: "line-through",
      backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
    });
    this.insertType = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor("editorGhostText.foreground"), fontStyle: "italic" },
    });
    this.hintType = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor("editorHint.foreground"), fontStyle: "italic" },
    });
  }

  /** Asks for the next edit at the editor's cursor; a newer request cancels the older one. */
  async request(editor: vscode.TextEditor): Promise<Shown | undefined> {
    const client = this.client();
    if (!client || !this.settings().enabled) {
      return undefined;
    }
    this.pending?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.pending = source;
    const doc = editor.document;
    const version = doc.version;
    const position = editor.selection.active;
    const params = {
      textDocument: { uri: doc.uri.toString(), version },
      position: { line: position.line, character: position.character },
    };
    let result: { edits?: CopilotEdit[] } | null;
    try {
      result = await client.sendRequest<{ edits?: CopilotEdit[] } | null>(
        "textDocument/copilotInlineEdit",
        params,
        source.token,
      );
    } catch (err) {
      this.log(`copilotInlineEdit failed: ${(err as Error).message ?? err}`);
      return undefined;
    } finally {
      if (this.pending === source) {
        this.pending = undefined;
      }
    }
    // Stale: cancelled, or the document changed while the daemon was thinking.
    if (source.token.isCancellationRequested || doc.version !== version) {
      return undefined;
    }
    const item = result?.edits?.[0];
    return item ? this.show(editor, item) : undefined;
  }

  /** Typing: re-ask after `debounceMs` of quiet. */
  scheduleRequest(editor: vscode.TextEditor): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.request(editor);
    }, this.settings().debounceMs);
  }

  show(editor: vscode.TextEditor, item: CopilotEdit): Shown {
    const id = item.command?.arguments?.[0] as string | undefined;
    if (this.current && this.current.id !== id) {
      this.reject("replaced");
    }
    const edit: EditLike = { range: item.range, text: item.text };
    const view = {
      cursor: { line: editor.selection.active.line, character: editor.selection.active.character },
      visible: editor.visibleRanges.map((r) => ({ start: r.start.line, end: r.end.line })),
      nearbyLines: this.settings().nearbyLines,
    };
    const display = decideDisplay(edit, view, (line) => editor.document.lineAt(line).text.length);
    this.current = { id, uri: editor.document.uri.toString(), edit, item, display };
    this.draw(editor);
    if (display.kind === "inline") {
      void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    }
    void this.client()?.sendNotification("textDocument/didShowInlineEdit", { item });
    this.log(`shown ${id} as ${display.kind} at line ${edit.range.start.line + 1}`);
    return this.current;
  }

  private draw(editor: vscode.TextEditor): void {
    const d = this.current?.display;
    const deletions: vscode.DecorationOptions[] = [];
    const insertions: vscode.DecorationOptions[] = [];
    const hints: vscode.DecorationOptions[] = [];
    if (d && d.kind !== "inline") {
      for (const span of d.deletions) {
        deletions.push({ range: toRange(span) });
      }
      for (const ins of d.insertions) {
        const at = new vscode.Position(ins.at.line, ins.at.character);
        insertions.push({ range: new vscode.Range(at, at), renderOptions: { after: { contentText: ins.text } } });
      }
      if (d.kind === "jump") {
        const at = new vscode.Position(d.hint.at.line, d.hint.at.character);
        hints.push({ range: new vscode.Range(at, at), renderOptions: { after: { contentText: d.hint.text } } });
      }
    }
    editor.setDecorations(this.deleteType, deletions);
    editor.setDecorations(this.insertType, insertions);
    editor.setDecorations(this.hintType, hints);
    void vscode.commands.executeCommand("setContext", CONTEXT_KEY, d !== undefined && d.kind !== "inline");
  }

  private clear(): void {
    this.current = undefined;
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      this.draw(editor);
    } else {
      void vscode.commands.executeCommand("setContext", CONTEXT_KEY, false);
    }
  }

  /** Tab: jump to the edit when the cursor is elsewhere, else apply it and tell the daemon. */
  async accept(editor: vscode.TextEditor | undefined = vscode.window.activeTextEditor): Promise<boolean> {
    const s = this.current;
    if (!s || !editor || editor.document.uri.toString() !== s.uri) {
      return false;
    }
    const cursor = editor.selection.active;
    if (tabAction(s.edit, { line: cursor.line, character: cursor.character }) === "jump") {
      const target = new vscode.Position(s.edit.range.start.line, s.edit.range.start.character);
      editor.selection = new vscode.Selection(target, target);
      editor.revealRange(new vscode.Range(target, target), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      this.log(`jumped to ${s.id}`);
      return true;
    }
    this.current = undefined;
    this.applying = true;
    try {
      await editor.edit((b) => b.replace(toRange(s.edit.range), s.edit.text));
    } finally {
      this.applying = false;
    }
    this.clear();
    await this.sendAccept(s.id);
    return true;
  }

  /** The inline completion item was accepted by VS Code itself (Tab on ghost text). */
  async acceptedInline(id: string | undefined): Promise<void> {
    this.current = undefined;
    this.clear();
    await this.sendAccept(id);
  }

  private async sendAccept(id: string | undefined): Promise<void> {
    const client = this.client();
    if (client && id !== undefined) {
      await client.sendRequest("workspace/executeCommand", { command: "zeta2.accept", arguments: [id] });
      this.log(`accepted ${id}`);
    }
  }

  /** Esc, contradicting typing, or a newer suggestion: zeta2/didReject with the reason. */
  reject(reason: string): boolean {
    const s = this.current;
    if (!s) {
      return false;
    }
    if (s.id !== undefined) {
      void this.client()?.sendNotification("zeta2/didReject", { id: s.id, reason });
    }
    this.log(`rejected ${s.id} (${reason})`);
    this.clear();
    return true;
  }

  /** A document change: keep the suggestion while the typing follows it, else reject it; re-ask. */
  onDidChangeTextDocument(e: vscode.TextDocumentChangeEvent): void {
    const editor = vscode.window.activeTextEditor;
    if (this.applying || !editor || e.document !== editor.document || e.contentChanges.length === 0) {
      return;
    }
    const s = this.current;
    if (s && s.uri === e.document.uri.toString()) {
      const change = e.contentChanges.length === 1 ? e.contentChanges[0] : undefined;
      const moved =
        change && change.range.isEmpty
          ? typedThrough(s.edit, { line: change.range.start.line, character: change.range.start.character }, change.text)
          : undefined;
      const completes =
        change !== undefined &&
        change.range.isEmpty &&
        change.text === s.edit.text &&
        change.range.start.line === s.edit.range.start.line &&
        change.range.start.character === s.edit.range.start.character &&
        s.display.kind === "inline";
      if (completes) {
        // VS Code applied the ghost text itself; its command (zeta2.acceptedInline) reports the accept.
        this.current = undefined;
        this.clear();
      } else if (moved) {
        s.edit = moved;
        s.display = decideDisplay(
          moved,
          {
            cursor: { line: moved.range.start.line, character: moved.range.start.character },
            visible: editor.visibleRanges.map((r) => ({ start: r.start.line, end: r.end.line })),
            nearbyLines: this.settings().nearbyLines,
          },
          (line) => editor.document.lineAt(line).text.length,
        );
        this.draw(editor);
      } else {
        this.reject("typed");
      }
    }
    if (this.settings().enabled) {
      this.scheduleRequest(editor);
    }
  }

  /** Ghost text at the cursor: the current suggestion when it is an insertion right here. */
  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
  ): Promise<vscode.InlineCompletionItem[]> {
    const s = this.current;
    if (!s || s.uri !== document.uri.toString() || s.display.kind !== "inline") {
      return [];
    }
    if (s.display.at.line !== position.line || s.display.at.character !== position.character) {
      return [];
    }
    const item = new vscode.InlineCompletionItem(s.edit.text, new vscode.Range(position, position), {
      title: "Accept zeta2 suggestion",
      command: "zeta2.acceptedInline",
      arguments: [s.id],
    });
    return [item];
  }

  dispose(): void {
    this.pending?.cancel();
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.deleteType.dispose();
    this.insertType.dispose();
    this.hintType.dispose();
  }
}
