"""Embeddings through the real openai SDK."""

from __future__ import annotations

import math

import openai
import pytest

from callscope.demo.tokens import get_tokenizer

O200K = get_tokenizer()
DOCS = ["How do I reset my password?", "Resetting a password: open settings.", "Quarterly revenue grew."]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


def test_batch_in_float_and_base64_agree(client: openai.OpenAI) -> None:
    as_float = client.embeddings.create(model="text-embedding-3-small", input=DOCS, encoding_format="float")
    as_base64 = client.embeddings.create(
        model="text-embedding-3-small", input=DOCS
    )  # the SDK asks for base64
    assert [d.index for d in as_float.data] == [0, 1, 2]
    assert all(len(d.embedding) == 1536 for d in as_float.data)
    for a, b in zip(as_float.data, as_base64.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)  # float32 on the wire
    assert as_float.usage.prompt_tokens == as_float.usage.total_tokens == sum(O200K.count(d) for d in DOCS)
    assert as_float.model == "text-embedding-3-small"


def test_vectors_are_unit_length_and_related_texts_are_closer(client: openai.OpenAI) -> None:
    vectors = [d.embedding for d in client.embeddings.create(model="text-embedding-3-large", input=DOCS).data]
    assert all(abs(math.sqrt(sum(v * v for v in vec)) - 1) < 1e-6 for vec in vectors)
    assert len(vectors[0]) == 3072
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])


def test_dimensions_and_single_inputs(client: openai.OpenAI) -> None:
    short = client.embeddings.create(model="text-embedding-3-small", input=DOCS[0], dimensions=256)
    assert len(short.data) == 1
    assert len(short.data[0].embedding) == 256
    again = client.embeddings.create(model="text-embedding-3-small", input=DOCS[0], dimensions=256)
    assert again.data[0].embedding == short.data[0].embedding
    tokens = client.embeddings.create(model="text-embedding-3-small", input=[[1, 2, 3], [4, 5]])
    assert tokens.usage.prompt_tokens == 5
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=256)
    assert caught.value.param == "dimensions"
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="text-embedding-3-small", input="x", dimensions=5000)


async def test_async_embeddings(async_client: openai.AsyncOpenAI) -> None:
    result = await async_client.embeddings.create(model="text-embedding-3-small", input=DOCS[:2])
    assert len(result.data) == 2
    assert result.usage.prompt_tokens == O200K.count(DOCS[0]) + O200K.count(DOCS[1])
