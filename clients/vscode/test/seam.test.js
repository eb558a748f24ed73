// Unit tests of the extension's seam, run with Node's own runner: `node --test test/` (no build needed).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const seam = require("../src/seam.js");

const WAVE = "Привет 👋 мир"; // 12 code points, 13 UTF-16 units: the emoji is a surrogate pair

test("code points and UTF-16 indices convert both ways around a surrogate pair", () => {
  assert.equal(seam.codePointLength(WAVE), 12);
  assert.equal(WAVE.length, 13);
  assert.equal(seam.codePointToUtf16(WAVE, 7), 7); // before the emoji
  assert.equal(seam.codePointToUtf16(WAVE, 8), 9); // after it: two code units
  assert.equal(seam.codePointToUtf16(WAVE, 12), 13);
  assert.equal(seam.utf16ToCodePoint(WAVE, 9), 8);
  assert.equal(seam.utf16ToCodePoint(WAVE, 13), 12);
  for (let cp = 0; cp <= 12; cp++) {
    assert.equal(seam.utf16ToCodePoint(WAVE, seam.codePointToUtf16(WAVE, cp)), cp);
  }
});

test("an offset splitting a surrogate pair or outside the text is an error, never clamped", () => {
  assert.throws(() => seam.utf16ToCodePoint(WAVE, 8), /splits a surrogate pair/);
  assert.throws(() => seam.utf16ToCodePoint(WAVE, 14), /outside the text/);
  assert.throws(() => seam.codePointToUtf16(WAVE, 13), /past the end/);
  assert.throws(() => seam.codePointToUtf16(WAVE, -1), /non-negative/);
});

test("a batch at the document's version applies, with UTF-16 ranges and the selection after", () => {
  const undo = new seam.UndoGrouper();
  const doc = { text: WAVE, version: 4 };
  const plan = seam.planBatch(doc, {
    batchId: 1, documentId: "d", baseVersion: 4, undoGroup: "g1",
    edits: [{ start: 8, end: 8, text: " и 🌍" }, { start: 0, end: 6, text: "Здравствуй" }],
    selectionAfter: { anchor: 16, active: 16 },
  }, undo);
  assert.equal(plan.kind, "apply");
  if (plan.kind !== "apply") return;
  assert.deepEqual(plan.edits, [{ start: 9, end: 9, text: " и 🌍" }, { start: 0, end: 6, text: "Здравствуй" }]);
  assert.equal(plan.newText, "Здравствуй 👋 и 🌍 мир");
  assert.deepEqual(plan.selectionAfter, { anchor: 18, active: 18 }); // after the second emoji, in UTF-16
  assert.equal(plan.newText.slice(0, 18), "Здравствуй 👋 и 🌍");
  assert.equal(plan.undoStopBefore, true);
  assert.equal(plan.undoStopAfter, false);
});

test("a batch planned against an older version is stale and carries the current text", () => {
  const plan = seam.planBatch({ text: "typed", version: 7 }, {
    batchId: 2, documentId: "d", baseVersion: 6, undoGroup: "", edits: [{ start: 0, end: 0, text: "x" }], selectionAfter: null,
  }, new seam.UndoGrouper());
  assert.deepEqual(plan, { kind: "stale", version: 7, text: "typed" });
});

test("a batch read at or after its expiry is refused, one read before it is applied", () => {
  const batch = {
    batchId: 4, documentId: "d", baseVersion: 1, undoGroup: "", edits: [{ start: 0, end: 0, text: "x" }],
    selectionAfter: null, expiresAtUnixMs: 1_700_000_000_000,
  };
  const doc = { text: "abc", version: 1 };
  assert.deepEqual(seam.planBatch(doc, batch, new seam.UndoGrouper(), 1_700_000_000_000), { kind: "expired" });
  assert.deepEqual(seam.planBatch(doc, batch, new seam.UndoGrouper(), 1_800_000_000_000), { kind: "expired" });
  assert.equal(seam.planBatch(doc, batch, new seam.UndoGrouper(), 1_699_999_999_999).kind, "apply");
  assert.equal(seam.planBatch(doc, { ...batch, expiresAtUnixMs: 0 }, new seam.UndoGrouper()).kind, "apply");
});

