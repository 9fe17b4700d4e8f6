"""`rasa run` with the project's safe defaults; prints where everything is.

Usage: python scripts/run_server.py [rasa run options, e.g. --model ... --credentials ...]
(`make run` starts it through scripts/with_action_server.py.)

* The HTTP API (/conversations/<id>/tracker, /model ...) is enabled only when
  RASA_AUTH_TOKEN or RASA_JWT_SECRET is set (read through addons/settings.py),
  and then always protected by them. `--enable-api` without either, or a token
  on the command line (visible in `ps`), is refused.
* Request bodies are limited to SANIC_REQUEST_MAX_SIZE bytes (default 1 MiB
  here instead of Sanic's 100 MB): larger ones get 413 before any handler runs.
* --port defaults to RASA_PORT (5005).
* The project's patches to Rasa (addons/server_hooks.py) are installed before Rasa starts.

Rasa runs in this process, so the token never appears in a process list.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from addons.settings import Settings, load_settings  # noqa: E402

SECRET_OPTIONS = ("-t", "--auth-token", "--jwt-secret", "--jwt-private-key")


def _option(args: List[str], *names: str) -> Optional[str]:
    """The value of the last of `names` in args (`--x v` or `--x=v`), or None."""
    value = None
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith(name + "="):
                value = arg.split("=", 1)[1]
    return value


def _has(args: List[str], *names: str) -> bool:
    return any(arg in names or any(arg.startswith(n + "=") for n in names) for arg in args)


def rasa_arguments(settings: Settings, passthrough: List[str]) -> List[str]:
    """The full `rasa run` argument list; SystemExit on an unsafe combination."""
    if _has(passthrough, *SECRET_OPTIONS):
        raise SystemExit("Do not pass secrets on the command line: set RASA_AUTH_TOKEN or RASA_JWT_SECRET instead.")
    if _has(passthrough, "--enable-api") and not settings.api_enabled:
        raise SystemExit(
            "--enable-api needs RASA_AUTH_TOKEN or RASA_JWT_SECRET: an open API exposes every conversation."
        )
    args = ["run", *[arg for arg in passthrough if arg != "--enable-api"]]
    if not _has(passthrough, "-p", "--port"):
        args += ["--port", str(settings.rasa_port)]
    if settings.api_enabled:
        args.append("--enable-api")
        if settings.rasa_auth_token:
            args += ["--auth-token", settings.rasa_auth_token]
        if settings.rasa_jwt_secret:
            args += ["--jwt-secret", settings.rasa_jwt_secret, "--jwt-method", settings.rasa_jwt_method]
    return args


def banner(settings: Settings, args: List[str]) -> str:
    interface = _option(args, "-i", "--interface") or "0.0.0.0"
    host = "localhost" if interface in ("0.0.0.0", "::", "") else interface
    port = _option(args, "-p", "--port") or str(settings.rasa_port)
    base = f"http://{host}:{port}"
    if settings.rasa_auth_token and settings.rasa_jwt_secret:
        api = "on, token (RASA_AUTH_TOKEN) or JWT (RASA_JWT_SECRET) required"
    elif settings.rasa_auth_token:
        api = "on, ?token=<RASA_AUTH_TOKEN> required"
    elif settings.rasa_jwt_secret:
        api = f"on, 'Authorization: Bearer <JWT {settings.rasa_jwt_method}>' required"
    else:
        api = "off (set RASA_AUTH_TOKEN or RASA_JWT_SECRET to enable it)"
    lines = [
        f"Rasa server on {interface}:{port} (ready when the model has loaded):",
        f'  REST webhook    POST {base}/webhooks/rest/webhook  {{"sender": "...", "message": "..."}}',
        f"  Web widget      {base}/webhooks/socketio/webchat/",
        f"  WeChat webhook  {base}/webhooks/wechat/webhook",
        f"  Health          {base}/  and  {base}/webhooks/rest/",
        f"  HTTP API        {api}" + (f": {base}/status" if settings.api_enabled else ""),
        f"  Request bodies  at most {settings.request_max_size} bytes (SANIC_REQUEST_MAX_SIZE)",
    ]
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    passthrough = argv[argv.index("--") + 1 :] if "--" in argv else list(argv)
    settings = load_settings()
    args = rasa_arguments(settings, passthrough)
    # Sanic reads SANIC_* variables when Rasa creates its app (in this process).
    os.environ["SANIC_REQUEST_MAX_SIZE"] = str(settings.request_max_size)
    print(banner(settings, args), flush=True)
    os.chdir(ROOT)  # Rasa imports custom components (addons.*) from the working directory
    from addons.rasa_cli import run

    return run(args)  # addons.server_hooks.install_all(), then `rasa run ...`


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
