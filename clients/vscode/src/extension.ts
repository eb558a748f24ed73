// lil Pushkin for VS Code: open documents become documents of the voice-editing daemon, over gRPC.
//
// document.version is the contract's version. An edit batch is applied through TextEditor.edit only when
// the document is still at the batch's base version (VS Code's edit() also answers false when it moved
// meanwhile); otherwise the batch is answered STALE with the current text and the daemon re-plans. The
// decisions live in ./seam.js (no vscode import; unit-tested with `node --test`).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { UndoGrouper, editsToUtf16, planBatch, selectionToCodePoints, socketTrustProblem } from "./seam";

type Message = Record<string, any>;
type ConnectionState = "stopped" | "connecting" | "connected" | "disconnected";
/** A rewrite proposal on screen: its id and the UTF-16 ranges it would replace. */
type Preview = { proposalId: number; ranges: vscode.Range[] };

const RECONNECT_INITIAL_MS = 100;
const RECONNECT_MAX_MS = 5000;

function defaultAddress(): string {
  if (process.env.PUSHKIN_ADDRESS) {
    return process.env.PUSHKIN_ADDRESS;
  }
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) {
    return `unix://${path.join(runtime, "pushkin", "pushkin.sock")}`;
  }
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return `unix://${path.join(os.tmpdir(), `pushkin-${uid}`, "pushkin.sock")}`;
}

/** The contract's address URIs in grpc-js's target syntax. */
function grpcTarget(address: string): string {
  if (address.startsWith("tcp://")) {
    return address.slice("tcp://".length).replace(/\/$/, "");
  }
  if (address.startsWith("/")) {
    return `unix://${address}`;
  }
  return address;
}

