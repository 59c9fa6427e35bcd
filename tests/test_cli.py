"""The command line: lists in --help that match the registries, run-folder commands through the API, overrides, one
line for file-system faults."""

import ast
import errno
from pathlib import Path

import pytest

from stackfold import __version__
from stackfold.cli import external_commands, options, run_commands, shift_commands
from stackfold.cli.render import os_error_line
from stackfold.competition.challenges import BUILT_IN
from stackfold.config.presets import PRESETS
from stackfold.ensembles import STACKERS
from stackfold.ensembles.search_space import SPACES
from stackfold.models import BASE_MODELS
from stackfold.synthetic import LAYOUTS


def test_the_choices_listed_in_help_are_the_registered_ones():
    assert options.CHALLENGES == BUILT_IN
    assert options.TUNABLE == tuple(SPACES)
    assert options.MODELS.split(", ") == list(BASE_MODELS)
    assert options.STACKERS.split(", ") == list(STACKERS)
    assert options.LAYOUTS == tuple(LAYOUTS)
    assert options.PRESETS.split(", ") == list(PRESETS)


def test_the_commands_on_run_folders_go_through_the_api():
    """What the API offers (training, reading, predicting, tuning, explaining, reporting, comparing) the commands
    take from it; beside it they import only the command line's own parts, the console and what no API call gives."""
    beside_the_api = {"stackfold.cli.app", "stackfold.cli.options", "stackfold.cli.render", "stackfold.progress",
                      "stackfold.io", "stackfold.competition.folds", "stackfold.competition.metric"}
    for module in (run_commands, external_commands, shift_commands):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported = {name for name in imported if name.split(".")[0] == "stackfold"}
        assert imported - beside_the_api == {"stackfold.api"}, module.__name__


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"stackfold {__version__}"


@pytest.mark.parametrize(("args", "match"), [
    (("--models", "prior,nope"), "unknown model 'nope'; choose from: prior"),
    (("--stackers", "blend"), "unknown stacker 'blend'"),
    (("--models", "color_forest", "--no-images"), "'color_forest' needs images, but images = false"),
])
def test_run_overrides_are_checked_before_any_work(args, match, rakuten_sample, tmp_path, run_cli):
    code, _, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run", *args)
    assert code == 1 and match in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("error", "expected"), [
    (PermissionError(errno.EACCES, "Permission denied", "/runs/r1/.lock"),
     "Permission denied: /runs/r1/.lock; check its permissions"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/run"), "Read-only file system: /mnt/ro/run; the file"),
    (OSError(errno.ENOSPC, "No space left on device", "/runs/r1/x.tmp"), "free some disk space"),
    (FileExistsError(errno.EEXIST, "File exists", "/runs/r1"), "a file stands where a folder is needed"),
    (OSError(errno.EIO, "Input/output error", "/runs[v2]/a"), r"Input/output error: /runs\[v2]/a; check the path"),
])
def test_a_file_system_fault_is_one_line_with_what_to_do(error, expected):
    line = os_error_line(error)
    assert expected in line and "\n" not in line
