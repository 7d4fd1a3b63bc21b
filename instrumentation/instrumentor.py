"""``OpenAIInstrumentor``: the OpenTelemetry instrumentor for the ``openai`` SDK."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

from callscope.instrumentation._call import Config
from callscope.instrumentation._content import capture_content_from_env
from callscope.instrumentation._finisher import flush, hook_provider
from callscope.instrumentation._internal_errors import guard
from callscope.instrumentation._metrics import Instruments
from callscope.instrumentation._request_shape import Hasher, resolve_hash_key
from callscope.instrumentation.errors import InstrumentationError
from callscope.instrumentation.pricing import PriceBook
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from callscope import __version__
from callscope.config import env_flag

__all__ = ["ENV_FINISH_IN_BACKGROUND", "ENV_INJECT_STREAM_USAGE", "OpenAIInstrumentor"]

ENV_INJECT_STREAM_USAGE = "CALLSCOPE_INJECT_STREAM_USAGE"
ENV_FINISH_IN_BACKGROUND = "CALLSCOPE_FINISH_IN_BACKGROUND"
_SCOPE = "callscope.instrumentation.openai"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.1"  # the GenAI names callscope emits


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Trace every OpenAI call (chat, responses, embeddings; sync and async) as one CLIENT span.

    >>> OpenAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)  # doctest: +SKIP

    Keyword arguments of :meth:`instrument` (all optional):

    ``tracer_provider`` / ``meter_provider``
        Default: the global providers (with the API's no-op providers, nothing is recorded).
    ``hash_key``
        Key for the request and prefix hashes (str or bytes). Default ``$CALLSCOPE_HASH_KEY``,
        else a random per-process key (hashes then only match within the process).
    ``capture_content``
        Record prompts and completions on the span. Default: from
        ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (off when unset).
    ``inject_stream_usage``
        Ask for usage on streamed chat completions (``stream_options.include_usage``) and
        hide the extra chunk from the caller. Default ``$CALLSCOPE_INJECT_STREAM_USAGE``,
        else on. Turn off for an OpenAI-compatible server that rejects ``stream_options``.
    ``finish_in_background``
        Build each call's span and metrics on a background thread once the call has ended
        (default ``$CALLSCOPE_FINISH_IN_BACKGROUND``, else on), so the app's thread only
        captures the facts. Spans keep the call's own start/end times and parent; they are
        exported a moment later, as with a ``BatchSpanProcessor``: ``TracerProvider.force_flush()``,
        ``shutdown()``, metric collection, :meth:`uninstrument` and interpreter exit wait for
        them, and :func:`callscope.instrumentation.flush` does on demand. Turn off where a
        thread cannot run (uWSGI without ``--enable-threads``) or to export inline.

    Instrumenting twice is harmless; :meth:`uninstrument` restores the SDK exactly and
    finishes the calls that had ended.
    """

    _lock = threading.Lock()

    def instrumentation_dependencies(self) -> Collection[str]:
        from callscope.instrumentation._sdk import SUPPORTED_OPENAI

        return (SUPPORTED_OPENAI,)

    def _instrument(self, **kwargs: Any) -> None:
        from callscope.instrumentation import _sdk

        config = _build_config(kwargs)  # a bad argument is the caller's error: raised
        with self._lock:
            if getattr(self, "_patches", None):
                return
            self._patches = []
            with guard:  # an SDK we cannot patch means no tracing, never a broken app
                self._patches = _sdk.install(config)
                if self._patches and config.finish_in_background:
                    hook_provider(kwargs.get("tracer_provider") or trace.get_tracer_provider())

    def _uninstrument(self, **kwargs: Any) -> None:
        from callscope.instrumentation import _sdk

        with self._lock:
            patches = getattr(self, "_patches", None) or []
            self._patches = []
            _sdk.uninstall(patches)
        flush()  # outside the lock: the calls that ended before this become spans now


def _build_config(kwargs: dict[str, Any]) -> Config:
    unknown = set(kwargs) - {
        "tracer_provider",
        "meter_provider",
        "hash_key",
        "capture_content",
        "inject_stream_usage",
        "finish_in_background",
    }
    if unknown:
        raise InstrumentationError(f"unknown instrument() option(s): {', '.join(sorted(unknown))}")
    tracer_provider = kwargs.get("tracer_provider")
    tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider, schema_url=_SCHEMA_URL)
    meter_provider = kwargs.get("meter_provider")
    meter = metrics.get_meter(_SCOPE, __version__, meter_provider=meter_provider, schema_url=_SCHEMA_URL)
    capture = kwargs.get("capture_content")
    inject = kwargs.get("inject_stream_usage")
    if inject is None:
        inject = env_flag(ENV_INJECT_STREAM_USAGE, default=True)
    background = kwargs.get("finish_in_background")
    if background is None:
        background = env_flag(ENV_FINISH_IN_BACKGROUND, default=True)
    hash_key = kwargs.get("hash_key")
    try:
        key = resolve_hash_key(hash_key)
    except ValueError as exc:
        raise InstrumentationError(str(exc)) from None
    return Config(
        tracer=tracer,
        instruments=Instruments.create(meter),
        prices=PriceBook(),
        hasher=Hasher(key),
        capture_content=capture_content_from_env() if capture is None else bool(capture),
        inject_stream_usage=bool(inject),
        finish_in_background=bool(background),
    )
