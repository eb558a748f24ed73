// @ts-check
// The edit-application logic of the VS Code extension, with no `vscode` import: version checks, code
// point <-> UTF-16 conversion and undo grouping. Plain JavaScript (type-checked by tsc through JSDoc) so
// that `node --test test/` runs its tests on a clean checkout, with no node_modules and no build.
//
// The contract counts offsets in Unicode code points; VS Code counts UTF-16 code units. "👋" is one code
// point and two code units; a UTF-16 offset between the two halves of a surrogate pair names no position
// in the contract's terms and is an error.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

class OffsetError extends Error {}

/** @param {number} unit */
function isHighSurrogate(unit) {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** @param {number} unit */
function isLowSurrogate(unit) {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * The number of code points in `text`.
 * @param {string} text
 */
function codePointLength(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      i++;
    }
    n++;
  }
  return n;
}

/**
 * The UTF-16 index of code point offset `offset` in `text`.
 * @param {string} text
 * @param {number} offset
 * @returns {number}
 */
function codePointToUtf16(text, offset) {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new OffsetError(`offset ${offset} is not a non-negative integer`);
  }
  let index = 0;
  for (let cp = 0; cp < offset; cp++) {
    if (index >= text.length) {
      throw new OffsetError(`offset ${offset} is past the end of the text (${codePointLength(text)} code points)`);
    }
    const unit = text.charCodeAt(index);
    index += isHighSurrogate(unit) && index + 1 < text.length && isLowSurrogate(text.charCodeAt(index + 1)) ? 2 : 1;
  }
  return index;
}

/**
 * The code point offset of UTF-16 index `index` in `text`; an index inside a surrogate pair is an error.
 * @param {string} text
 * @param {number} index
 * @returns {number}
 */
function utf16ToCodePoint(text, index) {
  if (!Number.isInteger(index) || index < 0 || index > text.length) {
    throw new OffsetError(`UTF-16 index ${index} is outside the text (${text.length} code units)`);
  }
  if (index > 0 && index < text.length && isLowSurrogate(text.charCodeAt(index)) && isHighSurrogate(text.charCodeAt(index - 1))) {
    throw new OffsetError(`UTF-16 index ${index} splits a surrogate pair`);
  }
  return codePointLength(text.slice(0, index));
}

/**
 * @typedef {{start: number, end: number, text: string}} TextEdit  offsets in code points (contract) or UTF-16
 * @typedef {{anchor: number, active: number}} Selection
 * @typedef {{batchId: number, documentId: string, baseVersion: number, edits: TextEdit[],
 *            selectionAfter: Selection | null, undoGroup: string, description?: string,
 *            expiresAtUnixMs?: number}} EditBatch
 * @typedef {{kind: "expired"}
 *         | {kind: "stale", version: number, text: string}
 *         | {kind: "failed", error: string}
 *         | {kind: "apply", edits: TextEdit[], newText: string, selectionAfter: Selection | null,
 *            undoStopBefore: boolean, undoStopAfter: boolean}} BatchPlan
 */

/**
 * Check code point edits against `text` (range, order, overlap) and convert them to UTF-16, sorted from
 * the last to the first (the order that keeps earlier offsets valid while applying).
 * @param {string} text
 * @param {TextEdit[]} edits
 * @returns {TextEdit[]}
 */
function editsToUtf16(text, edits) {
  const length = codePointLength(text);
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let previousEnd = -1;
  let previousInsertAt = -1;
  for (const edit of sorted) {
    if (edit.start > edit.end) {
      throw new OffsetError(`reversed range [${edit.start}, ${edit.end})`);
    }
    if (edit.end > length) {
      throw new OffsetError(`edit [${edit.start}, ${edit.end}) is past the end of the text (${length} code points)`);
    }
    if (edit.start < previousEnd) {
      throw new OffsetError(`edit [${edit.start}, ${edit.end}) overlaps the one before it`);
    }
    if (edit.start === edit.end && edit.start === previousInsertAt) {
      throw new OffsetError(`two insertions at offset ${edit.start}`);
    }
    previousEnd = edit.end;
    previousInsertAt = edit.start === edit.end ? edit.start : -1;
  }
  return sorted
    .map((e) => ({ start: codePointToUtf16(text, e.start), end: codePointToUtf16(text, e.end), text: e.text }))
    .reverse();
}

/**
 * Apply UTF-16 edits sorted last-to-first (as editsToUtf16 returns them).
 * @param {string} text
 * @param {TextEdit[]} edits
 */
function applyUtf16(text, edits) {
  let out = text;
  for (const e of edits) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}

/**
 * Which undo stops a batch gets, per document: each voice action (undo group) is one undo step.
 *
 * VS Code merges an edit into the previous undo element unless `undoStopBefore` is set, and there is no
 * way to remove a stop once made; so every voice edit is made with `undoStopAfter: false`, and the next
 * batch opens a new element (`undoStopBefore: true`) unless it continues the same group with nothing else
 * in between. Any change the user makes ends the group.
 */
