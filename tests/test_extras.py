"""The optional extras, exercised for real: plotting (extra ``plot``) and the Ray backend (extra
``ray``). CI installs both; without them these tests fail rather than skip."""

import json
import subprocess
import sys

from driftgym.scenarios.runner import run_scenarios
from driftgym.scenarios.scenario import Scenario

TINY = {"id": "tiny", "env": "driftgym/Services-v0", "horizon": 25, "schedule": [{"at": 5, "perturb": {"kind": "crash", "service": "db"}}], "seeds": [0, 1, 2], "agents": ["stale", "adaptive", "oracle"], "probe": {"every": 5, "facts": 4}}


def test_plot_writes_one_png_per_scenario(tmp_path):
    run_scenarios([Scenario.from_dict(TINY)], tmp_path)
    result = subprocess.run([sys.executable, "-m", "driftgym", "plot", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "tiny.png")
    png = (tmp_path / "tiny.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_plot_refuses_a_directory_that_is_not_a_run(tmp_path):
    result = subprocess.run([sys.executable, "-m", "driftgym", "plot", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip() == f"driftgym: {tmp_path} is not a run directory (no summary.json)"


def test_the_ray_backend_gives_the_local_backend_s_results(tmp_path):
    scenario = Scenario.from_dict(TINY)
    local = run_scenarios([scenario], tmp_path / "local")
    (tmp_path / "tiny.yaml").write_text(json.dumps(TINY))
    command = [sys.executable, "-m", "driftgym", "run", "--backend", "ray", "--out", str(tmp_path / "ray"), str(tmp_path / "tiny.yaml")]
    on_ray = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert on_ray.returncode == 0, on_ray.stderr[-2000:]
    assert json.loads((tmp_path / "ray" / "summary.json").read_text()) == local
    for trace in sorted((tmp_path / "local").rglob("*.jsonl")):
        assert trace.read_text() == (tmp_path / "ray" / trace.relative_to(tmp_path / "local")).read_text()
