-- :Pushkin start|stop|status|sleep|wake|accept|reject. Loading the plugin starts nothing: call
-- require("pushkin").setup({...}) (which connects unless auto_start = false) or run :Pushkin start.
if vim.g.loaded_pushkin then
  return
end
vim.g.loaded_pushkin = true

vim.api.nvim_create_user_command("Pushkin", function(opts)
  local pushkin = require("pushkin")
  if opts.args == "start" and not pushkin._configured then
    -- :Pushkin start without setup(): use the defaults, but let start() itself connect.
    pushkin.setup({ auto_start = false })
  end
  pushkin.command(opts.args)
end, {
  nargs = 1,
  complete = function(lead)
    return vim.tbl_filter(function(c)
      return c:find(lead, 1, true) == 1
    end, { "start", "stop", "status", "sleep", "wake", "accept", "reject" })
  end,
  desc = "lil Pushkin voice editing: start, stop, status, sleep, wake, accept, reject",
})
