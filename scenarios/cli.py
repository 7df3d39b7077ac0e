"""The ``driftgym`` command: ``list``, ``show``, ``run``, ``replay``, ``plot``, ``schema``, ``demo``.

Bad input gets one clear line on stderr and exit status 2, never a traceback; a replay that finds
a difference exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym

import driftgym
from driftgym import agents
from driftgym.perturbations import PerturbationError, kinds
from driftgym.scenarios.replay import ReplayError
from driftgym.scenarios.scenario import ScenarioError, library, load_scenario, parse_seeds, schema_json

DEFAULT_SUITE = (
    "calm-control",
    "cartpole-gravity-drift",
    "files-silent-moves",
    "files-lock-and-corrupt",
    "api-schema-drift",
    "api-rate-limit-storm",
    "services-cascading-failure",
    "services-memory-leak",
)
DEFAULT_SUITE_SEEDS = "0-9"


class UsageError(ValueError):
    """Bad command-line input: one line, exit status 2."""


def list_everything() -> str:
    lines = ["scenarios:"]
    for name in library():
        lines.append(f"  {name}: {load_scenario(name).description}")
    lines.append("env ids (agents):")
    lines += [f"  {env_id} ({', '.join(agents.names(env_id))})" for env_id in driftgym.ENV_IDS]
    lines.append("perturbation kinds, by world: kind(parameter: accepts, ...) - summary")
    for name, cls in sorted(kinds().items(), key=lambda item: (item[1].world, item[0])):
        params = ", ".join(f"{p}: {what}" for p, what in cls.parameters().items())
        lines.append(f"  {cls.world}: {name}({params}) - {cls.summary}")
    return "\n".join(lines)


def show(name: str, seed: int) -> str:
    scenario = load_scenario(name)
    env = gym.make(scenario.env, **scenario.env_arguments())
    env.reset(seed=seed)
    return f"{scenario.id} ({scenario.env}), seed {seed}: {scenario.description}\n{env.get_wrapper_attr('timeline')}"


def seeds_argument(text: str) -> list[int]:
    try:
        return parse_seeds(text if "-" in text else [int(p) for p in text.split(",")])
    except (ValueError, ScenarioError):
        raise argparse.ArgumentTypeError(f"bad seed range {text!r}: use 0-9 or 1,4,7 (non-negative, low <= high)") from None


def whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def progress_bar(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} episodes")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> str:
    from driftgym.scenarios.runner import run_scenarios, summary_table

    names = args.scenarios or list(DEFAULT_SUITE)
    seeds = args.seeds if args.seeds is not None else (None if args.scenarios else seeds_argument(DEFAULT_SUITE_SEEDS))
    scenarios = [load_scenario(n) for n in names]
    agent_names = args.agents.split(",") if args.agents else None
    for scenario in scenarios:
        for agent in agent_names or scenario.agents:
            if agent not in agents.names(scenario.env):
                raise UsageError(f"unknown agent {agent!r} for {scenario.env}; known: {', '.join(agents.names(scenario.env))}")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".driftgym-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"cannot write to the output directory {out}: {error.strerror or error}") from None
    summary = run_scenarios(
        scenarios, out, agent_names, seeds, workers=args.workers, backend=args.backend,
        resume=args.resume, address=args.address, progress=progress_bar,
    )
    return f"{summary_table(summary)}\n\ntraces and summary.json in {out}"


def replay(args: argparse.Namespace) -> tuple[str, int]:
    from driftgym.scenarios.replay import replay_trace  # noqa: PLC0415

    path = Path(args.trace)
    if not path.is_file():
        raise UsageError(f"no trace at {path}")
    result = replay_trace(path, args.until)
    if not result.ok:
        return f"{path}: MISMATCH {result.mismatch}", 1
    text = f"{path}: {result.steps} {result.unit} replayed, every digest matches"
    if args.show_world:
        import json

        text += "\n" + json.dumps(result.world, indent=2, sort_keys=True)
    return text, 0


def plot(args: argparse.Namespace) -> str:
    from driftgym.scenarios.plot import plot_run

    run_dir = Path(args.run_dir)
    if not (run_dir / "summary.json").is_file():
        raise UsageError(f"{run_dir} is not a run directory (no summary.json)")
    written = plot_run(run_dir)
    return "\n".join(str(p) for p in written)


# Commands whose options their own modules parse: (command, what) -> "module:function(argv) -> int".
DELEGATED = {
    ("serve", "api"): "driftgym.scenarios.api_server:main",
    ("serve", "openenv"): "driftgym.scenarios.openenv_server:main",
    ("sandbox", "files"): "driftgym.envs.files.sandbox:main",
}


def delegate(argv: Sequence[str]) -> int | None:
    """Run ``driftgym serve api ...`` and the like in the module that owns them (None: not one)."""
    if len(argv) < 2 or (argv[0], argv[1]) not in DELEGATED:
        if argv and argv[0] in {c for c, _ in DELEGATED} and (len(argv) < 2 or argv[1] not in ("-h", "--help")):
            known = ", ".join(f"{c} {w}" for c, w in DELEGATED if c == argv[0])
            print(f"driftgym: {argv[0]} takes one of: {known}", file=sys.stderr)
            return 2
        return None
    import importlib

    module, function = DELEGATED[(argv[0], argv[1])].split(":")
    try:
        entry = getattr(importlib.import_module(module), function)
    except ImportError as error:
        print(f"driftgym: {argv[0]} {argv[1]} is not available: {error}", file=sys.stderr)
        return 2
    return entry(list(argv[2:]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftgym", description="Gymnasium environments whose world changes under the agent.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="scenarios, env ids, agents and perturbation kinds")
    show_parser = commands.add_parser("show", help="a scenario's compiled timeline as a table")
    show_parser.add_argument("scenario")
    show_parser.add_argument("--seed", type=whole_number, default=0)
    run_parser = commands.add_parser("run", help="run scenarios (default: a small suite) and print a results table")
    run_parser.add_argument("scenarios", nargs="*", help="bundled scenario ids or paths to YAML files")
    run_parser.add_argument("--agents", help="comma-separated agent names (default: each scenario's)")
    run_parser.add_argument("--seeds", type=seeds_argument, help="0-9 or 1,4,7 (default: each scenario's)")
    run_parser.add_argument("--workers", type=int, default=1)
    run_parser.add_argument("--backend", choices=["local", "ray"], default="local")
    run_parser.add_argument("--address", help="a Ray cluster to join (default: start a local one)")
    run_parser.add_argument("--out", default="runs")
    run_parser.add_argument("--resume", action="store_true", help="run only the episodes whose traces are missing")
    replay_parser = commands.add_parser("replay", help="re-execute a trace and verify every step's digests")
    replay_parser.add_argument("trace")
    replay_parser.add_argument("--until", type=whole_number)
    replay_parser.add_argument("--show-world", action="store_true")
    plot_parser = commands.add_parser("plot", help="reward and world-model accuracy per scenario, as PNG (extra 'plot')")
    plot_parser.add_argument("run_dir")
    commands.add_parser("schema", help="the JSON Schema of scenario files")
    demo_parser = commands.add_parser("demo", help="a drifting CartPole with the baseline agents, no files written")
    demo_parser.add_argument("--seeds", type=seeds_argument, default=seeds_argument("0-9"))
    return parser


def demo(seeds: Sequence[int]) -> str:
    from driftgym.scenarios.runner import Cell, run_cell
    from driftgym.scenarios.scenario import Scenario

    lines = ["driftgym/CartPole-v1: mean return over seeds (the same seeds in every cell)"]
    lines.append(f"{'agent':<10}{'no drift':>12}{'default drift':>16}")
    calm = Scenario.from_dict({"id": "demo-calm", "env": "driftgym/CartPole-v1", "schedule": []})
    default = Scenario.from_dict({"id": "demo-drift", "env": "driftgym/CartPole-v1",
                                  "schedule": driftgym.envs.classic.CARTPOLE_SCHEDULE})
    for agent in ("random", "stale", "adaptive", "oracle"):
        means = [
            sum(run_cell(Cell(s, agent, seed))[-1]["closing"]["return"] for seed in seeds) / len(seeds)
            for s in (calm, default)
        ]
        lines.append(f"{agent:<10}{means[0]:>12.1f}{means[1]:>16.1f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    delegated = delegate(argv)
    if delegated is not None:
        return delegated
    args = build_parser().parse_args(argv)
    if args.command == "run" and args.workers < 1:
        print("driftgym: --workers must be >= 1", file=sys.stderr)
        return 2
    try:
        status = 0
        if args.command == "list":
            text = list_everything()
        elif args.command == "show":
            text = show(args.scenario, args.seed)
        elif args.command == "run":
            text = run(args)
        elif args.command == "replay":
            text, status = replay(args)
        elif args.command == "plot":
            text = plot(args)
        elif args.command == "schema":
            text = schema_json()
        else:
            text = demo(args.seeds)
        print(text)
        return status
    except KeyboardInterrupt:
        print("driftgym: interrupted; finished traces are kept, --resume completes the rest", file=sys.stderr)
        return 130
    except (UsageError, ScenarioError, ReplayError, PerturbationError, RuntimeError, gym.error.Error) as error:
        print(f"driftgym: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError) as error:  # e.g. env_kwargs an env refuses, a damaged trace
        print(f"driftgym: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

