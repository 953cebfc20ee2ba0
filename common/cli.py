"""``nasrepro``: Hydra overrides in, one run record out.

Before Hydra runs anything, the overrides are checked against the composed config so that
bad input fails in one line (``error: ...``, exit 2) and writes nothing: an unknown
experiment or config option (with the valid names), a malformed override, a key the
experiment does not have (with the keys it has), a value of the wrong type for its key, a
value no run can use (a negative count, a seed out of range, a required value left open:
``common.validation``), an output directory that cannot be written, or an override of
Hydra's own config (``hydra/launcher=...``, ``hydra.launcher.partition=...``) that does not
compose. A sweep's job that a launcher runs in another process (submitit) leaves its error
in its folder instead of exiting, and the sweep reports it (``runner.SweepSummary``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from common.errors import NasReproError, choices_error
from common.validation import check_values, check_writable

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


def _check_keys(experiment: str, base: DictConfig, overrides: list[str]) -> None:
    """A plain override ``a.b=v`` must name a key the experiment has (``+a.b=v`` adds one):
    the error names the deepest part that exists and the keys it holds."""
    from omegaconf import OmegaConf

    for arg in overrides:
        key, sep, _ = arg.partition("=")
        if not sep or key.startswith(("+", "~", "hydra.")) or "/" in key or "@" in key:
            continue
        if (CONF_DIR / key).is_dir():
            continue  # a config group choice: _check_groups
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(base, parent_key, default=None) if parent_key else base
        if OmegaConf.is_dict(parent) and leaf in parent.keys():  # present, even if left open (???)
            continue
        parts = key.split(".")
        depth = 0
        while depth < len(parts) - 1 and OmegaConf.is_config(
            OmegaConf.select(base, ".".join(parts[: depth + 1]), default=None)
        ):
            depth += 1
        parent = ".".join(parts[:depth])
        node = OmegaConf.select(base, parent) if parent else base
        keys = sorted(k for k in node.keys() if k != "hydra")
        where = f"'{parent}'" if parent else "the top level"
        raise NasReproError(
            f"experiment {experiment!r} has no key {key!r} (no {parts[depth]!r} at {where},"
            f" which holds: {', '.join(keys)})"
        )


def _output_dirs(argv: list[str], cfg: DictConfig) -> list[str]:
    """The directories a run will write: its run (or sweep) directory, and the results
    directory when it writes a canonical record. Interpolated tails are cut off."""
    multirun = any(a in ("-m", "--multirun") for a in argv)
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    # the last one counts: Lightning's ddp re-launches ranks > 0 with the user's overrides
    # plus hydra.run.dir="<the run's folder>" (quoted) after them
    given = [a.partition("=")[2].strip("\"'") for a in argv if a.partition("=")[0] == key][-1:]
    dirs = [d.split("$")[0] or "." for d in given] or ["multirun" if multirun else "outputs"]
    if cfg.get("record", {}).get("canonical"):
        dirs.append(str(cfg.record.results_dir))
    return dirs


def _check_dirs(argv: list[str], cfg: DictConfig) -> None:
    for directory in _output_dirs(argv, cfg):
        try:
            check_writable(directory)
        except NasReproError as e:
            if directory == str(cfg.get("record", {}).get("results_dir")):
                raise NasReproError(f"{e} (or record.results_dir=<dir>)") from e
            raise


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


def _hydra_error(e: Exception) -> NasReproError:
    """Hydra's multi-line message on a ``hydra/...`` or ``hydra.*`` override, in one line: what
    failed, why, and the valid options where Hydra lists them."""
    text = f"{e}\n{e.__cause__ or ''}"
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    lines = [
        ln for ln in lines if not ln.startswith(("full_key:", "object_type=", "Config search"))
    ]
    if "Available options" in text:
        at = next(i for i, ln in enumerate(lines) if ln.startswith("Available options"))
        options = [ln for ln in lines[at + 1 :] if " " not in ln and "=" not in ln]
        return NasReproError(f"{lines[0]}; valid: {', '.join(options)}")
    why = next((ln for ln in lines[1:] if ln.startswith(("Key ", "Value "))), None)
    return NasReproError(f"{lines[0].rstrip('.')}: {why}" if why else lines[0])


def _check_hydra(experiment: str, argv: list[str]) -> None:
    """Overrides of Hydra's own config (``hydra/launcher=submitit_slurm``,
    ``hydra.launcher.partition=gpu``) compose with the experiment, or fail in one line."""
    from hydra import compose, initialize_config_dir

    ours = [a for a in argv if a.lstrip("+~").startswith(("hydra/", "hydra."))]
    if not ours:
        return
    ours = _first_values_of(ours)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            compose(
                config_name="config",
                overrides=[f"experiment={experiment}", *ours],
                return_hydra_config=True,
            )
        except Exception as e:
            raise _hydra_error(e) from e


def _first_values_of(args: list[str]) -> list[str]:
    """``_first_values`` for Hydra's own overrides (which it leaves out)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    out = []
    for arg in args:
        try:
            override = parser.parse_override(arg)
        except Exception as e:
            raise NasReproError(f"malformed override {arg!r}: {str(e).splitlines()[0]}") from e
        if override.is_sweep_override():
            arg = f"{override.get_key_element()}={next(iter(override.sweep_string_iterator()))}"
        out.append(arg)
    return out


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
        base = _compose([f"experiment={exp}"])
        _check_keys(exp, base, others)
        cfg = _compose([f"experiment={exp}", *others])
        _check_types(base, cfg, others)
        check_values(cfg)
        check_canonical(cfg)
        if cfg.get("resume"):  # refused before Hydra creates or writes anything
            from common.resume import check_resume

            check_resume(cfg, Path(str(cfg.resume)))
        _check_dirs(argv, cfg)
        _check_hydra(exp, argv)
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
    from common.runner import JOB_ERROR_FILE, run_experiment

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        record = run_experiment(cfg, run_dir)
    except Exception as e:
        user_error = _user_error(e)
        if user_error is None:
            raise
        print(f"error: {user_error}", file=sys.stderr)
        if _launched_elsewhere():
            # an exit here would reach the sweep as a launcher traceback: the sweep's
            # SweepSummary reports the error (one line) and exits 2 once all jobs are done
            (run_dir / JOB_ERROR_FILE).write_text(f"{user_error}\n")
            return
        sys.exit(2)
    if record is not None:  # None: a data-parallel rank other than 0 (it writes nothing)
        print(format_run_rows(record))


def _launched_elsewhere() -> bool:
    """This job runs in a process a launcher started (submitit, locally or on SLURM), not in
    the ``nasrepro`` process itself."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    return hc.mode == RunMode.MULTIRUN and "BasicLauncher" not in str(hc.launcher._target_)


def _rank_logging(argv: list[str]) -> list[str]:
    """Overrides for a data-parallel rank other than 0, which runs this command line again
    (Lightning's ``ddp`` adds ``hydra.run.dir=<the run's folder> hydra.output_subdir=null``):
    its log goes to the console, warnings only, not into a file of the run's folder."""
    from common.training.distributed import global_rank

    if global_rank() == 0 or any(a.startswith("hydra/job_logging=") for a in argv):
        return []
    return ["hydra/job_logging=stdout", "hydra.job_logging.root.level=WARNING"]


def main() -> None:
    argv = sys.argv[1:]
    if not any(a.split("=")[0] in PASSTHROUGH_FLAGS for a in argv):
        try:
            validate_argv(argv)
        except NasReproError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
        sys.argv += _rank_logging(argv)
    _app()


if __name__ == "__main__":
    main()
