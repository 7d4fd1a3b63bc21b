"""Error answers: the API's JSON bodies and status codes, raised by the SDK as the API's would be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from callscope.demo import Simulator

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def test_missing_api_key_is_a_401_with_the_apis_body(simulator: Simulator) -> None:
    response = httpx2.post(
        f"{simulator.base_url}/chat/completions", json={"model": "gpt-4o", "messages": HELLO}
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert "API key" in error["message"]
    assert response.headers["x-request-id"].startswith("req_")


def test_unknown_key_is_rejected_when_keys_are_configured(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(api_keys=frozenset({"sk-good"}))
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-wrong-key", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            client.chat.completions.create(model="gpt-4o", messages=HELLO)
        assert caught.value.code == "invalid_api_key"
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-good", max_retries=0) as client:
        assert client.chat.completions.create(model="gpt-4o", messages=HELLO).choices


def test_unknown_model_is_a_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9", messages=HELLO)
    err = caught.value
    assert (err.status_code, err.code, err.type) == (404, "model_not_found", "invalid_request_error")
    assert err.message.endswith("The model `gpt-9` does not exist or you do not have access to it.")
    assert err.request_id
    assert err.request_id.startswith("req_")
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="non-existent-embedding-model", input="x")


def test_unknown_url_and_wrong_kind_of_model(client: openai.OpenAI, simulator: Simulator) -> None:
    response = httpx2.post(f"{simulator.base_url}/nope", headers={"Authorization": "Bearer sk"}, json={})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/nope)"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="text-embedding-3-small", messages=HELLO)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="gpt-4o", input="x")


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"messages": []}, "messages", "empty_array"),
        ({"messages": HELLO, "n": 0}, "n", "integer_below_min_value"),
        ({"messages": HELLO, "max_tokens": 100_000}, "max_tokens", "invalid_value"),
        ({"messages": HELLO, "temperature": 3}, "temperature", "decimal_above_max_value"),
        ({"messages": HELLO, "stream_options": {"include_usage": True}}, "stream_options", None),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "invalid_value"),
        ({"messages": HELLO, "tool_choice": "always"}, "tool_choice", "invalid_value"),
        (
            {"messages": [{"role": "user", "content": "word " * 130_000}]},
            "messages",
            "context_length_exceeded",
        ),
    ],
)
def test_invalid_requests_are_400s(
    client: openai.OpenAI, params: dict[str, Any], param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", **params)
    assert (caught.value.param, caught.value.code) == (param, code)


def test_malformed_json_is_a_400(simulator: Simulator) -> None:
    response = httpx2.post(
        f"{simulator.base_url}/chat/completions",
        content=b"{not json",
        headers={"Authorization": "Bearer sk", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]


def test_models_endpoint(client: openai.OpenAI) -> None:
    names = {model.id for model in client.models.list()}
    assert {"gpt-4o", "gpt-4o-mini", "o3", "text-embedding-3-small"} <= names
    assert client.models.retrieve("gpt-4o-mini-2024-07-18").id == "gpt-4o-mini-2024-07-18"
