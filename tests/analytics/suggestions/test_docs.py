"""docs/suggestions.md describes every rule and every threshold, so it cannot drift from the code."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

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


def test_what_the_prefix_hash_normalizes_is_what_the_doc_says() -> None:
    """Tool order is part of the prefix hash; only key order inside JSON objects is normalized."""
    from callscope.instrumentation import attributes as A
    from callscope.instrumentation._request_shape import Hasher, record_prompt_shape

    search: dict[str, Any] = {
        "type": "function",
        "function": {"name": "search", "parameters": {"type": "object"}},
    }
    search_keys_swapped: dict[str, Any] = {
        "function": {"parameters": {"type": "object"}, "name": "search"},
        "type": "function",
    }
    fetch: dict[str, Any] = {
        "type": "function",
        "function": {"name": "fetch", "parameters": {"type": "object"}},
    }
    system = [{"role": "system", "content": "You answer questions."}]

    def prefix_hash(tools: list[dict[str, Any]]) -> object:
        attrs: dict[str, object] = {}
        body = {"messages": system, "tools": tools}
        record_prompt_shape(attrs, Hasher(b"k" * 16), body, system, lambda item: 1, tools=tools)
        return attrs[A.PREFIX_HASH]

    assert prefix_hash([search, fetch]) != prefix_hash([fetch, search])
    assert prefix_hash([search, fetch]) == prefix_hash([search_keys_swapped, fetch])
    words = " ".join(DOC.split())
    assert "the *order of the tools is part of the hash*" in words
    assert "tools are listed in a changing order" not in words
