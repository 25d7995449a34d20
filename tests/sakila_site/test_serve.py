"""make run's launcher (sakila_site/serve.py) and the supervised stack it starts."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from sakila_site.serve import PROJECT, stack_environ, supervisord_command
from tests.stack import (
    NOT_INHERITED,
    stack_start,
    stack_stop,
    status_of,
    wait_for,
    wait_until_serving,
)

STARTUP_TIMEOUT_SECONDS = 180
RESTART_TIMEOUT_SECONDS = 30  # a worker is back within seconds; a busy machine, more


def settings_of(env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
    """Print settings as ``manage.py shell`` sees them in ``env`` (the checks run first)."""
    script = f"from django.conf import settings as s; print(*[repr(getattr(s, n)) for n in {names!r}], sep='|')"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def clean_environ(var_dir: Path) -> dict[str, str]:
    """The test's environment without the settings make run decides, in ``var_dir``."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    return env | {"SAKILA_VAR_DIR": str(var_dir)}


def test_make_run_serves_with_debug_off_over_plain_http(tmp_path):
    env = stack_environ(clean_environ(tmp_path))
    result = settings_of(
        env, "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "False", "False", "False", "False", "0", "['127.0.0.1', 'localhost']",
    ]  # fmt: skip


def test_the_secret_key_is_made_once_and_kept_private(tmp_path):
    first = stack_environ(clean_environ(tmp_path))["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 50 and key_file.read_text().strip() == first
    assert stack_environ(clean_environ(tmp_path))["SECRET_KEY"] == first  # reused
    assert stack_environ(clean_environ(tmp_path / "other"))["SECRET_KEY"] != first


def test_the_environment_wins_over_make_runs_choices(tmp_path):
    env = clean_environ(tmp_path) | {
        "SECRET_KEY": "set-by-the-operator",
        "ALLOWED_HOSTS": "sakila.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "HOST": "0.0.0.0",
    }
    env = stack_environ(env)
    assert env["SECRET_KEY"] == "set-by-the-operator"
    assert env["ALLOWED_HOSTS"] == "sakila.example.com"
    assert env["SECURE_SSL_REDIRECT"] == "true"
    assert not (tmp_path / "secret_key").exists()
    other = stack_environ(clean_environ(tmp_path / "other") | {"HOST": "0.0.0.0"})
    assert other["ALLOWED_HOSTS"] == "127.0.0.1,localhost,0.0.0.0"


def test_make_dev_keeps_debug_on_and_makes_no_key(tmp_path):
    env = stack_environ(clean_environ(tmp_path), dev=True)
    assert env["DEBUG"] == "true" and "SECRET_KEY" not in env
    assert not (tmp_path / "secret_key").exists()


def test_production_does_not_read_make_runs_key(tmp_path):
    """A deployment with DEBUG off and no SECRET_KEY still refuses to start,
    even where make run once generated a key."""
    stack_environ(clean_environ(tmp_path))  # writes tmp_path/secret_key
    env = clean_environ(tmp_path) | {"DEBUG": "false", "ALLOWED_HOSTS": "sakila.example.com"}
    result = settings_of(env, "DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("dev", "web"), [(False, "-m gunicorn sakila_site.wsgi"), (True, "manage.py runserver")]
)
def test_supervisord_runs_web_worker_and_beat_restarting_each(tmp_path, dev, web):
    env = stack_environ(clean_environ(tmp_path) | {"PORT": "8123"}, dev=dev)
    options = ServerOptions()
    options.environ_expansions = {f"ENV_{name}": value for name, value in env.items()}
    options.configfile = supervisord_command(dev=dev)[-1]
    options.process_config(do_usage=False)
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    assert sorted(programs) == ["beat", "web", "worker"]
    assert web in programs["web"].command and "127.0.0.1:8123" in programs["web"].command
    assert "worker --pool threads --concurrency 4" in programs["worker"].command
    for program in programs.values():
        assert (
            program.autorestart is RestartUnconditionally
            and program.stopasgroup
            and program.killasgroup
        )
        assert program.stdout_logfile == "/dev/stdout" and program.redirect_stderr
        assert Path(program.directory).resolve() == PROJECT
    # Its files are under the var dir: stacks with their own var dir and port run side by side.
    assert options.pidfile == str(tmp_path / "supervisord.pid")
    assert options.configroot.supervisord.server_configs[0]["file"] == str(
        tmp_path / "supervisor.sock"
    )
    assert options.nodaemon


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_takes_the_next_run_while_the_web_stays_up(tmp_path):
    stack = stack_start(tmp_path / "var", demo=False)  # migrate only: no demo data needed
    try:
        wait_until_serving(stack, STARTUP_TIMEOUT_SECONDS)
        login = f"{stack.url}accounts/login/"
        assert status_of(f"{stack.url}no-such-page/") == 404
        killed = stack.program_pid("worker")
        assert killed, stack.log_tail()
        web = stack.program_pid("web")

        os.kill(killed, signal.SIGKILL)
        answers = []

        def new_worker() -> int:
            answers.append(status_of(login))  # the web keeps answering meanwhile
            pid = stack.program_pid("worker")
            return pid if pid not in (0, killed) else 0

        started = wait_for(new_worker, RESTART_TIMEOUT_SECONDS, "a new worker", stack)
        assert set(answers) == {200}
        assert stack.program_pid("web") == web  # not restarted with it

        # The new worker beats, and takes the next run.
        beating = "select 1 from lake_workerheartbeat where pid = ?"
        wait_for(lambda: stack.query(beating, started), RESTART_TIMEOUT_SECONDS, "a beat", stack)
        # The next run: ours, or the hourly one if beat queued it first (at minute 5).
        queue_a_run = (
            "from lake import services\n"
            "try:\n    print(services.pipeline_run_request().pk)\n"
            "except services.AlreadyRunning as error:\n    print(error.run.pk)"
        )
        run_id = int(stack.manage("shell", "-v", "0", "-c", queue_a_run))
        taken = "select pid from lake_pipelinerun where id = ? and started_at is not null"
        taken_by = wait_for(
            lambda: stack.query(taken, run_id), RESTART_TIMEOUT_SECONDS, "the run to start", stack
        )
        assert taken_by == [(started,)]
        assert status_of(login) == 200
    finally:
        left = stack_stop(stack)
    assert not left, f"processes left running: {left}"
    assert status_of(login) is None
