"""`gett catalog validate|stats|tree` via gettcommerce._catalog_cli."""
from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys

import pytest

from gettcommerce import _catalog_cli
from gettcommerce._samples import sample_catalogset

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.json"
    good.write_bytes(sample_catalogset().to_json())
    doc = json.loads(good.read_bytes())
    doc["sections"]["burgers"]["itemIds"].append("ghost")
    doc["items"]["latte"]["basePrice"] = -3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"catalogs": {')
    return {"good": str(good), "bad": str(bad), "broken": str(broken),
            "missing": str(tmp_path / "nope.json")}


def test_validate_valid_file_exits_0(files, capsys):
    assert _catalog_cli.main(["validate", files["good"]]) == 0
    assert "valid (0 errors, 0 warnings)" in capsys.readouterr().out


def test_validate_lists_every_issue_with_its_path(files, capsys):
    assert _catalog_cli.main(["validate", files["good"], files["bad"]]) == 1
    out = capsys.readouterr().out
    assert "bad.json: INVALID (2 errors, 0 warnings)" in out
    assert "dangling_reference" in out and "/sections/burgers/itemIds/3" in out
    assert "invalid_price" in out and "/items/latte/basePrice" in out


def test_validate_json_output(files, capsys):
    assert _catalog_cli.main(["validate", "--json", files["good"], files["broken"]]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    good, broken = report["files"]
    assert good["valid"] and good["issues"] == []
    assert broken["issues"][0]["code"] == "invalid_json"
    assert "byte offset 13" in broken["issues"][0]["message"] or \
        "byte offset 14" in broken["issues"][0]["message"]


def test_unreadable_file_exits_2(files, capsys):
    assert _catalog_cli.main(["validate", files["good"], files["missing"]]) == 2
    assert "cannot read" in capsys.readouterr().out


def test_warnings_as_errors(tmp_path, capsys):
    cs = sample_catalogset()
    cs.add_item("orphan", name="Orphan", base_price=1)
    path = tmp_path / "warn.json"
    path.write_bytes(cs.to_json())
    assert _catalog_cli.main(["validate", str(path)]) == 0
    assert _catalog_cli.main(["validate", "--warnings-as-errors", str(path)]) == 1
    assert "unreachable" in capsys.readouterr().out


def test_stats(files, capsys):
    assert _catalog_cli.main(["stats", "--json", files["good"]]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["items"] == 31 and stats["catalogs"] == 2 and stats["errors"] == 0
    assert _catalog_cli.main(["stats", files["bad"]]) == 0
    out = capsys.readouterr().out
    assert "sections" in out and "2 errors" in out
    assert _catalog_cli.main(["stats", files["broken"]]) == 1


def test_tree(files, capsys):
    assert _catalog_cli.main(["tree", files["good"]]) == 0
    assert "Classic Burger" in capsys.readouterr().out
    assert _catalog_cli.main(["tree", files["missing"]]) == 2


def test_register_into_a_host_parser(files):
    parser = argparse.ArgumentParser(prog="gett")
    sub = parser.add_subparsers(dest="command")
    _catalog_cli.register(sub)
    args = parser.parse_args(["catalog", "validate", files["good"]])
    assert args.func(args) == 0
    with pytest.raises(SystemExit):
        parser.parse_args(["catalog"])     # a catalog sub-command is required


def test_runs_as_a_module(files):
    proc = subprocess.run([sys.executable, "-m", "gettcommerce._catalog_cli", "validate",
                           files["bad"]], capture_output=True, text=True, cwd=ROOT / "tests", timeout=60)
    assert proc.returncode == 1 and "/items/latte/basePrice" in proc.stdout
