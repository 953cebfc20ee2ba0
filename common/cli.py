"""``nasrepro``: Hydra overrides in, one run record out.

Before Hydra runs anything, the overrides are checked against the composed config so that
bad input fails in one line (``error: ...``, exit 2) and writes nothing: an unknown
experiment or config option (with the valid names), a malformed override, an unknown key,
or a value of the wrong type for its key.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from common.errors import NasReproError, choices_error

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
PASSTHROUGH_FLAGS = (
    "-h",
    "--help",
    "--hydra-help",
    "--info",
    "-i",
    "--cfg",
    "-c",
    "--shell-completion",
)


def config_options(group: str) -> list[str]:
    """Selectable options of a config group (files starting with '_' are building blocks)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


def _first_values(argv: list[str]) -> list[str]:
    """The overrides of the first job of a sweep (a=1,2 -> a=1), for validating a multirun."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    out = []
    for arg in argv:
        if arg.startswith("-") or arg.startswith("hydra.") or arg.startswith("hydra/"):
            continue
        try:
            override = parser.parse_override(arg)
        except Exception as e:  # hydra raises OverrideParseException with a multi-line message
            raise NasReproError(f"malformed override {arg!r}: {str(e).splitlines()[0]}") from e
        if override.is_sweep_override():
            first = next(iter(override.sweep_string_iterator()))
            arg = f"{override.get_key_element()}={first}"
        out.append(arg)
    return out


def _check_groups(overrides: list[str]) -> None:
    """A config-group choice (data=..., benchmark=...) must name a file of that group."""
    for arg in overrides:
        key, _, value = arg.lstrip("+~").partition("=")
        group = key.split("@")[0]
        if (CONF_DIR / group).is_dir() and value not in ("null", "") and "," not in value:
            if value not in config_options(group):
                raise choices_error(group, value, config_options(group))


def _compose(overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            return compose(config_name="config", overrides=overrides)
        except Exception as e:  # hydra's messages run over several lines: keep the first
            raise NasReproError(str(e).strip().splitlines()[0]) from e


def _check_types(base: DictConfig, cfg: DictConfig, overrides: list[str]) -> None:
    from omegaconf import OmegaConf

    for arg in overrides:
        key, sep, _ = arg.partition("=")
        if not sep or key.startswith(("+", "~")) or "/" in key:
            continue
        old = OmegaConf.select(base, key, default=None, throw_on_missing=False)
        if old is None or OmegaConf.is_config(old) or isinstance(old, str):
            continue  # new keys, groups and strings accept any value
        new = OmegaConf.select(cfg, key, default=None, throw_on_missing=False)
        expected = type(old)
        ok = isinstance(new, expected) and not (expected is int and isinstance(new, bool))
        if expected is float and isinstance(new, int) and not isinstance(new, bool):
            ok = True
        if not ok:
            raise NasReproError(
                f"override {arg!r}: {key} takes {'an' if expected is int else 'a'} {expected.__name__}"
                f" (default {old!r}),"
                f" got {type(new).__name__} {new!r}"
            )


def _experiments(argv: list[str]) -> list[str]:
    """Every experiment the command line names (all of them in a sweep ``experiment=a,b``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for arg in argv:
        if arg.partition("=")[0] in ("experiment", "+experiment"):
            override = parser.parse_override(arg)  # well formed: _first_values parsed it
            if override.is_sweep_override():
                return list(override.sweep_string_iterator())
            return [arg.partition("=")[2]]
    return []


def validate_argv(argv: list[str]) -> None:
    overrides = _first_values(argv)
    experiments = _experiments(argv)
    if not experiments:
        raise NasReproError(
            f"no experiment given: nasrepro experiment=<name>; valid: {', '.join(config_options('experiment'))}"
        )
    for exp in experiments:
        if exp not in config_options("experiment"):
            raise choices_error("experiment", exp, config_options("experiment"))
    _check_groups(overrides)
    from common.runner import check_canonical

    others = [a for a in overrides if a.partition("=")[0] not in ("experiment", "+experiment")]
    for exp in experiments:  # each job of a sweep over experiments
        cfg = _compose([f"experiment={exp}", *others])
        _check_types(_compose([f"experiment={exp}"]), cfg, others)
        check_canonical(cfg)
    if len(experiments) > 1:
        # Hydra composes the sweep itself without any experiment before it runs the jobs
        try:
            _compose(others)
        except NasReproError as e:
            raise NasReproError(
                f"{e} In a sweep over experiments, set keys that only the experiments define"
                " with ++ (e.g. ++protocol.num_runs=50)"
            ) from e


def _user_error(exc: BaseException) -> NasReproError | None:
    """The NasReproError behind ``exc`` (hydra's instantiate wraps what it raises), if any."""
    while exc is not None:
        if isinstance(exc, NasReproError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from common.results.leaderboard import format_run_rows
    from common.runner import run_experiment

    try:
        record = run_experiment(cfg, Path(HydraConfig.get().runtime.output_dir))
    except Exception as e:
        user_error = _user_error(e)
        if user_error is None:
            raise
        print(f"error: {user_error}", file=sys.stderr)
        sys.exit(2)
    print(format_run_rows(record))


def main() -> None:
    argv = sys.argv[1:]
    if not any(a.split("=")[0] in PASSTHROUGH_FLAGS for a in argv):
        try:
            validate_argv(argv)
        except NasReproError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
    _app()


if __name__ == "__main__":
    main()
