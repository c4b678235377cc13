"""`massgen config get/list/edit`, `massgen configs`, `config set` through YAML aliases, `x-*` anchor holders.

Each runs as a user runs it: the CLI as a subprocess with an isolated
MASSGEN_HOME, ``$EDITOR`` a small script, the re-edit question on a real
pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

ANCHORED = """\
# shared backend settings
x-backend: &backend
  type: scripted
  model: scripted-1
agents:
  - id: a
    backend: *backend
  - id: b
    backend: *backend
"""


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k not in ("VISUAL", "EDITOR")}
    env.update({"MASSGEN_HOME": str(home), "MASSGEN_LOAD_PLUGINS": "scripted,openai", **extra})
    if env["MASSGEN_LOAD_PLUGINS"] == "*":  # every installed plugin
        del env["MASSGEN_LOAD_PLUGINS"]
    return env


@pytest.fixture
def massgen(tmp_path):
    def run(*args, **extra):
        return subprocess.run(
            [sys.executable, "-m", "massgen_core", *args],
            capture_output=True, text=True, env=env_for(tmp_path / "home", **extra), cwd=tmp_path,
            stdin=subprocess.DEVNULL, timeout=60, check=False,
        )

    return run


@pytest.fixture
def anchored(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(ANCHORED, encoding="utf-8")
    return path


def editor(tmp_path: Path, body: str) -> str:
    """An $EDITOR: a shell script run with the file to edit as $1."""
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    script.chmod(0o755)
    return str(script)


# -- x-* anchor holders ----------------------------------------------------------------


def test_top_level_x_keys_hold_anchors_without_an_unknown_key_error(massgen, anchored):
    done = massgen("config", "validate", str(anchored))
    assert (done.returncode, done.stdout) == (0, f"{anchored}: ok\n")


def test_an_x_holder_is_not_interpolated_or_checked_only_its_aliases_are(massgen, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "x-unused: {url: '${NOT_SET_ANYWHERE}', nonsense: [1, 2]}\n"
        "y-other: 1\n"
        "agent: {backend: {type: scripted, model: s}}\n",
        encoding="utf-8",
    )
    done = massgen("config", "validate", str(path))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"{path}:2:1: y-other: unknown key 'y-other'"]


# -- config get ---------------------------------------------------------------------


def test_get_prints_a_scalar_of_the_effective_config(massgen, anchored):
    done = massgen("config", "get", str(anchored), "agents[1].backend.model")
    assert (done.returncode, done.stdout) == (0, "scripted-1\n")


def test_get_prints_a_mapping_as_yaml_with_keys_redacted(massgen, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("agent: {backend: {type: openai, model: gpt-4o, api_key: sk-live-abcdef1234567890}}\n")
    done = massgen("config", "get", str(path), "agent.backend")
    assert done.returncode == 0, done.stderr
    assert "type: openai\nmodel: gpt-4o\n" in done.stdout
    assert "sk-live-abcdef1234567890" not in done.stdout + done.stderr


def test_get_reads_an_x_anchor_holder_that_config_set_writes(massgen, anchored, tmp_path):
    done = massgen("config", "get", str(anchored), "x-backend.model")
    assert (done.returncode, done.stdout) == (0, "scripted-1\n"), done.stderr
    assert massgen("config", "set", str(anchored), "x-backend.model", "scripted-2").returncode == 0
    assert massgen("config", "get", str(anchored), "x-backend.model").stdout == "scripted-2\n"
    missing = massgen("config", "get", str(anchored), "x-backnd")
    assert missing.returncode == 1 and "x-backnd: not set (did you mean 'x-backend'?)" in missing.stderr
    secret = tmp_path / "k.yaml"
    secret.write_text("x-k: &k {type: openai, model: gpt-4o, api_key: sk-live-abcdef1234567890}\nagent: {backend: *k}\n")
    shown = massgen("config", "get", str(secret), "x-k")
    assert shown.returncode == 0 and "model: gpt-4o" in shown.stdout
    assert "sk-live-abcdef1234567890" not in shown.stdout + shown.stderr


def test_get_reads_the_default_config_when_no_file_is_given(massgen, tmp_path):
    (tmp_path / "home" / "config").mkdir(parents=True)
    (tmp_path / "home" / "config" / "config.yaml").write_text(ANCHORED)
    done = massgen("config", "get", "agents.0.id")
    assert (done.returncode, done.stdout) == (0, "a\n")


def test_get_of_a_key_that_is_not_there_says_so_with_a_suggestion(massgen, anchored):
    done = massgen("config", "get", str(anchored), "agents[0].backend.modle")
    assert done.returncode == 1
    assert "agents[0].backend.modle: not set (did you mean 'model'?)" in done.stderr


def test_get_without_a_default_config_names_where_it_looked(massgen, tmp_path):
    done = massgen("config", "get", "agents[0].id")
    assert done.returncode == 1
    assert str(tmp_path / "home" / "config" / "config.yaml") in done.stderr


# -- config list / configs ------------------------------------------------------------


@pytest.mark.parametrize("command", [("config", "list"), ("configs",)])
def test_the_bundled_examples_are_listed_with_what_each_is_for(massgen, command):
    done = massgen(*command)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split(None, 1) == ["offline-demo", "MassGen offline demo: three scripted agents, no API keys, no network."]
    assert lines[1].startswith("three_agents_default  Three agents from three providers")
    assert 'massgen --config NAME "question"' in done.stdout


def test_the_list_as_json_names_files_that_validate(massgen):
    rows = json.loads(massgen("configs", "--json").stdout)
    assert [r["name"] for r in rows] == ["offline-demo", "three_agents_default"]
    done = massgen("config", "validate", *[r["path"] for r in rows], MASSGEN_LOAD_PLUGINS="*")
    assert done.returncode == 0, done.stdout


# -- config set through an alias -------------------------------------------------------


def test_set_through_an_alias_is_refused_and_the_file_kept(massgen, anchored):
    done = massgen("config", "set", str(anchored), "agents[0].backend.model", "scripted-2")
    assert done.returncode == 1
    assert "agents[0].backend" in done.stderr and "alias of x-backend" in done.stderr
    assert "--break-alias" in done.stderr
    assert anchored.read_text() == ANCHORED


def test_break_alias_changes_only_the_agent_named(massgen, anchored):
    done = massgen("config", "set", "--break-alias", str(anchored), "agents[0].backend.model", "scripted-2")
    assert done.returncode == 0, done.stderr
    text = anchored.read_text()
    assert text.startswith("# shared backend settings\nx-backend: &backend\n  type: scripted\n  model: scripted-1\n")
    assert "backend: *backend" in text  # agent b still shares the anchor
    assert massgen("config", "get", str(anchored), "agents[0].backend.model").stdout == "scripted-2\n"
    assert massgen("config", "get", str(anchored), "agents[1].backend.model").stdout == "scripted-1\n"


def test_setting_the_anchor_itself_changes_every_alias_on_purpose(massgen, anchored):
    done = massgen("config", "set", str(anchored), "x-backend.model", "scripted-3")
    assert done.returncode == 0, done.stderr
    for i in (0, 1):
        assert massgen("config", "get", str(anchored), f"agents[{i}].backend.model").stdout == "scripted-3\n"


def test_set_beside_an_alias_is_not_refused(massgen, anchored):
    done = massgen("config", "set", str(anchored), "agents[1].id", "bee")
    assert done.returncode == 0, done.stderr
    assert "  - id: bee\n    backend: *backend\n" in anchored.read_text()


# -- config edit -----------------------------------------------------------------------


def test_edit_saves_a_valid_edit(massgen, anchored, tmp_path):
    done = massgen("config", "edit", str(anchored), EDITOR=editor(tmp_path, "sed -i 's/scripted-1/scripted-9/' \"$1\"\n"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{anchored}: saved\n"
    assert anchored.read_text() == ANCHORED.replace("scripted-1", "scripted-9")


def test_an_invalid_edit_keeps_the_file_and_the_edit_in_a_backup(massgen, anchored, tmp_path):
    done = massgen("config", "edit", str(anchored), EDITOR=editor(tmp_path, "echo 'temprature: 1' >> \"$1\"\n"))
    assert done.returncode == 1
    assert f"{anchored}:10:1: temprature: unknown key 'temprature'" in done.stderr
    assert anchored.read_text() == ANCHORED
    (backup,) = tmp_path.glob("team.yaml.rejected-*")
    assert backup.read_text() == ANCHORED + "temprature: 1\n"
    assert str(backup) in done.stderr
    assert oct(backup.stat().st_mode & 0o777) == "0o600"


def test_an_editor_that_fails_leaves_the_file_and_keeps_what_it_wrote(massgen, anchored, tmp_path):
    done = massgen("config", "edit", str(anchored), VISUAL=editor(tmp_path, "echo '# half' >> \"$1\"\nexit 3\n"))
    assert done.returncode == 1
    assert "the editor exited with status 3" in done.stderr
    assert anchored.read_text() == ANCHORED
    assert [p.read_text() for p in tmp_path.glob("team.yaml.rejected-*")] == [ANCHORED + "# half\n"]


def test_an_edit_that_changes_nothing_writes_nothing(massgen, anchored, tmp_path):
    before = anchored.stat().st_mtime_ns
    done = massgen("config", "edit", str(anchored), EDITOR=editor(tmp_path, "true\n"))
    assert (done.returncode, done.stdout) == (0, f"{anchored}: unchanged\n")
    assert anchored.stat().st_mtime_ns == before


def test_an_editor_that_cannot_start_is_a_clear_error(massgen, anchored):
    done = massgen("config", "edit", str(anchored), EDITOR="/nonexistent/editor")
    assert done.returncode == 1
    assert "cannot run the editor '/nonexistent/editor'" in done.stderr


def test_edit_without_a_default_config_points_at_setup(massgen):
    done = massgen("config", "edit")
    assert done.returncode == 1 and "massgen setup" in done.stderr


def test_on_a_terminal_an_invalid_edit_is_offered_again_until_it_is_right(anchored, tmp_path):
    # the first run of the editor breaks the file, the second fixes it and changes the model
    script = editor(
        tmp_path,
        'if [ -f "$0.once" ]; then sed -i "/^bogus/d; s/scripted-1/scripted-7/" "$1"; '
        'else touch "$0.once"; echo "bogus: 1" >> "$1"; fi\n',
    )
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "massgen_core", "config", "edit", str(anchored)],
        stdin=slave, stdout=slave, stderr=slave, env=env_for(tmp_path / "home", EDITOR=script),
        cwd=tmp_path, close_fds=True,
    )
    os.close(slave)
    os.write(master, b"y\n")
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:  # a guard against a hung child, not a timing assertion
            proc.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    assert proc.wait(60) == 0, screen.decode(errors="replace")
    text = screen.decode(errors="replace")
    assert "bogus: unknown key 'bogus'" in text and "Edit it again?" in text
    assert anchored.read_text() == ANCHORED.replace("scripted-1", "scripted-7")
    assert list(tmp_path.glob("team.yaml.rejected-*")) == []


# -- presets save validates ------------------------------------------------------------


def test_presets_save_refuses_a_config_a_run_would_refuse(massgen, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent:\n  backend: {type: openai}\n")
    done = massgen("presets", "save", "mine", "--config", str(bad))
    assert done.returncode == 1
    assert "not saved" in done.stderr
    assert f"{bad}:2:12: agent.backend: backend type 'openai' needs 'model'" in done.stderr
    assert "mine" not in massgen("presets", "list").stdout


def test_presets_save_keeps_a_valid_config_with_its_anchors(massgen, anchored):
    done = massgen("presets", "save", "team", "--config", str(anchored))
    assert done.returncode == 0, done.stderr
    assert massgen("presets", "show", "team").stdout.startswith("# shared backend settings\nx-backend: &backend")


def test_presets_save_does_not_need_the_variables_of_the_shell_it_runs_in(massgen, tmp_path):
    config = tmp_path / "env.yaml"
    config.write_text("agent:\n  backend: {type: openai, model: gpt-4o, api_key: '${KEY_SET_ONLY_AT_RUN_TIME}'}\n")
    done = massgen("presets", "save", "later", "--config", str(config))
    assert done.returncode == 0, done.stderr


# -- the small parts, in process -------------------------------------------------------


def test_alias_detection_ignores_paths_that_are_not_there_and_copies_lists_without_anchors():
    import io

    from ruamel.yaml import YAML

    from massgen_core.cli.yaml_aliases import shared_prefix, unshare

    yaml = YAML(typ="rt")
    data = yaml.load("x-list: &l [{a: 1}]\nuses: [*l, *l]\nscalar: 3\n")
    assert shared_prefix(data, ["scalar", "deeper", "key"]) is None  # a scalar has no children
    assert shared_prefix(data, ["missing", "key"]) is None
    assert shared_prefix(data, ["uses", 5, "a"]) is None
    assert shared_prefix(data, ["uses", 1, 0, "a"]) == (["uses", 1], ["x-list"])
    unshare(data, ["uses", 1])
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    assert (text.count("&l"), text.count("*l")) == (1, 1)  # the copy is written out, not re-anchored
    assert YAML(typ="safe").load(text) == {"x-list": [{"a": 1}], "uses": [[{"a": 1}], [{"a": 1}]], "scalar": 3}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("agents[5].id", "agents[5]: no such list item (the list has 2)"),
        ("agents[0].id.more", "agents[0].id.more: agents[0].id has no keys"),
        ("zzz", "zzz: not set; here: agents"),
    ],
)
def test_get_names_the_step_that_is_not_there(massgen, anchored, path, message):
    done = massgen("config", "get", str(anchored), path)
    assert done.returncode == 1
    assert message in done.stderr


def test_get_prints_booleans_as_yaml_does_and_takes_at_most_two_arguments(massgen, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("agent: {backend: {type: scripted}}\nui: {logging_enabled: false}\n")
    assert massgen("config", "get", str(path), "ui.logging_enabled").stdout == "false\n"
    done = massgen("config", "get", str(path), "ui", "extra")
    assert done.returncode == 1 and "give KEY.PATH, or FILE KEY.PATH" in done.stderr


def test_edit_of_a_draft_that_no_longer_parses_is_kept_too(massgen, anchored, tmp_path):
    done = massgen("config", "edit", str(anchored), EDITOR=editor(tmp_path, "echo 'agents: [' >> \"$1\"\n"))
    assert done.returncode == 1
    assert "invalid YAML" in done.stderr
    assert anchored.read_text() == ANCHORED
