// Starting zeta2-daemon: its settings, and the LSP client (vscode-languageclient) that talks to it.
// The client is created through a factory so the wiring can be tested with a fake daemon.
import * as vscode from "vscode";

export interface DaemonSettings {
  path: string;
  args: string[];
}

/** What the extension needs from an LSP client; vscode-languageclient's LanguageClient fits it. */
export interface DaemonClient {
  start(): Promise<void>;
  stop(): Promise<void>;
  sendRequest<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  sendNotification(method: string, params?: unknown): Promise<void>;
  onNotification(method: string, handler: (params: any) => void): vscode.Disposable;
}

export type ClientFactory = (settings: DaemonSettings, output: vscode.OutputChannel) => DaemonClient;

export function readDaemonSettings(config: vscode.WorkspaceConfiguration): DaemonSettings {
  const path = config.get<string>("daemon.path", "zeta2-daemon");
  const args = config.get<string[]>("daemon.args", []);
  if (typeof path !== "string" || path.trim() === "") {
    throw new Error(`zeta2.daemon.path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
    throw new Error(`zeta2.daemon.args must be a list of strings, got ${JSON.stringify(args)}`);
  }
  return { path, args };
}

/** The real client: zeta2-daemon over stdio for every file document. */
export const languageClientFactory: ClientFactory = (settings, output) => {
  // Loaded here, not at the top: tests run without the real module.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const lc = require("vscode-languageclient/node") as typeof import("vscode-languageclient/node");
  const server = { command: settings.path, args: settings.args, transport: lc.TransportKind.stdio };
  return new lc.LanguageClient(
    "zeta2",
    "zeta2",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: output,
      // Ghost text comes from the next-edit method only; the daemon then does not advertise
      // textDocument/inlineCompletion, so the client does not register a second provider.
      initializationOptions: { inlineCompletion: false },
    },
  );
};