function readToken(configured: string): string {
  const candidates = configured
    ? [configured]
    : [path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config"), "pushkin", "token")];
  for (const file of candidates) {
    try {
      return fs.readFileSync(file, "utf8").trim();
    } catch {
      // No token file: Unix sockets need none.
    }
  }
  return "";
}

class PushkinExtension implements vscode.Disposable {
  private state: ConnectionState = "stopped";
  private listen = "";
  private interim = "";
  private problem = "";
  private client: any = null;
  private call: grpc.ClientDuplexStream<Message, Message> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = RECONNECT_INITIAL_MS;
  private stopped = true;
  private readonly undo = new UndoGrouper();
  private readonly applying = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly statusItem: vscode.StatusBarItem;
  private readonly previews = new Map<string, Preview>(); // document id -> the preview shown
  private readonly oldText = vscode.window.createTextEditorDecorationType({
    textDecoration: "line-through",
    backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
  });
  private readonly newText = vscode.window.createTextEditorDecorationType({});
  private readonly output: vscode.OutputChannel;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
    this.statusItem.command = "pushkin.status";
    this.output = vscode.window.createOutputChannel("lil Pushkin");
    this.disposables.push(
      this.oldText,
      this.newText,
      this.statusItem,
      this.output,
      vscode.workspace.onDidOpenTextDocument((d) => this.openDocument(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.send({ close: { document_id: this.idOf(d) } })),
      vscode.workspace.onDidChangeTextDocument((e) => this.documentChanged(e)),
      vscode.window.onDidChangeActiveTextEditor((e) => this.focus(e)),
      vscode.window.onDidChangeTextEditorSelection((e) => this.selectionChanged(e)),
      vscode.window.onDidChangeWindowState((s) => this.windowState(s)),
    );
    this.render();
  }

  // -- connection --------------------------------------------------------------------------------------
  start(): void {
    this.stopped = false;
    if (this.state === "stopped" || this.state === "disconnected") {
      this.connect();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    this.call?.end();
    this.call = null;
    this.client?.close();
    this.client = null;
    this.state = "stopped";
    this.render();
  }

  private loadClient(): any {
    const protoPath = path.join(this.context.extensionPath, "proto", "pushkin.proto");
    const definition = protoLoader.loadSync(protoPath, {
      keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as any;
    const config = vscode.workspace.getConfiguration("pushkin");
    const address = config.get<string>("address") || defaultAddress();
    return new pkg.pushkin.v1.Pushkin(grpcTarget(address), grpc.credentials.createInsecure());
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    const token = readToken(vscode.workspace.getConfiguration("pushkin").get<string>("tokenFile") || "");
    if (token) {
      metadata.set("x-pushkin-token", token);
    }
    return metadata;
  }

  private connect(): void {
    this.reconnectTimer = null;
    // Before a byte is sent: a socket in a folder another user controls is never used.
    const address = vscode.workspace.getConfiguration("pushkin").get<string>("address") || defaultAddress();
    const uid = typeof process.getuid === "function" ? process.getuid() : -1;
    const problem = uid >= 0 ? socketTrustProblem(address, uid) : "";
    if (problem) {
      this.disconnected(problem);
      return;
    }
    try {
      this.client ??= this.loadClient();
    } catch (error) {
      this.disconnected(`cannot load the contract: ${error}`);
      return;
    }
    this.state = "connecting";
    this.render();
    const call: grpc.ClientDuplexStream<Message, Message> = this.client.Connect(this.metadata());
    this.call = call;
    call.on("data", (message: Message) => this.onMessage(message));
    call.on("error", (error: grpc.ServiceError) => {
      if (this.call === call) {
        this.disconnected(error.code === grpc.status.UNAVAILABLE ? "the daemon is not running (pushkin serve)" : error.details || String(error));
      }
    });
    call.on("end", () => {
      if (this.call === call) {
        this.disconnected("the daemon ended the stream");
      }
    });
    call.write({
      hello: {
        editor_name: "vscode", editor_version: vscode.version, protocol_version: 1,
        capabilities: vscode.workspace.getConfiguration("pushkin").get<boolean>("previews", true)
          ? ["interim", "undo-groups", "proposals"] : ["interim", "undo-groups"],
      },
    });
  }

  private disconnected(reason: string): void {
    this.call = null;
    this.problem = reason;
    if (this.stopped) {
      this.state = "stopped";
      this.render();
      return;
    }
    this.state = "disconnected";
    this.render();
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  private send(message: Message): void {
    if (this.state === "connected" && this.call) {
      this.call.write(message);
    }
  }

  // -- documents -------------------------------------------------------------------------------------
  private idOf(document: vscode.TextDocument): string {
    return document.uri.toString();
  }

  private tracked(document: vscode.TextDocument): boolean {
    return document.uri.scheme === "file" || document.uri.scheme === "untitled";
  }

  private selectionOf(document: vscode.TextDocument): Message | undefined {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
    if (!editor) {
      return undefined;
    }
    const text = document.getText();
    try {
      return selectionToCodePoints(text, document.offsetAt(editor.selection.anchor), document.offsetAt(editor.selection.active));
    } catch {
      return undefined; // a position inside a surrogate pair: report the text without a selection
    }
  }

  private openDocument(document: vscode.TextDocument): void {
    if (!this.tracked(document)) {
      return;
    }
    this.send({
      open: {
        document_id: this.idOf(document), text: document.getText(), version: document.version,
        selection: this.selectionOf(document), language_id: document.languageId,
        path: document.uri.scheme === "file" ? document.uri.fsPath : "",
      },
    });
  }

  private documentChanged(event: vscode.TextDocumentChangeEvent): void {
    const document = event.document;
    if (!this.tracked(document) || event.contentChanges.length === 0) {
      return;
    }
    const id = this.idOf(document);
    if (this.applying.has(id)) {
      // Our own voice edit: the daemon learns it from the edit result. Sending it as an update too would
      // move the daemon's copy past the batch's version before the result arrives (out of sync).
      return;
    }
    this.undo.changed(id);
    // The user edited the previewed text: the daemon drops such a proposal, so the preview goes too.
    const preview = this.previews.get(id);
    if (preview && event.contentChanges.some((c) => preview.ranges.some((r) => c.range.intersection(r) !== undefined))) {
      this.clearPreview(id);
    }
    this.send({
      update: { document_id: id, version: document.version, text: document.getText(), selection: this.selectionOf(document) },
    });
  }

  private selectionChanged(event: vscode.TextEditorSelectionChangeEvent): void {
    const document = event.textEditor.document;
    if (this.tracked(document) && !this.applying.has(this.idOf(document))) {
      this.send({ update: { document_id: this.idOf(document), version: document.version, selection: this.selectionOf(document) } });
    }
  }

  private focus(editor: vscode.TextEditor | undefined): void {
    if (editor && this.tracked(editor.document)) {
      this.send({ focus: { document_id: this.idOf(editor.document), focused: true } });
    }
  }

  private windowState(state: vscode.WindowState): void {
    const editor = vscode.window.activeTextEditor;
    if (editor && this.tracked(editor.document)) {
      this.send({ focus: { document_id: this.idOf(editor.document), focused: state.focused } });
    }
  }

  // -- daemon messages -------------------------------------------------------------------------------
  private onMessage(message: Message): void {
    switch (message.kind) {
      case "welcome":
        this.state = "connected";
        this.problem = "";
        this.reconnectDelay = RECONNECT_INITIAL_MS;
        this.listen = String(message.welcome.status?.state ?? "");
        for (const document of vscode.workspace.textDocuments) {
          this.openDocument(document);
        }
        this.focus(vscode.window.activeTextEditor);
        break;
      case "edit_batch":
        void this.applyBatch(message.edit_batch);
        break;
      case "transcript":
        this.interim = message.transcript.final ? "" : message.transcript.text;
        break;
      case "proposal":
        this.showProposal(message.proposal);
        break;
      case "notice":
        if (message.notice.code === "proposal-closed") {
          // Decided on the daemon's side (by voice, or our own decision coming back): take the preview down.
          const closed = Number(/(\d+)/.exec(message.notice.message ?? "")?.[1]);
          const preview = this.previews.get(message.notice.document_id);
          if (preview && preview.proposalId === closed) {
            this.clearPreview(message.notice.document_id);
          }
        }
        if (message.notice.state && message.notice.state !== "LISTEN_STATE_UNSPECIFIED") {
          this.listen = message.notice.state;
        }
        if (message.notice.level === "WARNING" || message.notice.level === "ERROR") {
          void vscode.window.showWarningMessage(`Pushkin: ${message.notice.message}`);
        }
        break;
      case "error":
        this.output.appendLine(`daemon error ${message.error.code}: ${message.error.message}`);
        break;
    }
    this.render();
  }

  // -- rewrite previews ------------------------------------------------------------------------------
  private showProposal(proposal: Message): void {
    const id = String(proposal.document_id);
    const proposalId = Number(proposal.proposal_id);
    // One preview per document: a newer proposal replaces the one shown, which is rejected, so that
    // "accept" always means what the user sees.
    const older = this.clearPreview(id);
    if (older) {
      this.send({ proposal_decision: { proposal_id: older.proposalId, accept: false } });
    }
    const document = vscode.workspace.textDocuments.find((d) => this.idOf(d) === id);
    if (!document) {
      this.send({ proposal_decision: { proposal_id: proposalId, accept: false } });
      return;
    }
    const preview: Preview = { proposalId, ranges: [] };
    this.previews.set(id, preview);
    void vscode.commands.executeCommand("setContext", "pushkin.previewShown", true);
    let edits: Message[] = [];
    try {
      if (document.version !== Number(proposal.base_version)) {
        throw new Error("the document changed while the rewrite was written");
      }
      edits = editsToUtf16(document.getText(), proposal.edits ?? []);
    } catch (error) {
      void vscode.window.showWarningMessage(`Pushkin: a rewrite proposal cannot be shown (${error}); use Pushkin: Accept / Reject.`);
      return;
    }
    preview.ranges = edits.map((e) => new vscode.Range(document.positionAt(e.start), document.positionAt(e.end)));
    this.previewTexts.set(id, edits.map((e) => String(e.text).replace(/\r?\n/g, " ⏎ ")));
    this.renderPreview(id);
  }

  private renderPreview(id: string): void {
    const preview = this.previews.get(id);
    for (const editor of vscode.window.visibleTextEditors) {
      if (this.idOf(editor.document) !== id) {
        continue;
      }
      if (!preview) {
        editor.setDecorations(this.oldText, []);
        editor.setDecorations(this.newText, []);
        continue;
      }
      editor.setDecorations(this.oldText, preview.ranges.map((range) => ({ range, hoverMessage: "Pushkin rewrite: the old text" })));
      editor.setDecorations(this.newText, preview.ranges.map((range, i) => ({
        range: new vscode.Range(range.end, range.end),
        renderOptions: {
          after: {
            contentText: this.previewTexts.get(id)?.[i] ?? "",
            backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
          },
        },
      })));
    }
  }

  private readonly previewTexts = new Map<string, string[]>();

  private clearPreview(id: string): Preview | undefined {
    const preview = this.previews.get(id);
    this.previews.delete(id);
    this.previewTexts.delete(id);
    if (preview) {
      this.renderPreview(id);
    }
    void vscode.commands.executeCommand("setContext", "pushkin.previewShown", this.previews.size > 0);
    return preview;
  }

  /** Accept or reject the preview of the active editor's document. */
  decide(accept: boolean): void {
    const editor = vscode.window.activeTextEditor;
    const id = editor ? this.idOf(editor.document) : "";
    const preview = this.clearPreview(id);
    if (!preview) {
      void vscode.window.showInformationMessage("Pushkin: no rewrite preview in this editor");
      return;
    }
    this.send({ proposal_decision: { proposal_id: preview.proposalId, accept } });
  }

  private async applyBatch(batch: Message): Promise<void> {
    const result = (outcome: string, fields: Message) =>
      this.send({ edit_result: { batch_id: batch.batch_id, document_id: batch.document_id, outcome, ...fields } });
    const document = vscode.workspace.textDocuments.find((d) => this.idOf(d) === batch.document_id);
    if (!document) {
      result("FAILED", { version: 0, error: `no open document ${batch.document_id}` });
      return;
    }
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
    const plan = planBatch(
      { text: document.getText(), version: document.version },
      {
        batchId: batch.batch_id, documentId: batch.document_id, baseVersion: batch.base_version,
        edits: batch.edits ?? [], selectionAfter: batch.selection_after ?? null, undoGroup: batch.undo_group ?? "",
        expiresAtUnixMs: Number(batch.expires_at_unix_ms ?? 0),
      },
      this.undo,
    );
    if (plan.kind === "expired") {
      result("EXPIRED", { version: document.version, error: "the batch expired before VS Code could apply it" });
      return;
    }
    if (plan.kind === "stale") {
      result("STALE", { version: plan.version, text: plan.text, selection: this.selectionOf(document) });
      return;
    }
    if (plan.kind === "failed") {
      result("FAILED", { version: document.version, error: plan.error });
      return;
    }
    if (!editor) {
      result("FAILED", { version: document.version, error: "the document is not shown in an editor" });
      return;
    }
    const id = this.idOf(document);
    this.applying.add(id);
    let applied = false;
    try {
      applied = await editor.edit((builder) => {
        for (const edit of plan.edits) {
          builder.replace(new vscode.Range(document.positionAt(edit.start), document.positionAt(edit.end)), edit.text);
        }
      }, { undoStopBefore: plan.undoStopBefore, undoStopAfter: plan.undoStopAfter });
      if (applied && plan.selectionAfter) {
        editor.selection = new vscode.Selection(document.positionAt(plan.selectionAfter.anchor), document.positionAt(plan.selectionAfter.active));
      }
    } finally {
      this.applying.delete(id);
    }
    if (!applied) {
      // VS Code refused: the document moved between the check and the edit.
      result("STALE", { version: document.version, text: document.getText(), selection: this.selectionOf(document) });
      return;
    }
    // edit() moves the version by one. Anything past that was typed while the edit was applied and went
    // unreported (the change events were taken for ours): the whole text follows the result.
    const ours = Number(batch.base_version) + 1;
    this.undo.applied(id, batch.undo_group ?? "", document.version);
    const selection: Message | undefined = batch.selection_after ?? this.selectionOf(document);
    result("APPLIED", { version: ours, selection: document.version === ours ? selection : undefined });
    if (document.version !== ours) {
      this.send({ update: { document_id: id, version: document.version, text: document.getText(), selection: this.selectionOf(document) } });
    }
  }

  // -- listening state and status --------------------------------------------------------------------
  async setListening(state: string): Promise<void> {
    if (!this.client) {
      this.start();
    }
    await new Promise<void>((resolve) => {
      this.client.SetListening({ state }, this.metadata(), (error: grpc.ServiceError | null, status: Message) => {
        if (error) {
          void vscode.window.showWarningMessage(`Pushkin: ${error.details || error.message}`);
        } else {
          this.listen = String(status.state);
          this.render();
        }
        resolve();
      });
    });
  }

  async showStatus(): Promise<void> {
    if (!this.client) {
      void vscode.window.showInformationMessage(`Pushkin: ${this.state}${this.problem ? ` (${this.problem})` : ""}`);
      return;
    }
    this.client.GetStatus({}, this.metadata(), (error: grpc.ServiceError | null, status: Message) => {
      if (error) {
        void vscode.window.showWarningMessage(`Pushkin: ${this.state}: ${error.details || error.message}`);
        return;
      }
      void vscode.window.showInformationMessage(
        `Pushkin ${status.daemon_version}: ${String(status.state).toLowerCase()}, ${status.editors.length} editor(s), ${status.utterances} utterance(s)`,
      );
    });
  }

  private render(): void {
    const label = this.state === "connected" ? (this.listen ? this.listen.toLowerCase().replace("_", "-") : "connected") : this.state;
    const icon = this.state !== "connected" ? "$(debug-disconnect)" : this.listen === "LISTENING" ? "$(unmute)" : "$(mute)";
    let text = `${icon} Pushkin: ${label}`;
    if (this.interim) {
      text += ` “${this.interim.length > 40 ? "…" + this.interim.slice(-39) : this.interim}”`;
    }
    this.statusItem.text = text;
    this.statusItem.tooltip = this.problem || "lil Pushkin voice editing — click for status";
    this.statusItem.show();
  }

  dispose(): void {
    this.stop();
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const extension = new PushkinExtension(context);
  context.subscriptions.push(
    extension,
    vscode.commands.registerCommand("pushkin.start", async () => {
      extension.start();
      await extension.setListening("LISTENING");
    }),
    vscode.commands.registerCommand("pushkin.stop", async () => {
      await extension.setListening("MUTED");
      extension.stop();
    }),
    vscode.commands.registerCommand("pushkin.status", () => extension.showStatus()),
    vscode.commands.registerCommand("pushkin.sleep", () => extension.setListening("SLEEPING")),
    vscode.commands.registerCommand("pushkin.wake", () => extension.setListening("LISTENING")),
    vscode.commands.registerCommand("pushkin.accept", () => extension.decide(true)),
    vscode.commands.registerCommand("pushkin.reject", () => extension.decide(false)),
  );
  if (vscode.workspace.getConfiguration("pushkin").get<boolean>("autoStart")) {
    extension.start();
  }
}

export function deactivate(): void {
  // The extension object is disposed through context.subscriptions.
}
