"""Installing the Neovim plugin from the repository, as plugin managers do, and `:help pushkin`.

Each test starts a real headless Neovim (`--clean`: no user config) that loads the plugin the way the
documented install does, then reports what it sees as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from plugin_harness import NVIM_PLUGIN, REPO

pytestmark = pytest.mark.timeout(60)

# What the plugin looks like from inside Neovim once installed, written to $PROBE_OUT as JSON.
PROBE = r"""
local out = {}
out.command = vim.fn.exists(":Pushkin")
local ok, pushkin = pcall(require, "pushkin")
out.module = ok
if ok then
  out.auto_start = pushkin.config.auto_start
  out.bridge = pushkin.state.bridge
end
local help_ok, help_err = pcall(vim.cmd, "help pushkin")
out.help_ok = help_ok
out.help_err = help_ok and "" or tostring(help_err)
out.help_file = vim.fn.expand("%:t")
out.help_line = vim.api.nvim_get_current_line()
out.help_filetype = vim.bo.filetype
local previews_ok = pcall(vim.cmd, "help pushkin-previews")
out.previews_line = previews_ok and vim.api.nvim_get_current_line() or ""
vim.fn.writefile({ vim.json.encode(out) }, os.getenv("PROBE_OUT"))
"""


def probe(tmp_path: Path, *, before: list[str] = (), init_lua: str = "", clean: bool = True) -> dict:
    script = tmp_path / "probe.lua"
    script.write_text(PROBE, encoding="utf-8")
    init = tmp_path / "init.lua"
    init.write_text(init_lua, encoding="utf-8")
    out = tmp_path / "probe.json"
    env = {**os.environ, "PROBE_OUT": str(out), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state")}
    argv = ["nvim", "--headless", *(["--clean"] if clean else []), *[a for b in before for a in ("--cmd", b)],
            "-u", str(init), "-c", f"luafile {script}", "-c", "qa!"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert out.exists(), f"Neovim wrote no probe result: rc={result.returncode} {result.stderr[-2000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


def assert_installed(seen: dict) -> None:
    assert seen["command"] == 2, seen  # :Pushkin is defined
    assert seen["module"], seen
    assert seen["help_ok"], seen["help_err"]
    assert seen["help_file"] == "pushkin.txt" and seen["help_filetype"] == "help", seen
    assert "*pushkin*" in seen["help_line"], seen
    assert "*pushkin-previews*" in seen["previews_line"], seen


def test_lazy_nvim_spec_with_the_repository_as_dir(tmp_path):
    # lazy.nvim with { dir = CLONE, main = "pushkin", opts = {...} }: it puts `dir` on the runtimepath,
    # sources its plugin/ files, then calls require(main).setup(opts).
    init = (f'vim.opt.runtimepath:prepend("{REPO}")\n'
            f'for _, f in ipairs(vim.fn.glob("{REPO}/plugin/**/*.lua", false, true)) do vim.cmd("source " .. f) end\n'
            'require("pushkin").setup({ auto_start = false })\n')
    seen = probe(tmp_path, init_lua=init)
    assert_installed(seen)
    assert seen["auto_start"] is False and seen["bridge"] == "stopped"


def test_packer_and_vim_plug_with_rtp_clients_nvim(tmp_path):
    init = f'vim.opt.runtimepath:append("{NVIM_PLUGIN}")\nrequire("pushkin").setup({{ auto_start = false }})\n'
    # plugin/ files under an appended runtimepath entry are sourced at startup, as with packer's rtp.
    assert_installed(probe(tmp_path, init_lua=init))


def test_neovim_package_links_the_clone_and_it_loads_at_startup(tmp_path):
    start = tmp_path / "site" / "pack" / "pushkin" / "start"
    start.mkdir(parents=True)
    (start / "lil-pushkin").symlink_to(REPO, target_is_directory=True)
    seen = probe(tmp_path, before=[f"set packpath^={tmp_path / 'site'}"], init_lua="")
    assert_installed(seen)


def test_the_committed_help_tags_are_current(tmp_path):
    copy = tmp_path / "doc"
    shutil.copytree(NVIM_PLUGIN / "doc", copy)
    (copy / "tags").unlink()
    subprocess.run(["nvim", "--headless", "--clean", "-c", f"helptags {copy}", "-c", "qa!"], check=True,
                   capture_output=True, timeout=30)
    assert (copy / "tags").read_text() == (NVIM_PLUGIN / "doc" / "tags").read_text(), \
        "regenerate: nvim --headless --clean -c 'helptags clients/nvim/doc' -c q"


def test_the_repository_root_leads_to_the_plugin():
    for name in ("lua", "plugin", "doc"):
        assert (REPO / name).resolve() == (NVIM_PLUGIN / name).resolve(), name
