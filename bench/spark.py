"""The Spark engine beside the local engine, full and incremental, in one run.

For each scale: a fresh generated database (SQLite) whose rows are made a day
old (``bench/lake.py``'s ``backdate``), then, each a ``manage.py lake run``
child process on the same lake:

- local full, then Spark full (``LAKE_ENGINE=spark``, ``SPARK_MASTER``
  ``local[2]`` unless set);
- 100 new rentals with payments, 20 returns, 5 customer updates
  (``bench/lake.py``'s ``changes``), then a Spark incremental run;
- the same again, then a local incremental run.

Seconds are the runs' own (claim to publish), with the Spark jobs' steps; the
load average (``/proc/loadavg``) is printed before and after each scale, as
other work on the machine weighs on both engines.

    python bench/spark.py                 # scales 1 and 10
    python bench/spark.py --scales 1      # a quick look
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAKE_BENCH = str(ROOT / "bench" / "lake.py")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(args: list[str], env: dict) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def lake_run(env: dict, engine: str, *, full: bool) -> tuple[float, dict[str, float]]:
    """(the run's seconds, {step: seconds, "<step> rows": rows} of its top steps)."""
    output = run(
        [sys.executable, "manage.py", "lake", "run", *(["--full"] if full else [])],
        {**env, "LAKE_ENGINE": engine},
    )
    seconds = float(re.search(r"succeeded in ([\d.]+) s", output)[1])
    steps = {}
    for line in output.splitlines():
        found = re.match(r"(\S+)\s+succeeded\s+([\d,]+)\s+\d+\s+([\d.]+)$", line)
        if found:
            steps[found[1]] = float(found[3])
            steps[f"{found[1]} rows"] = int(found[2].replace(",", ""))
    return seconds, steps


def bench(scale: str, env: dict) -> list[str]:
    run([sys.executable, "manage.py", "migrate", "-v0"], env)
    run([sys.executable, "manage.py", "generate_sakila", "--scale", scale], env)
    run([sys.executable, LAKE_BENCH, "--child", "backdate"], env)
    lines = [f"scale {scale}: load average before {load_average()}"]

    def line(case: str, seconds: float, steps: dict[str, float]) -> str:
        jobs = ", ".join(
            f"{name} {steps[name]:.1f} s" for name in ("extract", "marts") if name in steps
        )
        rows = steps.get("extract rows", 0)
        return f"  {case:<20}{seconds:>9.1f} s  {rows:>9,} rows read  {jobs}"

    lines.append(line("local full", *lake_run(env, "local", full=True)))
    lines.append(line("spark full", *lake_run(env, "spark", full=True)))
    run([sys.executable, LAKE_BENCH, "--child", "changes"], env)
    lines.append(line("spark incremental", *lake_run(env, "spark", full=False)))
    run([sys.executable, LAKE_BENCH, "--child", "changes"], env)
    lines.append(line("local incremental", *lake_run(env, "local", full=False)))
    lines.append(f"  load average after {load_average()}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for scale in args.scales.split(","):
        with tempfile.TemporaryDirectory() as var_dir:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LAKE_"))
            }
            env |= {"SAKILA_VAR_DIR": var_dir, "SPARK_RUN_DIR": f"{var_dir}/spark"}
            env.setdefault("SPARK_MASTER", "local[2]")
            env.setdefault("SPARK_SUBMIT_OPTIONS", "--conf spark.ui.enabled=false")
            for text in bench(scale, env):
                print(text, flush=True)


if __name__ == "__main__":
    main()
