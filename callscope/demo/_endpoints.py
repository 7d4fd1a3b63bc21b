"""The API's endpoints on top of the engine: chat completions, responses, embeddings, models."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from callscope.demo import _apierrors as errors
from callscope.demo._apierrors import ApiError
from callscope.demo._chat import chunks, completion
from callscope.demo._embeddings import embedding_list, encode, normalize, vector
from callscope.demo._engine import EDGE_S, Call, Engine, Reply, Stored, Timing
from callscope.demo._model import Ask, answer
from callscope.demo._params import (
    check_context,
    check_temperature,
    content_key,
    int_param,
    output_cap,
    response_format,
    service_tier,
    wanted_tokens,
)
from callscope.demo._prompt import chat_prompt, embedding_inputs, responses_prompt
from callscope.demo._random import derive
from callscope.demo._responses import events as response_events
from callscope.demo._responses import output_items, response
from callscope.demo._wire import Usage
from callscope.demo.profiles import ModelProfile

_EMBEDDING_MAX_INPUTS = 2_048
_END_OF_TURN = 200265  # closes the assistant turn kept for previous_response_id


def dispatch(engine: Engine, call: Call) -> Reply:
    request = call.request
    route = _ROUTES.get((request.method, request.path))
    if route is not None:
        return route(engine, call)
    if request.method == "GET" and request.path.startswith("/v1/responses/"):
        return retrieve(engine, call, request.path.removeprefix("/v1/responses/"))
    if request.method == "GET" and request.path.startswith("/v1/models/"):
        return model(engine, call, request.path.removeprefix("/v1/models/"))
    raise errors.unknown_url(request.method, request.path)


def chat(engine: Engine, call: Call) -> Reply:
    body = engine.body(call)
    profile = engine.profile(call, body, "chat")
    n = int_param(body, "n", 1, 128) or 1
    cap = output_cap(body, profile, ("max_completion_tokens", "max_tokens"))
    if body.get("stream_options") is not None and not call.stream:
        raise errors.invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    check_temperature(body)
    tier = service_tier(body)
    fmt, schema = response_format(body.get("response_format"), "response_format")
    prompt = chat_prompt(body, engine.tokenizer)
    if fmt == "json_object" and "json" not in prompt.text.lower():
        raise errors.invalid(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
            "'json_object'.",
            param="messages",
        )
    check_context(prompt, cap, profile, "messages")
    wanted = wanted_tokens(call.request.headers)
    engine.admit(call, profile, len(prompt.tokens) + (cap or 0) * n)

    cached = engine.cache.lookup_and_store(profile.name, prompt.tokens, engine.now())
    key = content_key(body)
    ask = Ask(cap, wanted, fmt, schema, body.get("reasoning_effort"))
    answers = [answer(prompt, ask, profile, engine.content_rng(key, i), engine.costs) for i in range(n)]
    usage = Usage(
        len(prompt.tokens),
        cached,
        sum(a.completion_tokens for a in answers),
        sum(a.reasoning_tokens for a in answers),
    )
    engine.spend(usage)
    info = engine.info(call, "chat", profile, tier)
    timing = engine.timing(call, profile, usage.input_tokens, cached, tier)
    # Choices are generated side by side: the slowest one decides.
    first = timing.first_token_s + max(a.reasoning_tokens for a in answers) * timing.token_s
    record = _served(engine, call, usage, tuple(a.finish_reason for a in answers))
    if not call.stream:
        data = json.dumps(completion(info, answers, usage)).encode()
        return engine.plain(
            call, record, data, first + max(a.output_tokens for a in answers) * timing.token_s
        )
    options = body.get("stream_options") or {}
    events = chunks(
        info,
        answers,
        usage,
        include_usage=bool(options.get("include_usage")),
        include_obfuscation=options.get("include_obfuscation") is not False,
        rng=call.rng,
    )
    return engine.stream(call, record, events, timing, first)


def responses(engine: Engine, call: Call) -> Reply:
    body = engine.body(call)
    profile = engine.profile(call, body, "chat")
    cap = output_cap(body, profile, ("max_output_tokens",), minimum=16)
    check_temperature(body)
    tier = service_tier(body)
    fmt, schema = response_format(_mapping(body.get("text")).get("format"), "text.format")
    history = None
    previous = body.get("previous_response_id")
    if previous:
        earlier = engine.stored(str(previous))
        if earlier is None:
            raise errors.invalid(
                f"Previous response with id '{previous}' not found.", param="previous_response"
            )
        history = earlier.conversation
    prompt = responses_prompt(body, engine.tokenizer, history)
    if fmt == "json_object" and "json" not in prompt.text.lower():
        raise errors.invalid(
            "Response input messages must contain the word 'json' in some form to use 'text.format' of "
            "type 'json_object'.",
            param="input",
        )
    check_context(prompt, cap, profile, "input")
    wanted = wanted_tokens(call.request.headers)
    engine.admit(call, profile, len(prompt.tokens) + (cap or 0))

    cached = engine.cache.lookup_and_store(profile.name, prompt.tokens, engine.now())
    ask = Ask(cap, wanted, fmt, schema, _mapping(body.get("reasoning")).get("effort"))
    result = answer(prompt, ask, profile, engine.content_rng(content_key(body), 0), engine.costs)
    usage = Usage(len(prompt.tokens), cached, result.completion_tokens, result.reasoning_tokens)
    engine.spend(usage)
    info = engine.info(call, "responses", profile, tier)
    items = output_items(info, result, call.rng)
    timing = engine.timing(call, profile, usage.input_tokens, cached, tier)
    first = timing.first_token_s + result.reasoning_tokens * timing.token_s
    finish = "max_output_tokens" if result.finish_reason == "length" else result.finish_reason
    record = _served(engine, call, usage, (finish,))
    events = (
        response_events(info, body, result, usage=usage, items=items, rng=call.rng) if call.stream else None
    )
    if body.get("store") is not False:
        said = engine.tokenizer.encode(result.text or "".join(c.arguments for c in result.tool_calls))
        conversation = [*prompt.tokens, *said, _END_OF_TURN]
        engine.store(Stored(info, body, result, usage, items, conversation, events))
    if events is None:
        data = json.dumps(response(info, body, result, usage, items, done=True)).encode()
        return engine.plain(call, record, data, first + result.output_tokens * timing.token_s)
    return engine.stream(call, record, events, timing, first)


def retrieve(engine: Engine, call: Call, response_id: str) -> Reply:
    """``GET /v1/responses/{id}``, or its event stream again with ``?stream=true&starting_after=N``."""
    stored = engine.stored(response_id)
    if stored is None:
        raise ApiError(404, f"Response with id '{response_id}' not found.", kind="not_found")
    known = engine.profiles.get(stored.info.model)
    call.model = known.name if known else None
    query = call.request.query
    if query.get("stream", "").lower() != "true":
        done = response(stored.info, stored.body, stored.answer, stored.usage, stored.items, done=True)
        return engine.plain(call, engine.record(call, 200), json.dumps(done).encode(), EDGE_S)
    call.stream = True
    events = stored.events or response_events(
        stored.info,
        stored.body,
        stored.answer,
        usage=stored.usage,
        items=stored.items,
        rng=derive(engine.config.seed, response_id),
    )
    after = query.get("starting_after", "")
    if after.lstrip("-").isdigit():
        events = [event for sequence, event in enumerate(events) if sequence > int(after)]
    replay = [(-1.0, data) for _, data in events]  # a replay is sent at once
    return engine.stream(call, engine.record(call, 200), replay, Timing(EDGE_S, EDGE_S, 0.0), EDGE_S)


def embeddings(engine: Engine, call: Call) -> Reply:
    body = engine.body(call)
    profile = engine.profile(call, body, "embedding")
    inputs = embedding_inputs(body, engine.tokenizer)
    if len(inputs) > _EMBEDDING_MAX_INPUTS:
        raise errors.invalid(
            f"'$.input' is invalid: at most {_EMBEDDING_MAX_INPUTS} inputs per request.", param="input"
        )
    longest = max(len(tokens) for tokens in inputs)
    if longest > profile.context_window:
        raise errors.invalid(
            f"This model's maximum context length is {profile.context_window} tokens, however you "
            f"requested {longest} tokens ({longest} in your prompt; 0 for the completion). Please reduce "
            "your prompt; or completion length.",
            param="input",
            code="context_length_exceeded",
        )
    size = _dimensions(body, profile)
    encoding_format = body.get("encoding_format") or "float"
    if encoding_format not in ("float", "base64"):
        raise errors.invalid(
            f"Invalid value: '{encoding_format}'. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    total = sum(len(tokens) for tokens in inputs)
    engine.admit(call, profile, total)
    vectors = []
    for tokens in inputs:
        full = vector(tokens, profile.embedding_dimensions, engine.config.seed)
        vectors.append(encode(normalize(full[:size]) if size != len(full) else full, encoding_format))
    usage = Usage(total, 0, 0, 0)
    engine.spend(usage)
    data = json.dumps(embedding_list(vectors, profile.snapshot, total)).encode()
    timing = engine.timing(call, profile, total, 0, "default")
    return engine.plain(call, _served(engine, call, usage, ()), data, timing.first_token_s)


def models(engine: Engine, call: Call) -> Reply:
    listing = {"object": "list", "data": [_model_json(p) for p in engine.config.models.values()]}
    return engine.plain(call, engine.record(call, 200), json.dumps(listing).encode(), EDGE_S)


def model(engine: Engine, call: Call, name: str) -> Reply:
    profile = engine.profiles.get(name)
    if profile is None:
        raise errors.model_not_found(name)
    call.model = profile.name
    data = json.dumps({**_model_json(profile), "id": name}).encode()
    return engine.plain(call, engine.record(call, 200), data, EDGE_S)


_ROUTES: dict[tuple[str, str], Callable[[Engine, Call], Reply]] = {
    ("POST", "/v1/chat/completions"): chat,
    ("POST", "/v1/responses"): responses,
    ("POST", "/v1/embeddings"): embeddings,
    ("GET", "/v1/models"): models,
}


def _served(engine: Engine, call: Call, usage: Usage, finish_reasons: tuple[str, ...]) -> Any:
    return engine.record(
        call,
        200,
        input_tokens=usage.input_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        finish_reasons=finish_reasons,
    )


def _dimensions(body: dict[str, Any], profile: ModelProfile) -> int:
    dimensions = body.get("dimensions")
    if dimensions is None:
        return profile.embedding_dimensions
    if not profile.flexible_dimensions:
        raise errors.invalid("This model does not support specifying dimensions.", param="dimensions")
    if not isinstance(dimensions, int) or not 1 <= dimensions <= profile.embedding_dimensions:
        raise errors.invalid(
            f"Invalid value for 'dimensions' = {dimensions}. Must be between 1 and "
            f"{profile.embedding_dimensions}.",
            param="dimensions",
            code="invalid_value",
        )
    return dimensions


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _model_json(profile: ModelProfile) -> dict[str, Any]:
    return {"id": profile.name, "object": "model", "created": 1_715_367_049, "owned_by": "system"}
