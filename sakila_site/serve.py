"""What ``make run`` and ``make dev`` start: ``python -m sakila_site.serve [--dev] [--no-demo]``.

``make run`` serves like production: DEBUG off, gunicorn, static files
collected and served by WhiteNoise, the site's own error pages, and a secret
key generated once into ``<SAKILA_VAR_DIR>/secret_key`` (mode 0600, reused on
later starts). It serves plain http on this machine, so the HTTPS-only
protections that DEBUG off turns on (redirect to https, secure cookies, HSTS)
are turned off here, and only here: a real deployment sets its own
SECRET_KEY and ALLOWED_HOSTS, keeps them on, and the settings still refuse
to start without them. Variables already set in the environment win.

``--dev`` keeps DEBUG on and Django's autoreloading runserver instead.

Either way it migrates, loads the demo data and users (``setup_demo``, unless
``--no-demo``), collects static files (not with ``--dev``), then becomes
supervisord in the foreground (``deploy/supervisord.conf`` or
``deploy/supervisord-dev.conf``): web, Celery worker and beat, each started
again if it dies; Ctrl-C stops them all.

This module does not import Django: the settings it prepares are those of
the processes it starts.
"""

import argparse
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
SECRET_KEY_FILE = "secret_key"
# Off for plain http on this machine (each on by default once DEBUG is off).
PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}


def var_dir(environ: Mapping[str, str]) -> Path:
    """SAKILA_VAR_DIR as the settings read it, made absolute (supervisord's files go there)."""
    return Path(environ.get("SAKILA_VAR_DIR") or PROJECT / "var").resolve()


def secret_key(var: Path) -> str:
    """The key kept in ``var/secret_key``, made on first use, readable by this user only."""
    path = var / SECRET_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
    key = path.read_text().strip()
    if not key:
        raise SystemExit(f"{path} is empty: delete it, and the next start makes a new key.")
    return key


def stack_environ(environ: Mapping[str, str], *, dev: bool = False) -> dict[str, str]:
    """The environment of the stack's processes (and of supervisord's config)."""
    env = dict(environ)
    var = var_dir(env)
    var.mkdir(parents=True, exist_ok=True)
    env["SAKILA_VAR_DIR"] = str(var)
    env["HOST"] = env.get("HOST") or "127.0.0.1"
    env["PORT"] = env.get("PORT") or "8000"
    env["SAKILA_PYTHON"] = sys.executable
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"  # logs reach the terminal as they are written
    if dev:
        env["DEBUG"] = "true"
        return env
    env["DEBUG"] = "false"
    env["SECRET_KEY"] = env.get("SECRET_KEY") or secret_key(var)
    hosts = dict.fromkeys(["127.0.0.1", "localhost", env["HOST"]])  # in order, once each
    env["ALLOWED_HOSTS"] = env.get("ALLOWED_HOSTS") or ",".join(hosts)
    for name, value in PLAIN_HTTP.items():
        env[name] = env.get(name) or value
    return env


def supervisord_command(*, dev: bool = False) -> list[str]:
    config = DEPLOY / ("supervisord-dev.conf" if dev else "supervisord.conf")
    return [sys.executable, "-m", "supervisor.supervisord", "--configuration", str(config)]


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sakila_site.serve", description=__doc__)
    parser.add_argument("--dev", action="store_true", help="runserver with DEBUG on")
    parser.add_argument("--no-demo", action="store_true", help="skip setup_demo")
    args = parser.parse_args(argv)
    env = stack_environ(os.environ, dev=args.dev)
    try:
        _manage(env, "migrate", "--no-input")
        if not args.no_demo:
            _manage(env, "setup_demo")
        if not args.dev:
            _manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)  # the command has said why
    except KeyboardInterrupt:
        sys.exit(130)
    server = "runserver, DEBUG on" if args.dev else "gunicorn, DEBUG off"
    print(
        f"Serving on http://{env['HOST']}:{env['PORT']}/ ({server}) with a Celery worker and "
        "beat, under supervisord: a process that dies is started again; Ctrl-C stops them all.",
        flush=True,
    )
    command = supervisord_command(dev=args.dev)
    os.chdir(PROJECT)
    os.execve(command[0], command, env)  # supervisord takes this process's place and signals


if __name__ == "__main__":
    main()
