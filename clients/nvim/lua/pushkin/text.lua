-- Offsets between Neovim's (row, byte column) positions and the contract's code points.
--
-- A document's text is its lines joined with "\n" (no trailing newline: the buffer's last line ends the
-- text). Pure functions over a list of lines, so they work on any buffer snapshot. Neovim 0.7's
-- vim.str_utfindex / vim.str_byteindex count UTF-32 units, which are code points.
local M = {}

--- Number of code points in a line (invalid UTF-8 bytes count one each, as Neovim does).
function M.line_length(line)
  local n = vim.str_utfindex(line)
  return n
end

--- The full text of a list of lines.
function M.join(lines)
  return table.concat(lines, "\n")
end

--- Code point offset of (row, byte col), both 0-based, in `lines`.
function M.offset_of(lines, row, col)
  local offset = 0
  for i = 1, row do
    offset = offset + M.line_length(lines[i]) + 1
  end
  local line = lines[row + 1] or ""
  if col > #line then
    col = #line
  end
  if col > 0 then
    offset = offset + vim.str_utfindex(line, col)
  end
  return offset
end

--- (row, byte col), 0-based, of a code point offset in `lines`; nil and a message when out of range.
function M.position_of(lines, offset)
  if offset < 0 then
    return nil, nil, ("offset %d is negative"):format(offset)
  end
  local remaining = offset
  for i, line in ipairs(lines) do
    local len = M.line_length(line)
    if remaining <= len then
      local col = remaining == 0 and 0 or vim.str_byteindex(line, remaining)
      return i - 1, col
    end
    remaining = remaining - len - 1
  end
  return nil, nil, ("offset %d is past the end of the text"):format(offset)
end

--- Total code points of the text.
function M.length(lines)
  local total = #lines - 1
  for _, line in ipairs(lines) do
    total = total + M.line_length(line)
  end
  return total
end

--- Code point offset of (row, byte col) using `lens`, the code point length of each line (no line is
--- measured again: a 1 MB buffer is not walked per keystroke).
function M.offset_in(lines, lens, row, col)
  local offset = 0
  for i = 1, row do
    offset = offset + lens[i] + 1
  end
  local line = lines[row + 1] or ""
  if col > #line then
    col = #line
  end
  if col > 0 then
    offset = offset + vim.str_utfindex(line, col)
  end
  return offset
end

--- (row, byte col) of a code point offset, using `lens` as above; nil and a message when out of range.
function M.position_in(lines, lens, offset)
  if offset < 0 then
    return nil, nil, ("offset %d is negative"):format(offset)
  end
  local remaining = offset
  for i = 1, #lines do
    local len = lens[i]
    if remaining <= len then
      local col = remaining == 0 and 0 or vim.str_byteindex(lines[i], remaining)
      return i - 1, col
    end
    remaining = remaining - len - 1
  end
  return nil, nil, ("offset %d is past the end of the text"):format(offset)
end

-- A byte that continues a UTF-8 sequence (10xxxxxx): a cut there would split a character.
local function continues(s, i)
  local b = s:byte(i)
  return b ~= nil and b >= 0x80 and b < 0xC0
end

--- The smallest change that turns `old` into `new` (two strings), as (byte prefix, byte suffix) kept
--- unchanged on both sides, cut only at character boundaries.
function M.common_ends(old, new)
  local limit = math.min(#old, #new)
  local p = 0
  while p < limit and old:byte(p + 1) == new:byte(p + 1) do
    p = p + 1
  end
  while p > 0 and (continues(old, p + 1) or continues(new, p + 1)) do
    p = p - 1
  end
  local s = 0
  while s < limit - p and old:byte(#old - s) == new:byte(#new - s) do
    s = s + 1
  end
  while s > 0 and (continues(old, #old - s + 1) or continues(new, #new - s + 1)) do
    s = s - 1
  end
  return p, s
end

return M
