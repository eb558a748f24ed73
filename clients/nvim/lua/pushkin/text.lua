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

return M
