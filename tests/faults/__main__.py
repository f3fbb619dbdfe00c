"""``python -m tests.faults [--seed N] [--faults N] [--profiles NAME ...]``: one fault run, written to
tests/faults/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from tests.faults.registries import BY_NAME, PROFILES
from tests.faults.run import results_markdown, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: a new random seed)")
    parser.add_argument("--faults", type=int, default=105, help="faults to inject (default: 105, 15 of each kind)")
    parser.add_argument(
        "--work", type=Path, default=None, help="where the mesh and the history go (default: a temp dir)"
    )
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    parser.add_argument(
        "--profiles",
        nargs="+",
        choices=sorted(BY_NAME),
        default=[profile.name for profile in PROFILES],
        help="the registries to drive (default: all of them)",
    )
    arguments = parser.parse_args()
    console = Console(soft_wrap=True)
    seed = arguments.seed if arguments.seed is not None else random.SystemRandom().randrange(2**31)
    work = arguments.work or Path(tempfile.mkdtemp(prefix=f"faults-{seed}-"))
    console.print(f"fault run: seed {seed}, {arguments.faults} faults, work in {work}", markup=False)
    # In PROFILES' order whatever the command line's: persons first, entities need them.
    profiles = tuple(profile for profile in PROFILES if profile.name in arguments.profiles)
    outcome = asyncio.run(run(seed, arguments.faults, work, profiles=profiles))
    chosen = "" if len(profiles) == len(PROFILES) else " --profiles " + " ".join(p.name for p in profiles)
    command = f"python -m tests.faults --seed {seed} --faults {arguments.faults}{chosen}"
    arguments.results.write_text(results_markdown(outcome, "make test-faults" if arguments.seed is None else command))
    console.print(results_markdown(outcome, command), markup=False)
    if outcome.report.anomalies:
        Console(stderr=True, soft_wrap=True).print(outcome.failure_text(limit=20), markup=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
