"""API keys of LLM endpoints: which environment variables may hold one, which hosts may receive it,
and taking keys out of the error texts endpoints send back.

Pure: no Django (``arena.validators`` applies these rules with the settings). A judge or contender
names the *variable* holding its key (``api_key_env``) and the worker sends that variable's value
as ``Authorization: Bearer …`` to the endpoint's host. Without rules a judge could name
``SECRET_KEY`` or ``DATABASE_URL`` and point at any server. So a key variable must

* look like a variable name: ``[A-Z_][A-Z0-9_]*``, at most 64 characters (a pasted key such as
  ``sk-…``, ``hf_…`` or ``gsk_…`` is refused, and never repeated back in the message);
* start with the deployment's key prefix (``ARENA_KEY_`` unless configured) or be
  ``OPENAI_API_KEY``, the one variable the OpenAI client itself reads;
* not be one of Arena's own settings, whatever the prefix.

An optional allow-list of hosts (``ARENA_JUDGE_HOSTS``) limits where a key may be sent at all.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

KEY_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
KEY_NAME_MAX_LENGTH = 64
DEFAULT_KEY_VARIABLE = "OPENAI_API_KEY"
REDACTED = "[redacted]"
# A configured key is redacted by value only from this length on: shorter values ("k", "test")
# would blot out ordinary words of the message.
MIN_SECRET_LENGTH = 8

# Strings that are keys whatever they sit next to: vendors' key formats, bearer credentials,
# ``api_key=…`` pairs, JSON web tokens, and long runs of letters and digits.
_KEY_LIKE = re.compile(
    r"""
    (?P<label>\b(?:bearer|basic)\s+)(?P<credential>[A-Za-z0-9._~+/=-]{6,})                # Authorization values
    | (?P<pair>\b(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|secret|password|token)
        ["']?\s*[:=]\s*["']?)(?P<value>[^\s"',;&]{6,})                                      # api_key=…, "token": "…"
    | \b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{8,}                                                  # OpenAI, Anthropic, Stripe style
    | \b(?:hf|gsk|ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{8,}                                     # Hugging Face, Groq, GitHub
    | \bgithub_pat_[A-Za-z0-9_]{20,}
    | \b(?:xai|glpat|xox[abprs])-[A-Za-z0-9_-]{8,}                                         # xAI, GitLab, Slack
    | \bAIza[0-9A-Za-z_-]{20,}                                                             # Google
    | \b(?:AKIA|ASIA)[0-9A-Z]{16}\b                                                        # AWS access key ids
    | \beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*                            # JSON web tokens
    | \b(?=[A-Za-z0-9_+/]*\d)(?=[A-Za-z0-9_+/]*[A-Za-z])[A-Za-z0-9_+/]{32,}={0,2}          # long random runs
    """,
    re.IGNORECASE | re.VERBOSE,
)


def is_variable_name(value: str) -> bool:
    """Could ``value`` be a key variable's name at all (not a pasted key)?"""
    return len(value) <= KEY_NAME_MAX_LENGTH and KEY_NAME.fullmatch(value) is not None


def _replacement(match: re.Match[str]) -> str:
    if match.group("label"):
        return match.group("label") + REDACTED
    if match.group("pair"):
        return match.group("pair") + REDACTED
    return REDACTED


def redact(text: str, *, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every value in ``secrets`` (from MIN_SECRET_LENGTH characters) and every
    key-like string replaced by ``[redacted]``: for error texts that an endpoint sent back, which
    may echo the key it was given."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return _KEY_LIKE.sub(_replacement, text)


def _masked(value: str) -> str:
    """Enough of a refused value to recognise it, never the key itself."""
    return repr(value[:4] + "…")


def key_variable_problem(name: str, *, prefix: str, refused: Collection[str]) -> str | None:
    """Why ``name`` may not be a judge's or contender's key variable, or None if it may.

    An empty name is allowed: the endpoint then gets OPENAI_API_KEY, or no key at all."""
    if not name:
        return None
    example = f"{prefix}MY_JUDGE"
    if not is_variable_name(name):
        looks_like_a_key = _KEY_LIKE.search(name) is not None or any(c.islower() for c in name)
        what = "looks like an API key itself" if looks_like_a_key else "is not an environment variable name"
        return (
            f"{_masked(name)} {what}: enter the NAME of the environment variable that holds the key "
            f"(capital letters, digits and _, at most {KEY_NAME_MAX_LENGTH}), e.g. {example}, "
            "and put the key in that variable."
        )
    if name in refused:
        return f"{name} is one of Arena's own settings: it is never sent to an endpoint as a key."
    if name != DEFAULT_KEY_VARIABLE and not name.startswith(prefix):
        return (
            f"{name} may not hold a key: key variables start with {prefix} (or are {DEFAULT_KEY_VARIABLE}), "
            f"so no other variable of the worker can be sent to an endpoint. Rename it, e.g. {prefix}{name}."
        )
    return None


def host_allowed(url: str, allowed: Collection[str]) -> bool:
    """Is ``url``'s host on the allow-list? Entries are host names (any port); one starting with
    a dot also allows its subdomains, as Django's ALLOWED_HOSTS does. An empty list allows any."""
    if not allowed:
        return True
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host:
        return False
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False