class UndoGrouper {
  constructor() {
    /** @type {Map<string, {group: string, version: number}>} */
    this.last = new Map();
  }

  /**
   * @param {string} documentId
   * @param {string} group
   * @param {number} version  the document's version now (the batch's base)
   */
  stops(documentId, group, version) {
    const last = this.last.get(documentId);
    const joins = group !== "" && last !== undefined && last.group === group && last.version === version;
    return { undoStopBefore: !joins, undoStopAfter: false };
  }

  /** A batch of `group` was applied and left the document at `version`. */
  applied(/** @type {string} */ documentId, /** @type {string} */ group, /** @type {number} */ version) {
    this.last.set(documentId, { group, version });
  }

  /** The document changed by other means (typing, undo); the next batch starts a new undo step. */
  changed(/** @type {string} */ documentId) {
    this.last.delete(documentId);
  }
}

/**
 * Decide what to do with a batch for a document whose current text and version are given.
 * @param {{text: string, version: number}} doc
 * @param {EditBatch} batch
 * @param {UndoGrouper} undo
 * @param {number} [nowUnixMs] the clock, Unix time in ms (a parameter so that tests can set it)
 * @returns {BatchPlan}
 */
function planBatch(doc, batch, undo, nowUnixMs = Date.now()) {
  if (batch.expiresAtUnixMs && nowUnixMs >= batch.expiresAtUnixMs) {
    // The daemon has already told the user this edit timed out: applying it now would surprise them.
    return { kind: "expired" };
  }
  if (doc.version !== batch.baseVersion) {
    return { kind: "stale", version: doc.version, text: doc.text };
  }
  let edits;
  try {
    edits = editsToUtf16(doc.text, batch.edits);
  } catch (error) {
    if (error instanceof OffsetError) {
      return { kind: "failed", error: error.message };
    }
    throw error;
  }
  const newText = applyUtf16(doc.text, edits);
  let selectionAfter = null;
  if (batch.selectionAfter) {
    try {
      selectionAfter = {
        anchor: codePointToUtf16(newText, batch.selectionAfter.anchor),
        active: codePointToUtf16(newText, batch.selectionAfter.active),
      };
    } catch (error) {
      if (error instanceof OffsetError) {
        return { kind: "failed", error: `selection_after: ${error.message}` };
      }
      throw error;
    }
  }
  return { kind: "apply", edits, newText, selectionAfter, ...undo.stops(batch.documentId, batch.undoGroup, doc.version) };
}

/**
 * A VS Code selection (UTF-16 offsets) in code points.
 * @param {string} text
 * @param {number} anchor
 * @param {number} active
 * @returns {Selection}
 */
function selectionToCodePoints(text, anchor, active) {
  return { anchor: utf16ToCodePoint(text, anchor), active: utf16ToCodePoint(text, active) };
}

/**
 * Why the extension must not connect to a Unix socket address, or "" when it may. The daemon's own rule:
 * the socket's folder belongs to `uid` and is not writable by group or others, and the socket file is
 * `uid`'s. (Node cannot read the listener's uid, SO_PEERCRED, so the folder is what keeps another local
 * user out; without XDG_RUNTIME_DIR anyone could pre-create the fallback folder in the temp dir.)
 * @param {string} address unix:///path, unix:/path, /path or tcp://HOST:PORT (always allowed: the token guards it)
 * @param {number} uid
 * @returns {string}
 */
function socketTrustProblem(address, uid) {
  let socketPath = "";
  if (address.startsWith("unix://")) {
    socketPath = address.slice("unix://".length);
  } else if (address.startsWith("unix:")) {
    socketPath = address.slice("unix:".length);
  } else if (address.startsWith("/")) {
    socketPath = address;
  } else {
    return "";
  }
  const folder = path.dirname(socketPath);
  let info;
  try {
    info = fs.statSync(folder);
  } catch {
    return ""; // no folder, so nothing listens: the connect itself reports the daemon as not running
  }
  if (info.uid !== uid) {
    return `the socket folder ${folder} belongs to uid ${info.uid}, not to you (uid ${uid}); refusing to connect`;
  }
  if (info.mode & 0o022) {
    return `the socket folder ${folder} is writable by others (mode ${(info.mode & 0o777).toString(8)}); ` +
      `refusing to connect; chmod 700 ${folder}`;
  }
  let socket;
  try {
    socket = fs.lstatSync(socketPath);
  } catch {
    return "";
  }
  if (!socket.isSocket()) {
    return `${socketPath} is not a socket; refusing to connect`;
  }
  if (socket.uid !== uid) {
    return `the socket ${socketPath} belongs to uid ${socket.uid}, not to you (uid ${uid}); refusing to connect`;
  }
  return "";
}

module.exports = {
  OffsetError,
  UndoGrouper,
  applyUtf16,
  codePointLength,
  codePointToUtf16,
  editsToUtf16,
  planBatch,
  selectionToCodePoints,
  socketTrustProblem,
  utf16ToCodePoint,
};
