"""docs/suggestions.md describes every rule and every threshold, so it cannot drift from the code."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from callscope.analytics.suggestions import DEFAULT_RULES, DEFAULT_SMALLER_MODELS, Thresholds

DOC = (Path(__file__).resolve().parents[3] / "docs" / "suggestions.md").read_text(encoding="utf-8")


def test_every_rule_has_a_section() -> None:
    for rule in DEFAULT_RULES:
        rule_id = importlib.import_module(rule.__module__).RULE
        assert f"— `{rule_id}`" in DOC, rule_id


def test_every_threshold_is_explained() -> None:
    for field in dataclasses.fields(Thresholds):
        assert f"`{field.name}`" in DOC, field.name


def test_the_model_mapping_is_documented() -> None:
    table = DOC[DOC.index("| large model | smaller sibling |") :].split("\n\n")[0].splitlines()[2:]
    documented = {}
    for line in table:
        large_cell, small_cell = (cell.strip() for cell in line.strip("|").split("|"))
        documented.update(dict.fromkeys(large_cell.split(", "), small_cell))
    assert documented == dict(DEFAULT_SMALLER_MODELS)
