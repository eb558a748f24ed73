-- :checkhealth pushkin — the bridge command, the daemon's reachability, and the plugin's state.
local M = {}

-- Neovim 0.10 has vim.health.start/ok/...; 0.7-0.9 have require("health").report_*.
local function reporter()
  if vim.health and vim.health.start then
    return vim.health
  end
  local health = require("health")
  return {
    start = health.report_start,
    ok = health.report_ok,
    warn = health.report_warn,
    error = health.report_error,
    info = health.report_info,
  }
end

function M.check()
  local h = reporter()
  local pushkin = require("pushkin")
  h.start("pushkin: editor side")
  local v = vim.version()
  if vim.fn.has("nvim-0.7") == 1 then
    h.ok(("Neovim %d.%d.%d (0.7 or later is supported)"):format(v.major, v.minor, v.patch))
  else
    h.error("Neovim 0.7 or later is required")
  end
  local cmd = pushkin.config.cmd
  if vim.fn.executable(cmd[1]) == 1 then
    h.ok(("bridge command: %s (%s)"):format(table.concat(cmd, " "), vim.fn.exepath(cmd[1])))
  else
    h.error(("`%s` is not executable"):format(cmd[1]), {
      "Install lil Pushkin (make setup) and put its .venv/bin on PATH,",
      "or set require('pushkin').setup({ cmd = { '/path/to/pushkin', 'bridge', '--stdio' } })",
    })
  end
  h.start("pushkin: daemon")
  local s = pushkin.state
  if s.bridge ~= "running" then
    h.warn(("the bridge is %s"):format(s.bridge), { "Run :Pushkin start" })
  elseif s.connection == "connected" then
    h.ok(("connected (session %s); listening state: %s"):format(s.session_id, s.listen ~= "" and s.listen or "?"))
  else
    h.warn(("not connected to the daemon (%s)"):format(s.connection), {
      s.message ~= "" and s.message or "Start it with `pushkin serve` (or install the login service)",
    })
  end
  local n = 0
  for _ in pairs(pushkin.documents()) do
    n = n + 1
  end
  h.info(("%d buffer(s) attached as documents"):format(n))
end

return M
