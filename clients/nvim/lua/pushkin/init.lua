-- lil Pushkin for Neovim: buffers become documents of the voice-editing daemon.
--
-- The plugin spawns `pushkin bridge --stdio` (JSON lines; clients/BRIDGE.md) and keeps, per attached
-- buffer, what the daemon was last told. b:changedtick is the document version. An edit batch is applied
-- only when the buffer is still at the batch's base version; otherwise it is answered "stale" with the
-- current text and the daemon re-plans. Each voice action is one undo step. The plugin keeps a copy of
-- each buffer's lines and their lengths in code points, so that a change is sent as a change (the
-- contract's UpdateDocument.changes), never as the whole text per keystroke. The daemon or the bridge
-- being away is a state shown in the statusline, never an error thrown at the user.
local text = require("pushkin.text")

local M = {}

local defaults = {
  cmd = { "pushkin", "bridge", "--stdio" }, -- the bridge command
  address = nil, -- passed as --address when set (else the daemon's default socket)
  auto_start = true, -- setup() starts the bridge
  float = false, -- show interim transcripts in a small floating window
  attach = nil, -- function(bufnr) -> bool; default: normal, modifiable buffers
  restart_max_s = 10, -- the longest wait before restarting a bridge that exited
  notify_level = vim.log.levels.INFO,
  previews = true, -- ask for rewrite proposals and show them as previews (accept / reject)
  preview_keys = true, -- <Leader>pa / <Leader>pr in a buffer that shows a preview
}

M.config = vim.deepcopy(defaults)

-- The plugin's state, readable by statuslines and :checkhealth.
M.state = {
  bridge = "stopped", -- stopped | running | restarting
  connection = "disconnected", -- connecting | connected | disconnected (the bridge's view of the daemon)
  listen = "", -- listening | sleeping | muted | no-audio (the daemon's listening state)
  interim = "", -- the latest interim transcript
  message = "", -- the last problem, for people
  session_id = "",
}

local job = nil
local stopping = false
local restart_delay = 0.25
local stdout_tail = ""
-- bufnr -> { id, sent_version, selection_dirty, last_group, last_tick, voice,
--           lines, lens (the buffer's lines and their code point lengths, as of the last on_lines),
--           changes (not yet sent: { start, end, text, text_len, tick }), full (send the whole text next),
--           applying (a voice batch is being applied: the daemon knows those edits already) }
local docs = {}
local pending = {} -- request id -> callback(reply)
local next_request = 1
local float_win, float_buf = nil, nil
local flush_scheduled = false
local preview_ns = vim.api.nvim_create_namespace("pushkin_preview")
local drop_touched_preview -- defined with the previews below
local previews = {} -- bufnr -> { proposal_id, mark (the old text's extmark id) }

local function notify(msg, level)
  vim.schedule(function()
    vim.notify("pushkin: " .. msg, level or M.config.notify_level)
  end)
end

local function redraw()
  pcall(vim.cmd, "redrawstatus!")
end

-- ---------------------------------------------------------------------------------------------------
-- Sending
-- ---------------------------------------------------------------------------------------------------

local function send(message, on_reply)
  if not job then
    return false
  end
  message.v = 1
  if on_reply then
    message.id = next_request
    pending[next_request] = on_reply
    next_request = next_request + 1
  end
  local ok = pcall(vim.fn.chansend, job, vim.json.encode(message) .. "\n")
  return ok
end

local function connected()
  return job ~= nil and M.state.connection == "connected"
end

-- ---------------------------------------------------------------------------------------------------
-- Documents
-- ---------------------------------------------------------------------------------------------------

local function doc_id(bufnr)
  return tostring(bufnr)
end

local function buf_of(document_id)
  local bufnr = tonumber(document_id)
  if bufnr and docs[bufnr] and vim.api.nvim_buf_is_valid(bufnr) then
    return bufnr
  end
  return nil
end

local function buf_lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

local function char_end(line, col)
  -- The byte column just after the character that starts at `col`.
  if col >= #line then
    return #line
  end
  local index = vim.str_utfindex(line, col)
  return vim.str_byteindex(line, index + 1)
end

-- The selection of `bufnr` in code points: the cursor (or visual selection) of the window showing it.
local function selection_of(bufnr, lines)
  local lens = docs[bufnr] and docs[bufnr].lines == lines and docs[bufnr].lens or nil
  local function offset_of(l, row, col)
    if lens then
      return text.offset_in(l, lens, row, col)
    end
    return text.offset_of(l, row, col)
  end
  local win = vim.api.nvim_get_current_win()
  if vim.api.nvim_win_get_buf(win) ~= bufnr then
    win = vim.fn.bufwinid(bufnr)
    if win == -1 then
      return nil
    end
  end
  local cursor = vim.api.nvim_win_get_cursor(win)
  local row, col = cursor[1] - 1, cursor[2]
  local doc = docs[bufnr]
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  -- After a voice edit the cursor was put after the inserted text; normal mode pulls it back onto the
  -- last character of the line. Keep reporting the voice position while nothing else moved it, so that
  -- the next dictation continues after the previous one.
  if doc and doc.voice and doc.voice.tick == tick and doc.voice.row == row
      and (col == doc.voice.col or (doc.voice.col == #(lines[row + 1] or "") and col < doc.voice.col and col >= doc.voice.col - 4)) then
    return { anchor = doc.voice.offset, active = doc.voice.offset }
  end
  local mode = vim.api.nvim_get_mode().mode
  local line = lines[row + 1] or ""
  if mode:sub(1, 1) == "n" and #line > 0 and char_end(line, col) >= #line then
    -- Normal mode puts the cursor on a character; on the line's last one, dictation goes after it (as
    -- `a` would), so that speaking at the end of a line continues it. Elsewhere it goes before it (`i`).
    col = #line
  end
  local active = offset_of(lines, row, col)
  if win == vim.api.nvim_get_current_win() and (mode == "v" or mode == "V" or mode == "\22") then
    local vpos = vim.fn.getpos("v")
    local arow, acol = vpos[2] - 1, vpos[3] - 1
    local anchor = offset_of(lines, arow, acol)
    if mode == "V" then
      local first, last = math.min(arow, row), math.max(arow, row)
      local s = offset_of(lines, first, 0)
      local e = offset_of(lines, last, #(lines[last + 1] or ""))
      if arow <= row then
        return { anchor = s, active = e }
      end
      return { anchor = e, active = s }
    end
    -- Visual mode includes the character under the cursor: the range ends after the later one.
    if anchor <= active then
      return { anchor = anchor, active = offset_of(lines, row, char_end(lines[row + 1] or "", col)) }
    end
    return { anchor = offset_of(lines, arow, char_end(lines[arow + 1] or "", acol)), active = active }
  end
  return { anchor = active, active = active }
end

local function open_message(bufnr)
  local doc = docs[bufnr]
  local lines = doc and doc.lines or buf_lines(bufnr)
  local message = {
    type = "open",
    document_id = doc_id(bufnr),
    text = text.join(lines),
    version = vim.api.nvim_buf_get_changedtick(bufnr),
    language_id = vim.bo[bufnr].filetype,
    path = vim.api.nvim_buf_get_name(bufnr),
  }
  local selection = selection_of(bufnr, lines)
  if selection then
    message.selection = selection
  end
  return message
end

-- The pending changes as updates: a run of changes that each start at or after the end of the previous
-- one becomes one update (offsets moved back onto the version before the run); a change that reaches back
-- into the run starts the next update. Returns a list of { changes, tick }.
local function change_runs(changes)
  local runs, run = {}, nil
  local delta, run_end = 0, -1
  for _, c in ipairs(changes) do
    if run == nil or c.start < run_end then
      run = { changes = {}, tick = c.tick }
      runs[#runs + 1] = run
      delta, run_end = 0, -1
    end
    local last = run.changes[#run.changes]
    local base_start, base_end = c.start - delta, c["end"] - delta
    if last and c.start == run_end then
      -- Touching the previous change (typing a word letter by letter): extend it.
      last["end"] = base_end
      last.text = last.text .. c.text
    else
      run.changes[#run.changes + 1] = { start = base_start, ["end"] = base_end, text = c.text }
    end
    run.tick = c.tick
    run_end = c.start + c.text_len
    delta = delta + c.text_len - (c["end"] - c.start)
  end
  return runs
end

local function flush()
  flush_scheduled = false
  if not connected() then
    return
  end
  for bufnr, doc in pairs(docs) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      local tick = vim.api.nvim_buf_get_changedtick(bufnr)
      if tick ~= doc.sent_version or doc.selection_dirty then
        local lines = doc.lines
        local runs = {}
        if doc.full then
          runs = { { text = text.join(lines), tick = tick } }
        elseif #doc.changes > 0 then
          runs = change_runs(doc.changes)
        end
        doc.changes, doc.full = {}, false
        if #runs == 0 then
          runs = { { tick = tick } } -- the version moved without a text change (or only the cursor)
        end
        runs[#runs].tick = tick
        for i, run in ipairs(runs) do
          local message = { type = "update", document_id = doc.id, version = run.tick, text = run.text, changes = run.changes }
          if i == #runs then
            local selection = selection_of(bufnr, lines)
            if selection then
              message.selection = selection
            end
          end
          send(message)
        end
        doc.sent_version = tick
        doc.selection_dirty = false
      end
    end
  end
end

local function schedule_flush()
  if not flush_scheduled then
    flush_scheduled = true
    vim.schedule(flush)
  end
end

local function remember_lines(doc, lines)
  local lens = {}
  for i, line in ipairs(lines) do
    lens[i] = text.line_length(line)
  end
  doc.lines, doc.lens = lines, lens
end

-- Replace items first+1 .. last of `list` by `items` (0-based, end-exclusive rows, as on_lines gives them).
local function splice(list, first, last, items)
  local n, old_count, new_count = #list, last - first, #items
  if new_count ~= old_count then
    table.move(list, last + 1, n, first + new_count + 1)
    for i = n + new_count - old_count + 1, n do
      list[i] = nil
    end
  end
  for i = 1, new_count do
    list[first + i] = items[i]
  end
end

-- Lines first..last-1 (0-based) of the copy became `new_lines`: update the copy and return the change in
-- code points against the text before it ({ start, end, text, text_len }), or nil when nothing changed.
local function take_change(doc, first, last, new_lines)
  local lines, lens = doc.lines, doc.lens
  local count = #lines
  local start = 0
  for i = 1, first do
    start = start + lens[i] + 1
  end
  local old = text.join(vim.list_slice(lines, first + 1, last))
  local new = text.join(new_lines)
  -- Whole lines were inserted or removed: the newline that separated them belongs to the change.
  if last == first and #new_lines > 0 then
    if first < count then
      new = new .. "\n"
    else
      new, start = "\n" .. new, start - 1
    end
  elseif #new_lines == 0 and last > first then
    if last < count then
      old = old .. "\n"
    elseif first > 0 then
      old, start = "\n" .. old, start - 1
    end
  end
  local new_lens = {}
  for i, line in ipairs(new_lines) do
    new_lens[i] = text.line_length(line)
  end
  splice(lines, first, last, new_lines)
  splice(lens, first, last, new_lens)
  local p, s = text.common_ends(old, new)
  if p == #old and p == #new then
    return nil
  end
  local removed = old:sub(p + 1, #old - s)
  local inserted = new:sub(p + 1, #new - s)
  local at = start + (p > 0 and vim.str_utfindex(old:sub(1, p)) or 0)
  local inserted_len = vim.str_utfindex(inserted)
  return { start = at, ["end"] = at + vim.str_utfindex(removed), text = inserted, text_len = inserted_len }
end

-- ---------------------------------------------------------------------------------------------------
-- Rewrite previews (proposals)
-- ---------------------------------------------------------------------------------------------------

local function split_lines(s)
  local out, start = {}, 1
  while true do
    local i = s:find("\n", start, true)
    if not i then
      out[#out + 1] = s:sub(start)
      return out
    end
    out[#out + 1] = s:sub(start, i - 1)
    start = i + 1
  end
end

local function clear_preview(bufnr)
  local preview = previews[bufnr]
  previews[bufnr] = nil
  if preview and vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, preview_ns, 0, -1)
    if preview.keys then
      pcall(vim.keymap.del, "n", "<Leader>pa", { buffer = bufnr })
      pcall(vim.keymap.del, "n", "<Leader>pr", { buffer = bufnr })
    end
  end
  return preview
end

-- The user edited the lines a preview covers: the daemon drops a proposal whose text was touched, so the
-- preview goes too (saying "accept" afterwards gets the daemon's answer, not a stale picture).
drop_touched_preview = function(bufnr, first, last)
  local preview = previews[bufnr]
  if not (preview and preview.mark) then
    return
  end
  local mark = vim.api.nvim_buf_get_extmark_by_id(bufnr, preview_ns, preview.mark, { details = true })
  if not mark[1] then
    return
  end
  local top, bottom = mark[1], (mark[3] and mark[3].end_row) or mark[1]
  if first <= bottom and last >= top then
    clear_preview(bufnr)
  end
end

local function one_line(s)
  return (s:gsub("\r?\n", " ⏎ "))
end

-- Show the proposal's edits in place: the old text highlighted as removed, the new text after it (inline
-- on Neovim 0.10+, else as virtual lines under it). Returns false when a range does not resolve.
local function show_preview(bufnr, preview, edits)
  local doc = docs[bufnr]
  local inline = vim.fn.has("nvim-0.10") == 1
  local resolved = {}
  for _, edit in ipairs(edits) do
    local sr, sc = text.position_in(doc.lines, doc.lens, edit.start)
    local er, ec = text.position_in(doc.lines, doc.lens, edit["end"])
    if not sr or not er or edit["end"] < edit.start then
      return false
    end
    resolved[#resolved + 1] = { sr = sr, sc = sc, er = er, ec = ec, text = edit.text or "" }
  end
  for _, e in ipairs(resolved) do
    local mark = vim.api.nvim_buf_set_extmark(bufnr, preview_ns, e.sr, e.sc,
      { end_row = e.er, end_col = e.ec, hl_group = "PushkinOld" })
    preview.mark = preview.mark or mark
    if inline then
      vim.api.nvim_buf_set_extmark(bufnr, preview_ns, e.er, e.ec,
        { virt_text = { { one_line(e.text), "PushkinNew" } }, virt_text_pos = "inline" })
    else
      local virt_lines = {}
      for _, line in ipairs(split_lines(e.text)) do
        virt_lines[#virt_lines + 1] = { { "→ " .. line, "PushkinNew" } }
      end
      vim.api.nvim_buf_set_extmark(bufnr, preview_ns, e.er, 0, { virt_lines = virt_lines })
    end
  end
  local last = resolved[#resolved]
  if last then
    local hint = M.config.preview_keys and " accept: <Leader>pa, reject: <Leader>pr" or " :Pushkin accept / reject"
    vim.api.nvim_buf_set_extmark(bufnr, preview_ns, last.er, 0,
      { virt_text = { { "pushkin rewrite —" .. hint, "Comment" } }, virt_text_pos = "eol" })
  end
  return true
end

local function decide(bufnr, accept)
  local preview = clear_preview(bufnr)
  if not preview then
    notify("no rewrite preview in this buffer", vim.log.levels.WARN)
    return false
  end
  send({ type = "proposal_decision", proposal_id = preview.proposal_id, accept = accept })
  return true
end

--- Accept the rewrite preview of the current buffer (it is applied as one undo step).
function M.accept()
  return decide(vim.api.nvim_get_current_buf(), true)
end

--- Reject the rewrite preview of the current buffer.
function M.reject()
  return decide(vim.api.nvim_get_current_buf(), false)
end

--- The preview shown in `bufnr` (nil when none): { proposal_id, shown }.
function M.preview(bufnr)
  local preview = previews[(bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr]
  return preview and { proposal_id = preview.proposal_id, shown = preview.shown } or nil
end

local function eligible(bufnr)
  if M.config.attach then
    return M.config.attach(bufnr)
  end
  return vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].buftype == "" and vim.bo[bufnr].modifiable
end

--- Track `bufnr` as a document (idempotent).
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if docs[bufnr] or not eligible(bufnr) then
    return docs[bufnr] ~= nil
  end
  local doc = { id = doc_id(bufnr), sent_version = -1, selection_dirty = false, changes = {}, full = false }
  remember_lines(doc, buf_lines(bufnr))
  docs[bufnr] = doc
  local callbacks = {
    on_lines = function(_, _, tick, first, last, new_last)
      if docs[bufnr] ~= doc then
        return true -- detached: stop listening to this buffer
      end
      local change = take_change(doc, first, last, vim.api.nvim_buf_get_lines(bufnr, first, new_last, false))
      if change and not doc.applying then
        drop_touched_preview(bufnr, first, last)
        change.tick = tick
        doc.changes[#doc.changes + 1] = change
        schedule_flush()
      end
    end,
    on_changedtick = function()
      if docs[bufnr] ~= doc then
        return true
      end
      schedule_flush()
    end,
    on_detach = function()
      docs[bufnr] = nil
      previews[bufnr] = nil
    end,
    on_reload = function()
      -- :edit! and the like replace the buffer without on_lines: read it again, send it whole.
      if docs[bufnr] == doc then
        remember_lines(doc, buf_lines(bufnr))
        doc.changes, doc.full = {}, true
        schedule_flush()
      end
    end,
  }
  vim.api.nvim_buf_attach(bufnr, false, callbacks)
  if connected() then
    local message = open_message(bufnr)
    doc.sent_version = message.version
    send(message)
  end
  return true
end

function M.detach(bufnr)
  local doc = docs[bufnr]
  if doc then
    docs[bufnr] = nil
    if connected() then
      send({ type = "close", document_id = doc.id })
    end
  end
end

local function focus_current()
  local bufnr = vim.api.nvim_get_current_buf()
  if M.attach(bufnr) and connected() then
    send({ type = "focus", document_id = doc_id(bufnr), focused = true })
  end
end

-- ---------------------------------------------------------------------------------------------------
-- Applying edit batches
-- ---------------------------------------------------------------------------------------------------


local function result(batch, outcome, bufnr, fields)
  local message = { type = "edit_result", batch_id = batch.batch_id, document_id = batch.document_id, outcome = outcome }
  if bufnr then
    local doc = docs[bufnr]
    local lines = doc and doc.lines or buf_lines(bufnr)
    message.version = vim.api.nvim_buf_get_changedtick(bufnr)
    local selection = selection_of(bufnr, lines)
    if selection then
      message.selection = selection
    end
    if outcome == "stale" then
      -- The whole text supersedes any change not yet sent.
      message.text = text.join(lines)
      if doc then
        doc.changes, doc.full, doc.sent_version = {}, false, message.version
      end
    end
  else
    message.version = 0
  end
  for k, v in pairs(fields or {}) do
    message[k] = v
  end
  send(message)
end

local function now_unix_ms()
  local seconds, microseconds = (vim.uv or vim.loop).gettimeofday()
  return seconds * 1000 + math.floor(microseconds / 1000)
end

local function apply_batch(batch)
  local bufnr = buf_of(batch.document_id)
  if not bufnr then
    result(batch, "failed", nil, { error = "no such buffer: " .. tostring(batch.document_id) })
    return
  end
  local expires = tonumber(batch.expires_at_unix_ms) or 0
  if expires > 0 and now_unix_ms() >= expires then
    -- The daemon has told the user this edit timed out (Neovim was stopped or busy): applying it now would
    -- add text the user may dictate again.
    result(batch, "expired", bufnr, { error = "the batch expired before Neovim could apply it" })
    return
  end
  local doc = docs[bufnr]
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  if tick ~= batch.base_version then
    -- The user (or something else) changed the buffer after the daemon planned: never apply blindly.
    result(batch, "stale", bufnr)
    doc.sent_version = tick
    return
  end
  local lines, lens = doc.lines, doc.lens
  -- Resolve every range before touching the buffer: the batch applies whole or not at all.
  local edits = {}
  for _, edit in ipairs(batch.edits or {}) do
    local sr, sc, err1 = text.position_in(lines, lens, edit.start)
    local er, ec, err2 = text.position_in(lines, lens, edit["end"])
    if not sr or not er or edit["end"] < edit.start then
      result(batch, "failed", bufnr, { error = err1 or err2 or "reversed range" })
      return
    end
    edits[#edits + 1] = { start = edit.start, sr = sr, sc = sc, er = er, ec = ec, lines = split_lines(edit.text or "") }
  end
  table.sort(edits, function(a, b)
    return a.start > b.start
  end)
  local group = batch.undo_group or ""
  local ok, err = pcall(vim.api.nvim_buf_call, bufnr, function()
    if group ~= "" and doc.last_group == group and doc.last_tick == tick then
      -- Same voice action, nothing in between: join its undo step (fails harmlessly right after an undo).
      pcall(vim.cmd, "undojoin")
    else
      -- A new voice action starts a new undo step, even right after the previous one.
      vim.cmd("let &g:undolevels = &g:undolevels")
    end
    -- The daemon planned these edits: the copy follows them, but they are not sent back as changes.
    doc.applying = true
    for _, e in ipairs(edits) do
      vim.api.nvim_buf_set_text(bufnr, e.sr, e.sc, e.er, e.ec, e.lines)
    end
  end)
  doc.applying = false
  if not ok then
    result(batch, "failed", bufnr, { error = tostring(err) })
    return
  end
  local new_tick = vim.api.nvim_buf_get_changedtick(bufnr)
  doc.sent_version = new_tick
  doc.last_group = group
  doc.last_tick = new_tick
  doc.voice = nil
  local after = batch.selection_after
  if type(after) == "table" then
    local row, col = text.position_in(doc.lines, doc.lens, after.active)
    if row then
      for _, win in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_buf(win) == bufnr then
          pcall(vim.api.nvim_win_set_cursor, win, { row + 1, col })
        end
      end
      doc.voice = { tick = new_tick, row = row, col = col, offset = after.active }
    end
  end
  doc.selection_dirty = false
  result(batch, "applied", bufnr)
end

-- ---------------------------------------------------------------------------------------------------
-- Interim transcripts: statusline and the optional floating window
-- ---------------------------------------------------------------------------------------------------

local function close_float()
  if float_win and vim.api.nvim_win_is_valid(float_win) then
    pcall(vim.api.nvim_win_close, float_win, true)
  end
  float_win = nil
end

local function show_float(s)
  if not M.config.float then
    return
  end
  if s == "" then
    close_float()
    return
  end
  if not (float_buf and vim.api.nvim_buf_is_valid(float_buf)) then
    float_buf = vim.api.nvim_create_buf(false, true)
  end
  vim.api.nvim_buf_set_lines(float_buf, 0, -1, false, { s })
  local width = math.min(math.max(vim.fn.strdisplaywidth(s), 10), math.max(vim.o.columns - 4, 10))
  local config = {
    relative = "editor", anchor = "SE", row = vim.o.lines - 2, col = vim.o.columns,
    width = width, height = 1, style = "minimal", focusable = false, border = "rounded",
  }
  if float_win and vim.api.nvim_win_is_valid(float_win) then
    vim.api.nvim_win_set_config(float_win, config)
  else
    config.noautocmd = true
    float_win = vim.api.nvim_open_win(float_buf, false, config)
  end
end

--- A statusline component: "🎙 listening" / "pushkin: no daemon", plus the interim text.
function M.statusline()
  local s = M.state
  local label
  if s.bridge ~= "running" and s.bridge ~= "restarting" and s.connection ~= "connected" then
    return ""
  elseif s.connection ~= "connected" then
    label = "pushkin: no daemon"
  else
    label = "🎙 " .. (s.listen ~= "" and s.listen or "connected")
  end
  if s.interim ~= "" then
    local interim = s.interim
    if vim.fn.strchars(interim) > 40 then
      interim = "…" .. vim.fn.strcharpart(interim, vim.fn.strchars(interim) - 39)
    end
    label = label .. " “" .. interim .. "”"
  end
  return label
end

-- ---------------------------------------------------------------------------------------------------
-- Messages from the bridge
-- ---------------------------------------------------------------------------------------------------

local function set_listen(state)
  if state and state ~= "" and state ~= vim.NIL then
    M.state.listen = state
  end
end

local handlers = {}

function handlers.connection(m)
  M.state.connection = m.state
  if m.state ~= "connected" and m.message and m.message ~= "" then
    M.state.message = m.message
  end
  redraw()
end

function handlers.welcome(m)
  M.state.connection = "connected"
  M.state.session_id = m.session_id or ""
  M.state.message = ""
  if type(m.status) == "table" then
    set_listen(m.status.state)
  end
  -- The daemon knows nothing of us after a (re)connect: open every attached buffer again, then focus.
  for bufnr, doc in pairs(docs) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      local message = open_message(bufnr)
      doc.sent_version = message.version
      doc.changes, doc.full = {}, false
      doc.last_group = nil
      send(message)
    end
  end
  focus_current()
  redraw()
end

function handlers.edit_batch(m)
  apply_batch(m)
end

function handlers.transcript(m)
  if m.final then
    M.state.interim = ""
  else
    M.state.interim = m.text or ""
  end
  show_float(M.state.interim)
  redraw()
end

function handlers.notice(m)
  set_listen(m.state)
  if m.code == "proposal-closed" then
    -- Decided (by voice or by us) on the daemon's side: take its preview down.
    local bufnr = buf_of(m.document_id)
    local id = tonumber(tostring(m.message or ""):match("(%d+)"))
    if bufnr and previews[bufnr] and previews[bufnr].proposal_id == id then
      clear_preview(bufnr)
    end
  end
  if m.level == "warning" or m.level == "error" then
    M.state.message = m.message or ""
    notify(m.message or m.code, m.level == "error" and vim.log.levels.ERROR or vim.log.levels.WARN)
  end
  redraw()
end

function handlers.status(m)
  set_listen(m.state)
  redraw()
end

function handlers.daemon_error(m)
  M.state.message = m.message or ""
  notify("daemon: " .. (m.message or m.code or "error"), vim.log.levels.WARN)
end

function handlers.error(m)
  -- "not-connected" is the expected answer while the daemon is away; it is shown in the statusline.
  M.state.message = m.message or ""
  if m.code ~= "not-connected" or m.id then
    notify(m.message or m.code, vim.log.levels.WARN)
  end
end

function handlers.proposal(m)
  local bufnr = buf_of(m.document_id)
  if not bufnr then
    send({ type = "proposal_decision", proposal_id = m.proposal_id, accept = false })
    return
  end
  -- One preview per buffer: a newer proposal replaces the one on screen, which is rejected, so that
  -- "accept" always means the preview the user sees.
  local older = clear_preview(bufnr)
  if older then
    send({ type = "proposal_decision", proposal_id = older.proposal_id, accept = false })
  end
  local preview = { proposal_id = m.proposal_id, shown = false }
  previews[bufnr] = preview
  if vim.api.nvim_buf_get_changedtick(bufnr) == m.base_version then
    preview.shown = show_preview(bufnr, preview, m.edits or {})
  end
  if not preview.shown then
    -- The buffer moved while the model wrote: the daemon carries the proposal along, but its offsets
    -- here are for an older text.
    M.state.message = "a rewrite proposal arrived for an older text; :Pushkin accept or reject"
    notify(M.state.message, vim.log.levels.WARN)
  end
  if M.config.preview_keys then
    preview.keys = true
    vim.keymap.set("n", "<Leader>pa", function() decide(bufnr, true) end, { buffer = bufnr, desc = "pushkin: accept the rewrite" })
    vim.keymap.set("n", "<Leader>pr", function() decide(bufnr, false) end, { buffer = bufnr, desc = "pushkin: reject the rewrite" })
  end
  redraw()
end

local function on_message(m)
  if type(m) ~= "table" then
    return
  end
  if m.id and m.id ~= vim.NIL and pending[m.id] then
    local callback = pending[m.id]
    pending[m.id] = nil
    pcall(callback, m)
  end
  local handler = handlers[m.type]
  if handler then
    local ok, err = pcall(handler, m)
    if not ok then
      M.state.message = tostring(err)
      notify("could not handle " .. tostring(m.type) .. ": " .. tostring(err), vim.log.levels.ERROR)
    end
  end
end

local function on_stdout(_, data, _)
  -- jobstart hands over chunks split at newlines; the first item continues the previous chunk's tail.
  if not data then
    return
  end
  data[1] = stdout_tail .. data[1]
  stdout_tail = data[#data]
  for i = 1, #data - 1 do
    local line = data[i]
    if line ~= "" then
      local ok, message = pcall(vim.json.decode, line)
      if ok then
        on_message(message)
      else
        M.state.message = "bridge sent a line that is not JSON: " .. line:sub(1, 200)
      end
    end
  end
end

--- Handle one decoded bridge message (what arrives on the bridge's stdout); public so that another
--- transport, or a test, can feed the plugin.
M.handle_message = on_message

-- ---------------------------------------------------------------------------------------------------
-- The bridge process
-- ---------------------------------------------------------------------------------------------------

local start_bridge

-- Start the bridge again after the current delay, doubling it for next time (up to restart_max_s).
local function schedule_restart()
  local delay = restart_delay
  restart_delay = math.min(restart_delay * 2, M.config.restart_max_s)
  vim.defer_fn(function()
    if not stopping and job == nil then
      start_bridge()
    end
  end, math.floor(delay * 1000))
end

local function on_exit(_, code, _)
  job = nil
  stdout_tail = ""
  pending = {}
  M.state.connection = "disconnected"
  if stopping then
    M.state.bridge = "stopped"
    redraw()
    return
  end
  -- The bridge should live as long as the editor: restart it, waiting longer each time.
  M.state.bridge = "restarting"
  M.state.message = ("the bridge exited (code %d); restarting in %.1f s"):format(code, restart_delay)
  redraw()
  schedule_restart()
end

start_bridge = function()
  if job then
    return true
  end
  stopping = false
  local cmd = vim.deepcopy(M.config.cmd)
  if M.config.address then
    vim.list_extend(cmd, { "--address", M.config.address })
  end
  local ok, id = pcall(vim.fn.jobstart, cmd, {
    on_stdout = on_stdout,
    on_stderr = function(_, data, _)
      local s = table.concat(data or {}, "\n"):gsub("%s+$", "")
      if s ~= "" then
        M.state.message = s:sub(-300)
      end
    end,
    on_exit = on_exit,
  })
  if not ok or id <= 0 then
    M.state.bridge = "restarting"
    M.state.message = ("cannot run %s: %s"):format(cmd[1], ok and "not executable" or tostring(id))
    schedule_restart()
    redraw()
    return false
  end
  job = id
  M.state.bridge = "running"
  M.state.connection = "connecting"
  send({
    type = "hello",
    editor_name = "nvim",
    editor_version = tostring(vim.version().major) .. "." .. vim.version().minor .. "." .. vim.version().patch,
    capabilities = M.config.previews and { "interim", "undo-groups", "proposals" } or { "interim", "undo-groups" },
  })
  focus_current()
  redraw()
  return true
end

local function stop_bridge()
  stopping = true
  if job then
    pcall(vim.fn.jobstop, job)
  end
  M.state.bridge = "stopped"
  M.state.connection = "disconnected"
  close_float()
  redraw()
end

-- ---------------------------------------------------------------------------------------------------
-- Commands
-- ---------------------------------------------------------------------------------------------------

local function set_listening(state, then_fn)
  if not job then
    notify("not running (:Pushkin start)", vim.log.levels.WARN)
    return
  end
  send({ type = "set_listening", state = state }, function(reply)
    if reply.type == "status" then
      set_listen(reply.state)
      redraw()
    end
    if then_fn then
      then_fn(reply)
    end
  end)
end

function M.start()
  if not M._configured then
    M.setup({ auto_start = false })
  end
  restart_delay = 0.25
  start_bridge()
  set_listening("listening")
end

function M.stop()
  if not job then
    stop_bridge()
    return
  end
  -- Mute first, then let the bridge go once the daemon answered (or after a second, if it cannot).
  local done = false
  local function finish()
    if not done then
      done = true
      stop_bridge()
    end
  end
  set_listening("muted", function()
    finish()
  end)
  vim.defer_fn(finish, 1000)
end

function M.sleep()
  set_listening("sleeping")
end

function M.wake()
  set_listening("listening")
end

--- A one-line summary of the plugin's and the daemon's state.
function M.describe()
  local s = M.state
  local parts = { ("bridge %s, daemon %s"):format(s.bridge, s.connection) }
  if s.listen ~= "" then
    parts[#parts + 1] = s.listen
  end
  local n = 0
  for _ in pairs(docs) do
    n = n + 1
  end
  parts[#parts + 1] = ("%d buffer(s) attached"):format(n)
  if s.message ~= "" then
    parts[#parts + 1] = s.message
  end
  return table.concat(parts, "; ")
end

function M.status()
  if not job then
    notify(M.describe())
    return
  end
  send({ type = "get_status" }, function(reply)
    if reply.type == "status" then
      set_listen(reply.state)
      notify(("%s; daemon %s, %d editor(s), %d utterance(s)"):format(
        M.describe(), reply.daemon_version or "?", #(reply.editors or {}), reply.utterances or 0))
    else
      notify(M.describe() .. "; " .. (reply.message or ""), vim.log.levels.WARN)
    end
  end)
end

--- Documents tracked now: bufnr -> document id (for :checkhealth and tests).
function M.documents()
  local out = {}
  for bufnr, doc in pairs(docs) do
    out[bufnr] = doc.id
  end
  return out
end

function M.command(arg)
  local actions = { start = M.start, stop = M.stop, status = M.status, sleep = M.sleep, wake = M.wake,
                    accept = M.accept, reject = M.reject }
  local action = actions[arg]
  if not action then
    vim.notify("pushkin: :Pushkin start|stop|status|sleep|wake|accept|reject", vim.log.levels.WARN)
    return
  end
  action()
end

local augroup = nil

function M.setup(opts)
  M._configured = true
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  augroup = vim.api.nvim_create_augroup("pushkin", { clear = true })
  vim.cmd("highlight default link PushkinOld DiffDelete")
  vim.cmd("highlight default link PushkinNew DiffAdd")
  vim.api.nvim_create_autocmd({ "BufEnter", "FocusGained" }, {
    group = augroup,
    callback = function()
      if job then
        focus_current()
      end
    end,
  })
  vim.api.nvim_create_autocmd("FocusLost", {
    group = augroup,
    callback = function()
      if connected() then
        send({ type = "focus", document_id = doc_id(vim.api.nvim_get_current_buf()), focused = false })
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI", "InsertEnter", "InsertLeave" }, {
    group = augroup,
    callback = function(args)
      local doc = docs[args.buf]
      if doc then
        doc.selection_dirty = true
        schedule_flush()
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "BufDelete", "BufWipeout" }, {
    group = augroup,
    callback = function(args)
      M.detach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = augroup,
    callback = function()
      stop_bridge()
    end,
  })
  if M.config.auto_start then
    start_bridge()
  end
end

return M
