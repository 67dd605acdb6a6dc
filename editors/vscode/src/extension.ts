// The extension's entry point: starts zeta2-daemon through an LSP client, restarts it when its
// settings change, keeps the status bar in step with zeta2/status, and wires editor events and
// commands to the suggestion controller.
import * as vscode from "vscode";
import { ClientFactory, DaemonClient, languageClientFactory, readDaemonSettings } from "./daemon";
import { EditController } from "./controller";
import { statusText, Zeta2Status } from "./display";

export class Zeta2Extension implements vscode.Disposable {
  client: DaemonClient | undefined;
  status: Zeta2Status | undefined;
  captureOn = false;
  readonly output: vscode.OutputChannel;
  readonly statusBar: vscode.StatusBarItem;
  readonly controller: EditController;
  private clientSubscriptions: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly factory: ClientFactory) {
    this.output = vscode.window.createOutputChannel("zeta2");
    this.statusBar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
    this.statusBar.command = "zeta2.showLog";
    this.controller = new EditController(
      () => this.client,
      () => this.controllerSettings(),
      (line) => this.output.appendLine(line),
    );
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("zeta2");
  }

  private controllerSettings() {
    const c = this.config();
    return {
      enabled: c.get<boolean>("enable", true),
      debounceMs: c.get<number>("debounceMs", 75),
      nearbyLines: c.get<number>("nearbyLines", 12),
    };
  }

  updateStatusBar(): void {
    const { text, tooltip } = statusText(this.status, this.controllerSettings().enabled);
    this.statusBar.text = text;
    this.statusBar.tooltip = tooltip;
    this.statusBar.show();
  }

  async startClient(): Promise<void> {
    let settings;
    try {
      settings = readDaemonSettings(this.config());
    } catch (err) {
      const message = (err as Error).message;
      this.output.appendLine(message);
      void vscode.window.showErrorMessage(message);
      return;
    }
    this.output.appendLine(`starting ${settings.path} ${settings.args.join(" ")}`.trim());
    const client = this.factory(settings, this.output);
    this.client = client;
    this.status = undefined;
    this.clientSubscriptions.push(
      client.onNotification("zeta2/status", (status: Zeta2Status) => {
        this.status = status;
        this.captureOn = status?.capture === true;
        this.updateStatusBar();
      }),
    );
    this.updateStatusBar();
    try {
      await client.start();
    } catch (err) {
      const message = `zeta2: could not start ${settings.path}: ${(err as Error).message ?? err}`;
      this.output.appendLine(message);
      this.status = { lastError: { message } };
      this.updateStatusBar();
    }
  }

  async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.controller.reject("restarted");
    this.clientSubscriptions.forEach((d) => d.dispose());
    this.clientSubscriptions = [];
    if (client) {
      try {
        await client.stop();
      } catch (err) {
        this.output.appendLine(`stopping the daemon: ${(err as Error).message ?? err}`);
      }
    }
  }

  async restart(): Promise<void> {
    await this.stopClient();
    await this.startClient();
  }

  async toggleCapture(): Promise<boolean> {
    this.captureOn = !this.captureOn;
    await this.client?.sendNotification("workspace/didChangeConfiguration", {
      settings: { zeta2: { capture: { enabled: this.captureOn } } },
    });
    this.output.appendLine(`capture ${this.captureOn ? "on" : "off"}`);
    return this.captureOn;
  }

  private forwardDiagnostics(uris: readonly vscode.Uri[]): void {
    const client = this.client;
    if (!client) {
      return;
    }
    for (const uri of uris) {
      const diagnostics = vscode.languages
        .getDiagnostics(uri)
        .filter((d) => d.source !== "zeta2")
        .map((d) => ({
          range: {
            start: { line: d.range.start.line, character: d.range.start.character },
            end: { line: d.range.end.line, character: d.range.end.character },
          },
          severity: d.severity + 1, // VS Code counts from Error = 0, LSP from Error = 1
          message: d.message,
          source: d.source,
        }));
      void client.sendNotification("zeta2/diagnostics", { textDocument: { uri: uri.toString() }, diagnostics });
    }
  }

  activate(): void {
    const c = this.controller;
    this.subscriptions.push(
      this.output,
      this.statusBar,
      c,
      vscode.languages.registerInlineCompletionItemProvider({ pattern: "**" }, c),
      vscode.commands.registerCommand("zeta2.acceptEdit", () => c.accept()),
      vscode.commands.registerCommand("zeta2.acceptedInline", (id: string) => c.acceptedInline(id)),
      vscode.commands.registerCommand("zeta2.rejectEdit", () => c.reject("dismissed")),
      vscode.commands.registerCommand("zeta2.toggleCapture", () => this.toggleCapture()),
      vscode.commands.registerCommand("zeta2.showLog", () => this.output.show()),
      vscode.commands.registerCommand("zeta2.restart", () => this.restart()),
      vscode.workspace.onDidChangeTextDocument((e) => c.onDidChangeTextDocument(e)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        const pos = e.selections[0]?.active;
        if (pos && this.client) {
          void this.client.sendNotification("zeta2/cursor", {
            textDocument: { uri: e.textEditor.document.uri.toString() },
            position: { line: pos.line, character: pos.character },
          });
        }
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        c.reject("focus");
        if (editor && this.client) {
          void this.client.sendNotification("textDocument/didFocus", {
            textDocument: { uri: editor.document.uri.toString() },
          });
        }
      }),
      vscode.languages.onDidChangeDiagnostics((e) => this.forwardDiagnostics(e.uris)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("zeta2.daemon")) {
          this.output.appendLine("daemon settings changed: restarting");
          void this.restart();
        } else if (e.affectsConfiguration("zeta2.enable")) {
          if (!this.controllerSettings().enabled) {
            c.reject("disabled");
          }
          this.updateStatusBar();
        }
      }),
    );
    void this.startClient();
  }

  dispose(): void {
    void this.stopClient();
    this.subscriptions.forEach((d) => d.dispose());
  }
}

let instance: Zeta2Extension | undefined;

export function activate(context: vscode.ExtensionContext, factory: ClientFactory = languageClientFactory): Zeta2Extension {
  instance = new Zeta2Extension(factory);
  instance.activate();
  context.subscriptions.push(instance);
  return instance;
}

export async function deactivate(): Promise<void> {
  await instance?.stopClient();
  instance = undefined;
}
