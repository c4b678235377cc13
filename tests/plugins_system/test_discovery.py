"""Finding entry points the way ``importlib.metadata`` does, without importing it."""

from __future__ import annotations

import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from massgen_core import discovery


def dist(root: Path, folder: str, entry_points: str | None, meta: str | None = None) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    if entry_points is not None:
        (path / "entry_points.txt").write_text(entry_points)
    if meta is not None:
        name = "PKG-INFO" if folder.lower().endswith("egg-info") else "METADATA"
        (path / name).write_text(meta)
    return path


def test_reads_dist_info_and_egg_info_directories_with_name_and_version(tmp_path: Path):
    dist(
        tmp_path, "Alpha_Plugin-1.0.dist-info",
        "# a comment\n; another\n\n[console_scripts]\nalpha = alpha:main\n"
        "[massgen]\nalpha = alpha_mod\nalpha-extra = alpha_mod:Thing.inner [speed]\nbroken line\n",
        "Metadata-Version: 2.1\nName: Alpha-Plugin\nVersion: 1.0\nSummary: x\n\nName: not-this\n",
    )
    dist(tmp_path, "beta-2.0.egg-info", "[massgen]\nbeta=beta_mod\n", "Name: beta\nVersion: 2.0\n")
    dist(tmp_path, "gamma-3.0.dist-info", None, "Name: gamma\nVersion: 3.0\n")  # no entry points
    dist(tmp_path, "delta-4.0.dist-info", "[other]\nd = d\n", "Name: delta\nVersion: 4.0\n")
    (tmp_path / "not_a_dist").mkdir()
    found = sorted(
        (e.name, e.value, e.dist_name, e.version)
        for e in discovery.entry_points("massgen", [str(tmp_path)])
    )
    assert found == [
        ("alpha", "alpha_mod", "Alpha-Plugin", "1.0"),
        ("alpha-extra", "alpha_mod:Thing.inner [speed]", "Alpha-Plugin", "1.0"),
        ("beta", "beta_mod", "beta", "2.0"),
    ]


def test_an_unzipped_egg_directory_is_read_like_importlib_metadata_reads_it(tmp_path: Path):
    egg = tmp_path / "Old_Plugin-0.9-py3.11.egg"
    dist(egg, "EGG-INFO", "[massgen]\nold = old_mod\n", "Name: Old-Plugin\nVersion: 0.9\n")
    (egg / "old_mod.py").write_text("")
    ours = [(e.name, e.value, e.dist_name, e.version) for e in discovery.entry_points("massgen", [str(egg)])]
    assert ours == [("old", "old_mod", "Old-Plugin", "0.9")]
    (egg_dist,) = metadata.distributions(path=[str(egg)])
    theirs = [
        (e.name, e.value, egg_dist.metadata["Name"], egg_dist.version)
        for e in egg_dist.entry_points
        if e.group == "massgen"
    ]
    assert ours == theirs


def test_the_first_distribution_of_a_name_on_the_path_wins(tmp_path: Path):
    first, second = tmp_path / "first", tmp_path / "second"
    dist(first, "my_plugin-2.0.dist-info", "[massgen]\nmine = new_mod\n", "Name: my-plugin\nVersion: 2.0\n")
    dist(second, "My.Plugin-1.0.dist-info", "[massgen]\nmine = old_mod\n", "Name: My.Plugin\nVersion: 1.0\n")
    found = discovery.entry_points("massgen", [str(first), str(tmp_path / "missing"), str(second)])
    assert [(e.value, e.version) for e in found] == [("new_mod", "2.0")]


def test_missing_metadata_leaves_name_and_version_empty(tmp_path: Path):
    dist(tmp_path, "nometa-1.0.dist-info", "[massgen]\nnm = nm_mod\n")
    (entry,) = discovery.entry_points("massgen", [str(tmp_path)])
    assert (entry.dist_name, entry.version) == (None, None)
    assert "nm_mod" in repr(entry)


def test_load_imports_the_module_and_follows_the_attribute_path():
    entry = discovery.EntryPoint("x", "os.path:join.__name__ [extra]", "massgen", None, None)
    assert entry.load() == "join"
    assert discovery.EntryPoint("y", "json", "massgen", None, None).load() is sys.modules["json"]


def test_agrees_with_importlib_metadata_on_this_environment():
    for group in ("massgen", "console_scripts", "pytest11"):
        ours = sorted((e.name, e.value) for e in discovery.entry_points(group))
        theirs = sorted((e.name, e.value) for e in metadata.entry_points(group=group))
        assert ours == theirs, group
    ours = {e.name: (e.dist_name, e.version) for e in discovery.entry_points("massgen")}
    theirs = {
        e.name: (e.dist.metadata["Name"], e.dist.version) for e in metadata.entry_points(group="massgen")
    }
    assert ours == theirs and "claude" in ours


def test_an_archive_on_sys_path_hands_the_search_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped_plugin-0.5.dist-info/METADATA", "Name: zipped-plugin\nVersion: 0.5\n")
        zf.writestr("zipped_plugin-0.5.dist-info/entry_points.txt", "[massgen]\nzipped = zipped_mod\n")
    monkeypatch.syspath_prepend(str(archive))
    metadata.FastPath.__new__.cache_clear()  # importlib caches path listings
    found = {e.name: e for e in discovery.entry_points("massgen")}
    assert found["zipped"].value == "zipped_mod"
    assert (found["zipped"].dist_name, found["zipped"].version) == ("zipped-plugin", "0.5")
    assert "claude" in found  # the directories on the path still count
    # an explicit path list skips what it cannot list and goes on
    later = tmp_path / "later"
    dist(later, "later-1.0.dist-info", "[massgen]\nlater = later_mod\n", "Name: later\nVersion: 1.0\n")
    assert [e.name for e in discovery.entry_points("massgen", [str(archive), str(later)])] == ["later"]


def test_parse_entry_points_and_read_header_helpers(tmp_path: Path):
    assert discovery.parse_entry_points("[a]\nx = 1\n[b]\ny = 2\n", "b") == [("y", "2")]
    assert discovery.parse_entry_points("", "b") == []
    assert discovery.read_header(str(tmp_path / "absent")) == {}
    assert discovery.normalize("My.Odd--Name_x") == "my_odd_name_x"
