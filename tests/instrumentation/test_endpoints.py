"""Provider, server address and price table from the client's base URL (Azure, compatible APIs)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from callscope.instrumentation import attributes as A

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def test_azure_openai(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = openai.AzureOpenAI(
        api_key=fakes.API_KEY,
        azure_endpoint="https://contoso.openai.azure.com",
        api_version="2024-10-21",
        http_client=openai.DefaultHttpxClient(transport=fake.transport()),
    )
    client.chat.completions.create(model="prod-mini", messages=MESSAGES)  # a deployment name
    assert fake.requests[0].url.path == "/openai/deployments/prod-mini/chat/completions"
    span = traced.span()
    attrs = traced.attrs()
    assert span.name == "chat prod-mini"
    assert attrs[A.PROVIDER] == "azure.ai.openai"
    assert attrs[A.SERVER_ADDRESS] == "contoso.openai.azure.com"
    assert attrs[A.SERVER_PORT] == 443
    assert attrs[A.REQUEST_MODEL] == "prod-mini"
    assert attrs[A.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    # priced by the model that answered, in genai-prices' Azure table
    assert attrs[A.COST_USD] == pytest.approx(0.0005232, rel=1e-12)
    assert attrs[A.PRICE_PROVIDER] == "azure"


async def test_async_azure(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = openai.AsyncAzureOpenAI(
        api_key=fakes.API_KEY,
        azure_endpoint="https://contoso.openai.azure.com",
        api_version="2024-10-21",
        http_client=openai.DefaultAsyncHttpxClient(transport=fake.transport()),
    )
    await client.embeddings.create(model="embed-deployment", input="x")
    attrs = traced.attrs()
    assert attrs[A.PROVIDER] == "azure.ai.openai"
    assert attrs[A.INPUT_TOKENS] == 8


@pytest.mark.parametrize(
    ("base_url", "provider", "address", "port"),
    [
        ("https://api.groq.com/openai/v1", "groq", "api.groq.com", 443),
        ("https://api.deepseek.com/v1", "deepseek", "api.deepseek.com", 443),
        ("https://api.mistral.ai/v1", "mistral_ai", "api.mistral.ai", 443),
        ("https://api.x.ai/v1", "x_ai", "api.x.ai", 443),
        ("https://api.perplexity.ai", "perplexity", "api.perplexity.ai", 443),
        ("http://127.0.0.1:8000/v1", "openai", "127.0.0.1", 8000),
        ("http://vllm.internal/v1", "openai", "vllm.internal", 80),
    ],
)
def test_compatible_base_urls(
    traced: Telemetry, fake: FakeOpenAI, *, base_url: str, provider: str, address: str, port: int
) -> None:
    fake.client(base_url=base_url).chat.completions.create(model="some-model", messages=MESSAGES)
    attrs = traced.attrs()
    assert attrs[A.PROVIDER] == provider
    assert attrs[A.SERVER_ADDRESS] == address
    assert attrs[A.SERVER_PORT] == port


def test_unknown_model_gets_no_cost(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.json_reply(fakes.chat_completion(model="llama-3-70b-local")))
    fake.client(base_url="http://127.0.0.1:8000/v1").chat.completions.create(
        model="llama3", messages=MESSAGES
    )
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 2000  # tokens are known...
    assert A.COST_USD not in attrs  # ...but never a made-up price (and never 0)
    assert A.PRICE_MODEL not in attrs


def test_local_server_with_an_openai_model_name_is_priced_as_openai(
    traced: Telemetry, fake: FakeOpenAI
) -> None:
    fake.client(base_url="http://127.0.0.1:8000/v1").chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert traced.attrs()[A.PRICE_PROVIDER] == "openai"


def test_changed_base_url_is_noticed(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.base_url = "https://api.groq.com/openai/v1"
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    first, second = (dict[str, Any](s.attributes or {}) for s in traced.spans())
    assert (first[A.PROVIDER], second[A.PROVIDER]) == ("openai", "groq")
