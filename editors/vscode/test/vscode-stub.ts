// A stand-in for the `vscode` module (VS Code itself cannot run here): just the API surface the
// extension uses, recording what the extension does so tests can assert it. Importing this file
// makes `require("vscode")` return the stub.
import Module = require("module");

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      l(e);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  isEqual(o: Position): boolean {
    return this.line === o.line && this.character === o.character;
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    if (typeof a === "number") {
      this.start = new Position(a, b as number);
      this.end = new Position(c as number, d as number);
    } else {
      this.start = a;
      this.end = b as Position;
    }
  }
  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class InlineCompletionItem {
  constructor(
    readonly insertText: string,
    readonly range?: Range,
    readonly command?: { title: string; command: string; arguments?: unknown[] },
  ) {}
}

export class CancellationTokenSource {
  token = { isCancellationRequested: false, onCancellationRequested: new EventEmitter<void>().event };
  cancel(): void {
    this.token.isCancellationRequested = true;
  }
  dispose(): void {}
}

export const StatusBarAlignment = { Left: 1, Right: 2 };
export const TextEditorRevealType = { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 };
export const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 };

export class Uri {
  constructor(private readonly value: string) {}
  toString(): string {
    return this.value;
  }
  static parse(value: string): Uri {
    return new Uri(value);
  }
}

/** A text document held as lines; `applyEdit` changes it and fires onDidChangeTextDocument. */
export class FakeDocument {
  version = 1;
  lines: string[];
  constructor(
    readonly uri: Uri,
    text: string,
  ) {
    this.lines = text.split("\n");
  }
  getText(): string {
    return this.lines.join("\n");
  }
  lineAt(line: number) {
    return { text: this.lines[line] };
  }
  get lineCount(): number {
    return this.lines.length;
  }
  private offsetAt(p: Position): number {
    let off = 0;
    for (let i = 0; i < p.line; i++) {
      off += this.lines[i].length + 1;
    }
    return off + p.character;
  }
  replace(range: Range, text: string): void {
    const all = this.getText();
    const next = all.slice(0, this.offsetAt(range.start)) + text + all.slice(this.offsetAt(range.end));
    this.lines = next.split("\n");
    this.version += 1;
    state.didChangeTextDocument.fire({ document: this, contentChanges: [{ range, text }] });
  }
}

export class FakeEditor {
  selection: Selection;
  visibleRanges: Range[];
  decorations = new Map<object, { range: Range; renderOptions?: any }[]>();
  revealed: Range[] = [];
  constructor(
    readonly document: FakeDocument,
    cursor: Position,
    visible: [number, number] = [0, 50],
  ) {
    this.selection = new Selection(cursor, cursor);
    this.visibleRanges = [new Range(visible[0], 0, visible[1], 0)];
  }
  setDecorations(type: object, options: { range: Range; renderOptions?: any }[]): void {
    this.decorations.set(type, options);
  }
  async edit(callback: (b: { replace(r: Range, t: string): void }) => void): Promise<boolean> {
    callback({ replace: (r, t) => this.document.replace(r, t) });
    return true;
  }
  revealRange(r: Range): void {
    this.revealed.push(r);
  }
  /** Every decoration currently set, as plain data, by decoration type order of creation. */
  drawn() {
    return state.decorationTypes.map((t) =>
      (this.decorations.get(t) ?? []).map((o) => ({
        start: [o.range.start.line, o.range.start.character],
        end: [o.range.end.line, o.range.end.character],
        ...(o.renderOptions?.after?.contentText !== undefined ? { after: o.renderOptions.after.contentText } : {}),
      })),
    );
  }
}

export const state = {
  config: {} as Record<string, unknown>,
  commands: new Map<string, (...args: any[]) => unknown>(),
  executed: [] as { command: string; args: unknown[] }[],
  context: new Map<string, unknown>(),
  decorationTypes: [] as object[],
  statusBar: undefined as any,
  outputLines: [] as string[],
  errors: [] as string[],
  inlineProviders: [] as any[],
  diagnostics: new Map<string, any[]>(),
  didChangeTextDocument: new EventEmitter<any>(),
  didChangeConfiguration: new EventEmitter<any>(),
  didChangeSelection: new EventEmitter<any>(),
  didChangeActiveEditor: new EventEmitter<any>(),
  didChangeDiagnostics: new EventEmitter<any>(),
  reset(): void {
    this.config = {};
    this.commands.clear();
    this.executed = [];
    this.context.clear();
    this.decorationTypes = [];
    this.statusBar = undefined;
    this.outputLines = [];
    this.errors = [];
    this.inlineProviders = [];
    this.diagnostics.clear();
    for (const e of [
      this.didChangeTextDocument,
      this.didChangeConfiguration,
      this.didChangeSelection,
      this.didChangeActiveEditor,
      this.didChangeDiagnostics,
    ]) {
      e.dispose();
    }
    window.activeTextEditor = undefined;
  },
};

export const window = {
  activeTextEditor: undefined as FakeEditor | undefined,
  createOutputChannel(_name: string) {
    return { appendLine: (l: string) => state.outputLines.push(l), show() {}, dispose() {} };
  },
  createStatusBarItem() {
    state.statusBar = { text: "", tooltip: "", command: undefined, visible: false, show() { this.visible = true; }, dispose() {} };
    return state.statusBar;
  },
  createTextEditorDecorationType(options: unknown) {
    const t = { options, dispose() {} };
    state.decorationTypes.push(t);
    return t;
  },
  showErrorMessage(message: string) {
    state.errors.push(message);
    return Promise.resolve(undefined);
  },
  onDidChangeTextEditorSelection: (l: Listener<any>) => state.didChangeSelection.event(l),
  onDidChangeActiveTextEditor: (l: Listener<any>) => state.didChangeActiveEditor.event(l),
};

export const workspace = {
  getConfiguration(section: string) {
    return {
      get<T>(key: string, dflt: T): T {
        const full = `${section}.${key}`;
        return (full in state.config ? state.config[full] : dflt) as T;
      },
    };
  },
  onDidChangeTextDocument: (l: Listener<any>) => state.didChangeTextDocument.event(l),
  onDidChangeConfiguration: (l: Listener<any>) => state.didChangeConfiguration.event(l),
};

export const commands = {
  registerCommand(name: string, fn: (...args: any[]) => unknown) {
    state.commands.set(name, fn);
    return new Disposable(() => state.commands.delete(name));
  },
  async executeCommand(command: string, ...args: unknown[]) {
    state.executed.push({ command, args });
    if (command === "setContext") {
      state.context.set(args[0] as string, args[1]);
    }
    return state.commands.get(command)?.(...args);
  },
};

export const languages = {
  registerInlineCompletionItemProvider(selector: unknown, provider: unknown) {
    state.inlineProviders.push(provider);
    return new Disposable();
  },
  onDidChangeDiagnostics: (l: Listener<any>) => state.didChangeDiagnostics.event(l),
  getDiagnostics(uri: Uri) {
    return state.diagnostics.get(uri.toString()) ?? [];
  },
};

const stub = {
  EventEmitter,
  Disposable,
  Position,
  Range,
  Selection,
  ThemeColor,
  InlineCompletionItem,
  CancellationTokenSource,
  StatusBarAlignment,
  TextEditorRevealType,
  DiagnosticSeverity,
  Uri,
  window,
  workspace,
  commands,
  languages,
};

const mod = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const load = mod._load;
mod._load = function (request: string, parent: unknown, isMain: boolean) {
  if (request === "vscode") {
    return stub;
  }
  return load.call(this, request, parent, isMain);
};