test("bad ranges fail the whole batch", () => {
  const undo = new seam.UndoGrouper();
  const base = { batchId: 3, documentId: "d", baseVersion: 1, undoGroup: "", selectionAfter: null };
  const doc = { text: "abc", version: 1 };
  for (const [edits, message] of [
    [[{ start: 2, end: 9, text: "" }], /past the end/],
    [[{ start: 2, end: 1, text: "" }], /reversed/],
    [[{ start: 0, end: 2, text: "" }, { start: 1, end: 3, text: "" }], /overlaps/],
    [[{ start: 1, end: 1, text: "a" }, { start: 1, end: 1, text: "b" }], /two insertions/],
  ]) {
    const plan = seam.planBatch(doc, { ...base, edits }, undo);
    assert.equal(plan.kind, "failed");
    if (plan.kind === "failed") assert.match(plan.error, message);
  }
});

test("batches of one undo group join one undo step; a new group or the user's typing starts another", () => {
  const undo = new seam.UndoGrouper();
  assert.deepEqual(undo.stops("d", "g1", 1), { undoStopBefore: true, undoStopAfter: false });
  undo.applied("d", "g1", 2);
  assert.equal(undo.stops("d", "g1", 2).undoStopBefore, false); // same action, nothing in between
  assert.equal(undo.stops("d", "g2", 2).undoStopBefore, true); // the next voice action
  assert.equal(undo.stops("d", "g1", 3).undoStopBefore, true); // something changed the document since
  assert.equal(undo.stops("other", "g1", 2).undoStopBefore, true); // another document
  undo.changed("d");
  assert.equal(undo.stops("d", "g1", 2).undoStopBefore, true);
  assert.equal(undo.stops("d", "", 2).undoStopBefore, true); // no group: always its own step
});

test("a VS Code selection converts to code points", () => {
  assert.deepEqual(seam.selectionToCodePoints(WAVE, 13, 9), { anchor: 12, active: 8 });
  assert.throws(() => seam.selectionToCodePoints(WAVE, 8, 8), /surrogate/);
});

// ---- the socket's folder must be the user's (issue 11, item 2) ------------------------------------------
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

function freshFolder() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "pk-vsc-")); // mode 0700, ours
}

test("a socket in the user's own 0700 folder, listened on by the user, may be used", async () => {
  const folder = freshFolder();
  const socketPath = path.join(folder, "pushkin.sock");
  const server = net.createServer();
  await new Promise((resolve) => server.listen(socketPath, resolve));
  try {
    assert.equal(seam.socketTrustProblem(`unix://${socketPath}`, process.getuid()), "");
    assert.equal(seam.socketTrustProblem(socketPath, process.getuid()), "");
    assert.equal(seam.socketTrustProblem("tcp://127.0.0.1:7000", process.getuid()), "");
  } finally {
    server.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("a folder writable by others, a file that is not a socket, or another user's folder is refused", () => {
  const folder = freshFolder();
  try {
    const socketPath = path.join(folder, "pushkin.sock");
    fs.writeFileSync(socketPath, "not a socket");
    assert.match(seam.socketTrustProblem(`unix://${socketPath}`, process.getuid()), /is not a socket; refusing/);
    fs.chmodSync(folder, 0o777);
    assert.match(seam.socketTrustProblem(`unix:${socketPath}`, process.getuid()),
      new RegExp(`socket folder ${folder} is writable by others \\(mode 777\\)`));
    fs.chmodSync(folder, 0o700);
    // Root can hand the folder to another uid; as any other user, the check is against a uid we are not.
    if (process.getuid() === 0) {
      fs.chownSync(folder, 54321, 54321);
      assert.match(seam.socketTrustProblem(`unix://${socketPath}`, 0), /belongs to uid 54321, not to you \(uid 0\)/);
    } else {
      assert.match(seam.socketTrustProblem(`unix://${socketPath}`, process.getuid() + 1), /belongs to uid/);
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
