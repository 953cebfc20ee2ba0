"""``scripts/gpu_checks.sh`` runs once, on a GPU lent for a few minutes: every benchmark command
in it must be one its script accepts, so a mistyped flag or value cannot spend that time. Each
``$PY scripts/<name>.py ...`` of the script is read (continuation lines joined) and its
arguments go through that script's own parser and checks."""

import re
import shlex
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_checks.sh"


def commands() -> list[tuple[str, list[str]]]:
    """(script name, arguments) of every benchmark the shell script runs, ``$OUT`` filled in."""
    text = SCRIPT.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        m = re.search(r"\$PY scripts/(\w+)\.py(.*)$", line)
        if m and not line.lstrip().startswith("#"):
            args = shlex.split(m.group(2).replace('"$OUT', '"/tmp/out'))
            out.append((m.group(1), args))
    return out


def test_the_script_runs_the_three_benchmarks_on_cuda():
    found = commands()
    assert {name for name, _ in found} == {
        "benchmark_darts_vs_official",
        "benchmark_darts_search",
        "benchmark_throughput",
    }
    assert len(found) == 7
    for _, args in found:
        assert args[args.index("--device") + 1] == "cuda"


@pytest.mark.parametrize("name, args", commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_parses_and_passes_its_scripts_checks(script, name, args):
    bench = script(name)
    parsed = bench.build_parser().parse_args(args)
    if name == "benchmark_darts_vs_official":
        bench.check_args(bench.build_parser(), parsed)
    elif name == "benchmark_throughput":
        parsed.variants = parsed.variants.split(",")
        bench.check_args(parsed)


def test_a_mistyped_value_would_be_caught(script):
    official = script("benchmark_darts_vs_official")
    ap = official.build_parser()
    with pytest.raises(SystemExit):
        official.check_args(ap, ap.parse_args(["--options", "contiguous,channel_last"]))
    with pytest.raises(SystemExit):
        official.check_args(ap, ap.parse_args(["--modes", "plain,third"]))
    throughput = script("benchmark_throughput")
    args = throughput.build_parser().parse_args(["--nets", "darts,spos_macro"])
    args.variants = ["eager"]
    with pytest.raises(SystemExit, match="unknown network 'spos_macro'"):
        throughput.check_args(args)
    with pytest.raises(SystemExit):  # an unknown flag
        script("benchmark_darts_search").build_parser().parse_args(["--breakdwn"])
