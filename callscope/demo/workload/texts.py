"""What the demo app says: prompts, tickets, articles and tool schemas for a fictional company, Acme Cloud.

Every text is built from a seeded generator and an index, so the same seed gives the same requests (and so
the same token counts and costs) run after run. The numbers in a text (order ids, dates, amounts) make each
request unique unless the workload repeats one on purpose.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

__all__ = [
    "AGENT_INSTRUCTIONS",
    "CLASSIFIER_PROMPT",
    "DIGEST_PROMPT",
    "REPORT_PROMPT",
    "SUPPORT_PROMPT",
    "TICKET_CATEGORIES",
    "agent_context",
    "agent_tools",
    "article",
    "blog_request",
    "chat_question",
    "report_request",
    "retag_request",
    "ticket",
    "ticket_thread",
]

PRODUCTS = (
    "Acme Storage",
    "Acme Compute",
    "Acme Mail",
    "Acme Backup",
    "Acme CDN",
    "Acme Analytics",
    "Acme Auth",
    "Acme Queue",
)
PLANS = ("Starter", "Team", "Business", "Enterprise")
NAMES = (
    "Ana",
    "Bruno",
    "Chen",
    "Divya",
    "Emeka",
    "Fatima",
    "Goran",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
    "Priya",
)
TICKET_CATEGORIES = ("billing", "bug", "outage", "account", "feature", "security", "other")

_ISSUES = (  # (category, subject, what the customer writes)
    (
        "billing",
        "Charged twice",
        "I was charged twice for {product} this month, on the 3rd and again on the 5th",
    ),
    ("billing", "Wrong plan on invoice", "my invoice for {product} shows the {plan} plan but we downgraded"),
    (
        "bug",
        "Large uploads fail",
        "uploads to {product} fail with a 500 error when a file is larger than 2 GB",
    ),
    ("bug", "Stale dashboard", "the {product} dashboard shows yesterday's numbers even after a refresh"),
    (
        "outage",
        "Everything times out",
        "{product} has been timing out for all our users in eu-west since 8:00",
    ),
    ("account", "Cannot sign in", "I can no longer sign in to {product} after a colleague changed our SSO"),
    ("account", "New owner needed", "please move our {product} workspace to a new owner, the old one left"),
    ("feature", "CSV export per team", "can we export {product} usage per team as CSV for our finance team"),
    (
        "security",
        "Strange login alert",
        "we got a login alert for {product} from a country none of us visited",
    ),
    (
        "other",
        "DPA request",
        "can you send me the data processing agreement for {product} on the {plan} plan",
    ),
)
_DETAILS = (
    "This is blocking our release and the team is waiting on it.",
    "We have tried clearing caches and a different browser, without luck.",
    "Our account manager said support would follow up but nobody did.",
    "It started right after the maintenance window announced last week.",
    "A screenshot is attached; the request id shown is in the first line.",
    "We are on a deadline, so a workaround would already help a lot.",
    "Several people in the office see the same thing on different machines.",
    "Please tell us whether this affects the data we already stored.",
)


def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


def _sentences(rng: random.Random, count: int) -> str:
    return " ".join(_pick(rng, _DETAILS) for _ in range(count))


def ticket(seed: int, index: int) -> tuple[str, str]:
    """Support ticket number ``index``: ``(category, text)``, about 60 to 250 tokens."""
    rng = random.Random(f"{seed}:ticket:{index}")
    category, subject, issue = _ISSUES[rng.randrange(len(_ISSUES))]
    name = _pick(rng, NAMES)
    text = (
        f"Ticket #{40_000 + index} from {name} ({_pick(rng, PLANS)} plan, customer since "
        f"{2015 + rng.randrange(10)}).\nSubject: {subject}\n\n"
        f"Hello, {issue.format(product=_pick(rng, PRODUCTS), plan=_pick(rng, PLANS))}. "
        f"{_sentences(rng, 1 + rng.randrange(6))}\nThanks, {name}"
    )
    return category, text


_REPLIES = (
    "Agent: Thanks for reaching out. Could you send the request id and the time it happened (time zone too)?",
    "Customer: Sure, it happened around 9:40 CET, the request id is in the screenshot I attached earlier.",
    "Agent: I have forwarded this to the engineering team and raised the priority. We will update you today.",
    "Customer: Any news? Our finance team is asking and I have nothing to tell them yet.",
    "Agent: Engineering found the cause and is rolling out a fix region by region; yours is scheduled next.",
    "Customer: It works again for most of us, but two colleagues still see the old behaviour after login.",
    "Agent: Please ask them to sign out everywhere and back in; the old session keeps the previous settings.",
    "Customer: That did it for one of them. The other one is on holiday, I will check when she is back.",
)


def ticket_thread(seed: int, index: int) -> str:
    """A ticket with its conversation so far, as the nightly digest reads it (about 300 to 450 tokens)."""
    _, text = ticket(seed, index)
    rng = random.Random(f"{seed}:thread:{index}")
    replies = _REPLIES[: 4 + rng.randrange(len(_REPLIES) - 3)]
    account = "\n".join(
        f"- {product}: {_pick(rng, PLANS)} plan, {rng.randrange(1, 300)} seats, "
        f"region {_pick(rng, _REGIONS)}, renewal {2026 + rng.randrange(2)}-{1 + rng.randrange(12):02d}, "
        f"open tickets {rng.randrange(5)}"
        for product in rng.sample(PRODUCTS, 5)
    )
    status = _pick(rng, ("open", "pending", "solved"))
    return f"{text}\n\nAccount:\n{account}\n\n" + "\n".join(replies) + f"\n\nStatus: {status}."


# -- the support chatbot ---------------------------------------------------------------------------------

_POLICIES = (
    (
        "Tone",
        "Be warm, brief and concrete. Address the customer by first name when you know it. Never blame "
        "the customer. Prefer numbered steps for anything the customer has to do, and end with one "
        "question that moves the conversation forward. Do not use more than one exclamation mark.",
    ),
    (
        "Refunds",
        "Customers on monthly plans can get a full refund within 14 days of a charge if they did not use "
        "the service in that period. Duplicate charges are always refunded in full, without questions, "
        "within 5 business days. Annual plans are refunded pro rata for the unused months when the "
        "customer cancels within the first 90 days; after that, credits are offered instead of refunds.",
    ),
    (
        "Outages",
        "If the customer reports an outage, first check the status page summary you are given. If an "
        "incident is open for the product and region, apologise, link the incident, and give the next "
        "update time. Never promise a resolution time. Service credits follow the SLA table below and "
        "are applied automatically at the end of the billing period.",
    ),
    (
        "Security",
        "Never ask for passwords, one-time codes, API keys or full card numbers. If the customer shares "
        "one, tell them to rotate it immediately and do not repeat it back. Suspicious logins are "
        "escalated to the security team with priority P1; tell the customer to enable two-factor "
        "authentication and to review active sessions under Settings, Security, Sessions.",
    ),
    (
        "Accounts",
        "Ownership transfers need a confirmation email from the current owner, or, if they left the "
        "company, a signed letter on company letterhead from a director. SSO problems are usually caused "
        "by a changed certificate or entity id; walk the customer through re-uploading the metadata XML "
        "before escalating to the identity team.",
    ),
    (
        "Escalation",
        "Escalate to a human agent when the customer asks for one twice, when a refund above 500 USD is "
        "involved, when legal terms are discussed, or when you are not certain about the answer. When "
        "you escalate, summarise the case in three bullet points so the human agent does not have to ask "
        "the customer again.",
    ),
)
_SLA = (("Starter", "99.5", "none"), ("Team", "99.9", "10 %"), ("Business", "99.95", "25 %"))
_FAQ = (
    (
        "How do I export my data?",
        "Settings, Data, Export: a ZIP with JSON and CSV files, ready within an hour.",
    ),
    (
        "Can I change my billing date?",
        "Yes, once per year, under Billing, Schedule; the first period is prorated.",
    ),
    ("Where are your data centres?", "Frankfurt, Dublin, Virginia, Oregon, Singapore and Sydney."),
    (
        "Do you offer discounts for non-profits?",
        "Yes, 30 % off Team and Business plans with proof of status.",
    ),
    ("How long do you keep backups?", "35 days on Business and Enterprise, 7 days on the other plans."),
    ("Is there an API rate limit?", "600 requests per minute per workspace; Enterprise can ask for more."),
    ("Can I add a second admin?", "Yes, any owner can promote a member under Team, Roles."),
    ("How do I cancel?", "Billing, Plan, Cancel; data is kept for 30 days in case you come back."),
)


def _catalog() -> str:
    lines = ["Product catalogue (monthly price per seat in USD, by plan):"]
    for i, product in enumerate(PRODUCTS):
        prices = ", ".join(f"{plan} {8 + i * 3 + j * 7}" for j, plan in enumerate(PLANS))
        lines.append(
            f"- {product}: {prices}. Free trial 30 days; storage {50 * (i + 1)} GB included per seat."
        )
    return "\n".join(lines)


def _support_prompt() -> str:
    parts = [
        "You are Ada, the support assistant of Acme Cloud. You answer customers in the help widget of "
        "the Acme Cloud console. You know the policies, the catalogue, the SLA and the frequent questions "
        "below; answer only from them and from the conversation. If something is not covered, say so and "
        "offer to escalate.",
    ]
    parts += [f"## {title}\n{text}" for title, text in _POLICIES]
    parts.append(_catalog())
    parts.append(
        "SLA credits by plan (monthly availability, credit when missed): "
        + "; ".join(f"{plan} {target} % ({credit})" for plan, target, credit in _SLA)
        + ". Enterprise contracts have their own SLA; escalate those."
    )
    parts.append("Frequent questions:\n" + "\n".join(f"Q: {q}\nA: {a}" for q, a in _FAQ))
    # Long-standing instructions that grew with every incident review (which is why the prompt is long).
    parts += [f"## {title} (details)\n{text} {text}" for title, text in _POLICIES]
    parts.append("Answer in the customer's language. Keep answers under 200 words unless asked for more.")
    return "\n\n".join(parts)


#: The chatbot's shared system prompt: about 2,000 tokens, the same for every conversation.
SUPPORT_PROMPT = _support_prompt()

_QUESTIONS = (
    "Hi, I'm {name}. I was charged twice for {product} on order {order}. Can I get my money back?",
    "{product} is really slow for us today in {region}. Is something going on? (ticket {order})",
    "How do I move our {product} workspace {order} to a new owner? Our admin {name} left.",
    "What is the difference between {plan} and Business for {product}? We have {n} users (quote {order}).",
    "I got a login alert for {product} account {order} from another country. What should I do?",
    "Our SSO login to {product} ({order}) stopped working after {name} changed the certificate. Help?",
    "Is there a discount if we move {n} seats of {product} to an annual plan? Reference {order}.",
    "How long do you keep backups of {product} data on the {plan} plan? Asking for audit {order}.",
)
_REGIONS = ("Frankfurt", "Dublin", "Virginia", "Oregon", "Singapore", "Sydney")


def chat_question(seed: int, index: int) -> str:
    """Question number ``index`` typed into the support chat widget (unique)."""
    rng = random.Random(f"{seed}:chat:{index}")
    return _pick(rng, _QUESTIONS).format(
        name=_pick(rng, NAMES),
        product=_pick(rng, PRODUCTS),
        order=f"A-{100_000 + index}",
        region=_pick(rng, _REGIONS),
        plan=_pick(rng, PLANS),
        n=5 + rng.randrange(200),
    )


# -- ticket triage (classifier) and nightly digest (summarizer) ------------------------------------------

CLASSIFIER_PROMPT = (
    "You route support tickets for Acme Cloud. Read the ticket and answer with exactly one word, the "
    f"category: {', '.join(TICKET_CATEGORIES)}. Billing covers charges, invoices and refunds; bug covers "
    "anything that misbehaves for one customer; outage covers anything unavailable for many; account "
    "covers sign-in, SSO, owners and seats; security covers suspicious activity and data exposure."
)

DIGEST_PROMPT = (
    "Summarise the support ticket in a short paragraph for the nightly digest read by the product team: "
    "what the customer wants, what is blocking them, and what support has done so far. "
    "No greetings, no names."
)

# -- weekly account reports ------------------------------------------------------------------------------

REPORT_PROMPT = (
    "You write the weekly account report an Acme Cloud account manager sends to a customer: usage by "
    "product, incidents, open tickets, and recommendations. Use headings and tables in Markdown."
)


def report_request(seed: int, index: int) -> str:
    rng = random.Random(f"{seed}:report:{index}")
    rows = "\n".join(
        f"- {product}: {rng.randrange(10, 900)} seats, {rng.randrange(1, 5000)} GB, "
        f"{rng.randrange(0, 4)} incidents, spend {rng.randrange(100, 20_000)} USD"
        for product in rng.sample(PRODUCTS, 4)
    )
    return (
        f"Weekly report for customer C-{7_000 + index} ({_pick(rng, PLANS)} plan), week "
        f"{1 + index % 52} of 2026. Account manager: {_pick(rng, NAMES)}.\nUsage this week:\n{rows}"
    )


# -- the blog writer -------------------------------------------------------------------------------------

_TOPICS = (
    "zero-downtime database migrations",
    "cutting cloud storage costs",
    "single sign-on for small teams",
    "choosing a backup retention policy",
    "what a CDN does for a SaaS product",
    "rate limiting public APIs",
    "queue-based architectures",
    "measuring customer churn",
    "writing a good incident report",
    "multi-region failover",
    "passwordless sign-in",
    "observability on a budget",
)
_AUDIENCES = ("CTOs", "developers", "IT administrators", "startup founders", "operations teams")


def blog_request(seed: int, index: int) -> str:
    """A request for a blog post (no system prompt: everything is in the one user message)."""
    rng = random.Random(f"{seed}:blog:{index}")
    topic, audience = _pick(rng, _TOPICS), _pick(rng, _AUDIENCES)
    return (
        f"Write a blog post for the Acme Cloud blog about {topic}, for {audience}. Give it a catchy "
        f"title, an introduction, three sections with examples using {_pick(rng, PRODUCTS)}, and a "
        f"conclusion with a call to action. Post number {index + 1} of the autumn series."
    )


# -- the catalogue re-tagging job ------------------------------------------------------------------------

_ADJECTIVES = ("compact", "rugged", "wireless", "smart", "solar", "modular", "portable", "silent")
_ITEMS = ("router", "sensor", "camera", "hub", "drive", "switch", "display", "keyboard")


def retag_request(seed: int, index: int) -> str:
    """One catalogue item to re-tag (instructions and item in one user message)."""
    rng = random.Random(f"{seed}:retag:{index}")
    item = f"{_pick(rng, _ADJECTIVES)} {_pick(rng, _ITEMS)}"
    return (
        f"Give 3 to 5 lowercase search tags, comma separated, for this marketplace listing. SKU "
        f"MK-{20_000 + index}: {item.title()} by a partner vendor, {rng.randrange(20, 900)} USD, "
        f"ships to {_pick(rng, _REGIONS)}."
    )


# -- the help-centre indexer -----------------------------------------------------------------------------


def article(seed: int, index: int) -> str:
    """Help-centre article number ``index`` to embed for search (about 80 to 300 tokens)."""
    rng = random.Random(f"{seed}:article:{index}")
    product = _pick(rng, PRODUCTS)
    title, text = _POLICIES[rng.randrange(len(_POLICIES))]
    question, answer = _FAQ[rng.randrange(len(_FAQ))]
    return (
        f"Help centre article KB-{3_000 + index}: {title} in {product}.\n{text}\n"
        f"Related question: {question} {answer} {_sentences(rng, rng.randrange(4))}"
    )


# -- the order agent (tools) -----------------------------------------------------------------------------

AGENT_INSTRUCTIONS = (
    "You are the order agent of Acme Cloud's console. Use the tools to look up and change orders; "
    "always call a tool rather than answering from memory."
)

_FIELDS: dict[str, dict[str, Any]] = {
    "order_id": {"type": "string", "description": "Order id, like A-123456."},
    "customer_id": {"type": "string", "description": "Customer id, like C-7001."},
    "amount_usd": {"type": "number", "description": "Amount in USD, at most the order total."},
    "notify_customer": {"type": "boolean", "description": "Email the customer when done."},
    "priority": {
        "type": "string",
        "enum": ["low", "normal", "high", "critical"],
        "description": "How urgent it is for the customer.",
    },
    "region": {
        "type": "string",
        "enum": ["eu-central", "eu-west", "us-east", "us-west", "ap-southeast"],
        "description": "Region of the workspace.",
    },
    "seats": {"type": "integer", "description": "Seats after the change."},
    "plan": {
        "type": "string",
        "enum": ["Starter", "Team", "Business", "Enterprise"],
        "description": "Target plan.",
    },
    "dry_run": {"type": "boolean", "description": "Only report what would change."},
    "reason": {
        "type": "string",
        "enum": ["duplicate", "outage", "goodwill", "downgrade", "other"],
        "description": "Audit log category.",
    },
}
#: (name, description, parameters): small answers (a tool call of about 40 tokens), many tools.
_TOOLS = (
    ("lookup_order", "Find an order with its line items, payments and shipping state.",
     ("order_id", "customer_id", "region", "dry_run")),
    ("refund_payment", "Refund all or part of a payment to the original payment method.",
     ("order_id", "amount_usd", "reason", "notify_customer")),
    ("change_plan", "Move a workspace to another plan or seat count, prorating the current period.",
     ("customer_id", "plan", "seats", "dry_run")),
    ("transfer_ownership", "Make another member the owner of a workspace after verification.",
     ("customer_id", "notify_customer", "priority", "region")),
    ("open_incident_link", "Attach the case to an open incident and subscribe the customer to its updates.",
     ("customer_id", "region", "priority", "notify_customer")),
    ("escalate_to_human", "Hand the conversation to a human agent, with the case summarised.",
     ("customer_id", "priority", "reason", "dry_run")),
    ("apply_credit", "Add a service credit to the next invoice, e.g. for a missed SLA.",
     ("customer_id", "amount_usd", "reason", "notify_customer")),
    ("resend_invoice", "Send an invoice again to the billing contact of the workspace.",
     ("order_id", "customer_id", "notify_customer", "dry_run")),
    ("update_seats", "Add or remove seats on the current plan, effective immediately.",
     ("customer_id", "seats", "priority", "dry_run")),
)  # fmt: skip


def agent_tools(rng: random.Random) -> list[dict[str, Any]]:
    """The agent's tool definitions: nine tools of four parameters each.

    The property order is drawn from ``rng`` on every request: the schemas are assembled from a registry
    whose key order is not stable (as with Go maps or Swift dictionaries serialised to JSON). The JSON means
    the same, so callscope sees one prompt prefix, but the bytes differ, so OpenAI's prompt cache misses.
    """
    tools = []
    for name, description, fields in _TOOLS:
        properties = {field: _FIELDS[field] for field in rng.sample(fields, len(fields))}
        parameters = {"type": "object", "properties": properties, "required": sorted(fields[:2])}
        tools.append(
            {
                "type": "function",
                "function": {"name": name, "description": description, "parameters": parameters},
            }
        )
    return tools


def agent_context(seed: int, index: int) -> str:
    """The customer's request with their recent orders and messages (about 2,200 tokens)."""
    rng = random.Random(f"{seed}:agent:{index}")
    name = _pick(rng, NAMES)
    orders = "\n".join(
        f"- order A-{200_000 + index * 40 + k}, {_pick(rng, PRODUCTS)} {_pick(rng, PLANS)}, "
        f"{rng.randrange(1, 200)} seats, {rng.randrange(20, 9_000)}.{rng.randrange(100):02d} USD, "
        f"paid {2025 + rng.randrange(2)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}, "
        f"state {_pick(rng, ('paid', 'refunded', 'pending', 'disputed'))}"
        for k in range(48)
    )
    messages = "\n".join(f"- {_pick(rng, _DETAILS)} {_pick(rng, _DETAILS)}" for _ in range(24))
    request = chat_question(seed, 1_000_000 + index)
    return (
        f"Customer {name} (C-{7_000 + index}) writes: {request}\n\nTheir orders:\n{orders}\n\n"
        f"Their earlier messages:\n{messages}"
    )
