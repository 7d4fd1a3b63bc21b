"""A small app making real ``openai`` SDK calls against ``httpx2.MockTransport`` (no network).

Used by the ``callscope.instrument()`` / ``callscope run`` tests, in subprocesses, because
instrumenting sets process-wide state (the global tracer provider, the patched SDK):

    python tests/collector/openai_app.py CALLS [--instrument DATA_DIR] [--service NAME] [--exit-code N]
"""

from __future__ import annotations

import argparse
import json
import sys

import httpx2
import openai

COMPLETION = {
    "id": "chatcmpl-app1",
    "object": "chat.completion",
    "created": 1776481268,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 2000,
        "completion_tokens": 500,
        "total_tokens": 2500,
        "prompt_tokens_details": {"cached_tokens": 1024},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
    "service_tier": "default",
}


def handler(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    assert body["model"] == "gpt-4o-mini"
    return httpx2.Response(
        200, json=COMPLETION, headers={"x-request-id": "req_app", "openai-processing-ms": "120"}
    )


def client() -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test",
        max_retries=0,
        http_client=openai.DefaultHttpxClient(transport=httpx2.MockTransport(handler)),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("calls", type=int)
    parser.add_argument("--instrument", metavar="DATA_DIR")
    parser.add_argument("--service")
    parser.add_argument("--exit-code", type=int, default=0)
    args = parser.parse_args()
    if args.instrument:
        import callscope

        callscope.instrument(args.instrument, service_name=args.service)
    import callscope

    api = client()
    for i in range(args.calls):
        with callscope.tags(feature="qa", turn=str(i % 2)):
            api.chat.completions.create(
                model="gpt-4o-mini",
                messages=[
                    {"role": "system", "content": "Be terse."},
                    {"role": "user", "content": "Capital?"},
                ],
            )
    print(f"made {args.calls} calls", flush=True)
    sys.exit(args.exit_code)  # no explicit flush or shutdown: exit hooks must write the rows


if __name__ == "__main__":
    main()
