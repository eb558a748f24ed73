"""The login service: a systemd --user unit on Linux, a LaunchAgent on macOS.

Both run ``pushkin serve`` in the foreground (the daemon never daemonizes itself) and restart it only
when it fails. ``--print`` shows the file and where it would go without changing anything.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "pushkin.service"
AGENT_LABEL = "org.lilpushkin.daemon"


class ServiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServiceFile:
    path: Path
    content: str
    enable: tuple[tuple[str, ...], ...]  # commands that enable and start it
    disable: tuple[tuple[str, ...], ...]


def serve_command() -> list[str]:
    """The command line the service runs: this interpreter and this installation's CLI."""
    return [sys.executable, "-m", "pushkin.clients.cli", "serve"]


def systemd_unit(command: list[str] | None = None) -> str:
    command = command or serve_command()
    return "\n".join([
        "[Unit]",
        "Description=lil Pushkin voice-editing daemon",
        "PartOf=graphical-session.target",
        "After=graphical-session.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(shlex.quote(part) for part in command),
        "Restart=on-failure",
        "RestartSec=2",
        "",
        "[Install]",
        "WantedBy=graphical-session.target",
        "",
    ])


def launch_agent(command: list[str] | None = None) -> str:
    logs = Path.home() / "Library" / "Logs" / "pushkin.log"
    plist = {
        "Label": AGENT_LABEL,
        "ProgramArguments": command or serve_command(),
        "RunAtLoad": True,
        # Restart only after a failure (a non-zero exit), never after a clean stop.
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Interactive",
        "StandardOutPath": str(logs),
        "StandardErrorPath": str(logs),
    }
    return plistlib.dumps(plist).decode("utf-8")


def this_platform() -> str:
    return "macos" if sys.platform == "darwin" else "linux"


def service_file(platform: str | None) -> ServiceFile:
    platform = platform or this_platform()
    if platform == "linux":
        config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        return ServiceFile(
            config / "systemd" / "user" / UNIT_NAME, systemd_unit(),
            enable=(("systemctl", "--user", "daemon-reload"), ("systemctl", "--user", "enable", "--now", UNIT_NAME)),
            disable=(("systemctl", "--user", "disable", "--now", UNIT_NAME), ("systemctl", "--user", "daemon-reload")),
        )
    if platform == "macos":
        path = Path.home() / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"
        domain = f"gui/{os.getuid()}"
        return ServiceFile(path, launch_agent(), enable=(("launchctl", "bootstrap", domain, str(path)),),
                           disable=(("launchctl", "bootout", f"{domain}/{AGENT_LABEL}"),))
    raise ServiceError(f"unknown platform {platform!r}: expected linux or macos")


def _run_all(commands) -> list[str]:
    """Run each command; the problems, as text (empty when all went well)."""
    problems = []
    for command in commands:
        if shutil.which(command[0]) is None:
            problems.append(f"{command[0]} is not installed")
            break
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            problems.append(f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()}")
            break
    return problems


def install(platform: str | None, *, print_only: bool = False, enable: bool = True) -> int:
    service = service_file(platform)
    if print_only:
        print(f"# {service.path}")
        print(service.content, end="")
        return 0
    service.path.parent.mkdir(parents=True, exist_ok=True)
    service.path.write_text(service.content, encoding="utf-8")
    print(f"wrote {service.path}")
    if not enable:
        print("to start it: " + " && ".join(" ".join(c) for c in service.enable))
        return 0
    problems = _run_all(service.enable)
    if problems:
        print("pushkin: the service file is in place but could not be enabled: " + "; ".join(problems), file=sys.stderr)
        print("enable it by hand: " + " && ".join(" ".join(c) for c in service.enable), file=sys.stderr)
        return 1
    print("enabled and started")
    return 0


def uninstall(platform: str | None, *, print_only: bool = False, disable: bool = True) -> int:
    service = service_file(platform)
    if print_only:
        print(f"would remove {service.path}")
        return 0
    problems = _run_all(service.disable) if disable and service.path.exists() else []
    try:
        service.path.unlink()
        print(f"removed {service.path}")
    except FileNotFoundError:
        print(f"{service.path} was not installed")
    if problems:
        print("pushkin: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0
