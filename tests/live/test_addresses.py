"""A battle socket counts its client's address exactly as a page does (limits per address)."""

from arena.services.logins import address_of
from live.consumers import scope_address


def test_a_socket_and_a_page_see_the_same_address(settings):
    settings.BEHIND_PROXY = False
    assert scope_address({"client": ("203.0.113.9", 5000)}) == address_of("203.0.113.9", "") == "203.0.113.9"
    assert scope_address({"client": ("2001:db8::1", 5000)}) == "2001:db8::/64"  # one client's IPv6 block
    assert scope_address({}) == "unknown"
    settings.BEHIND_PROXY = True  # our proxy appends the real client last
    scope = {"client": ("10.0.0.2", 5000), "headers": [(b"x-forwarded-for", b"198.51.100.7, 192.0.2.1")]}
    assert scope_address(scope) == address_of("10.0.0.2", "198.51.100.7, 192.0.2.1") == "192.0.2.1"
