"""The on-ramp: ``lambdasim init`` writes a runnable scenario for every trigger type, the
shipped examples are exactly its output, and every subcommand's --help shows examples."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import lambdasim
from lambdasim.cli.init import TRIGGERS, scenario_text
from lambdasim.cli.main import COMMAND_MODULES, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_init_writes_a_scenario_that_validates_and_runs(trigger, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "mine", "--trigger", trigger]) == 0
    path = tmp_path / "mine.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert f"- type: {trigger}" in text and "recurs: continuous" in text
    assert main(["validate", "mine.yaml"]) == 0
    # A shorter run of the same file (the whole 10 minutes takes a few seconds): its
    # expect: block passes, so a first run exits 0.
    code = main(["mine.yaml", "--set", "duration=3m", "--no-plots", "--quiet"])
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "results" / "mine" / "summary.json").is_file()
    # The shipped example of this trigger type is init's output, word for word.
    example = ROOT / "scenarios" / "examples" / f"{trigger}.yaml"
    assert example.read_text() == scenario_text(f"example-{trigger}", trigger)


def test_init_never_overwrites_and_rejects_bad_names(tmp_path, run_cli):
    mine = tmp_path / "mine.yaml"
    mine.write_text("my own notes\n")
    proc = run_cli("init", "mine")
    assert proc.returncode == 2 and "exists; not overwriting" in proc.stderr
    assert mine.read_text() == "my own notes\n"
    proc = run_cli("init", "no/slash")
    assert proc.returncode == 2 and "NAME" in proc.stderr
    proc = run_cli("init", "shown", "--trigger", "kinesis", "--out", "-")
    assert proc.returncode == 0 and "type: kinesis" in proc.stdout
    assert lambdasim.load_scenario(yaml.safe_load(proc.stdout)).name == "shown"
    assert not (tmp_path / "shown.yaml").exists()


@pytest.mark.parametrize("command", sorted(COMMAND_MODULES))
def test_every_subcommand_help_shows_examples(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "python -m lambdasim" in out.split("examples:", 1)[1]
