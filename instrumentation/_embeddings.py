"""Embeddings (``POST /embeddings``): input size, dimensions, billed input tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.instrumentation import attributes as A
from callscope.instrumentation._call import OK, Call
from callscope.instrumentation._request_shape import record_shape

__all__ = ["EMBEDDINGS"]


class EmbeddingsSurface:
    operation = "embeddings"
    api_type = "embeddings"

    def start(self, call: Call, body: Mapping[str, Any]) -> None:
        attrs = call.attrs
        model = body.get("model")
        call.request_model = str(model) if model is not None else None
        dimensions = body.get("dimensions")
        if isinstance(dimensions, int) and not isinstance(dimensions, bool):
            attrs[A.EMBEDDINGS_DIMENSION_COUNT] = dimensions  # semconv: the dimensions asked for
        encoding = body.get("encoding_format")
        if isinstance(encoding, str):
            attrs[A.REQUEST_ENCODING_FORMATS] = [encoding]
        raw = body.get("input")
        if isinstance(raw, str):
            inputs: list[Any] = [raw]
        elif isinstance(raw, list) and raw and isinstance(raw[0], int):
            inputs = [raw]  # one pre-tokenized input
        elif isinstance(raw, list):
            inputs = raw
        else:
            inputs = []
        chars = sum(len(item) for item in inputs if isinstance(item, str))
        record_shape(
            attrs,
            call.config.hasher,
            body,
            message_count=len(inputs),
            input_chars=chars,
            prefix=[],
            prefix_chars=0,
        )

    def record(self, call: Call, result: Any) -> str:
        model = getattr(result, "model", None)
        if isinstance(model, str):
            call.response_model = model
        usage = getattr(result, "usage", None)
        if usage is not None:
            call.set_usage(getattr(usage, "prompt_tokens", None), None)
        return OK

    def stream(self, call: Call) -> Any:  # embeddings never stream
        raise NotImplementedError


EMBEDDINGS = EmbeddingsSurface()
