"""The account tests meet the same personas (and the same fresh cache) as the voting tests."""

from tests.voting.browser import chromium, page, sized_page  # noqa: F401 - the browser fixtures
from tests.voting.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    _fresh_cache,
    _no_gold_by_default,
    other_rater,
    rater,
    rater_client,
    staff,
)
