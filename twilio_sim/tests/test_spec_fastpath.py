"""The spec fast path remembers its path look-ups, and forgets them when they pile up."""

from twilio_sim import spec_fastpath
from twilio_sim.validation import PRODUCTS, compiled_spec, spec_dict

CALLS = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json"


def fresh_spec() -> spec_fastpath.CompiledSpec:
    """The API's fast path with nothing remembered yet (the process-wide one is shared)."""
    product = PRODUCTS["api"]
    return spec_fastpath.CompiledSpec(spec_dict(product.spec_file), product.host_url,
                                      compiled_spec(product).format_checker)


def test_a_url_looked_up_again_is_answered_from_memory_with_the_same_answer(monkeypatch):
    spec = fresh_spec()
    searched = []
    real_search = spec._search
    monkeypatch.setattr(spec, "_search", lambda method, url: searched.append(url) or real_search(method, url))
    first = spec._find("post", CALLS)
    assert first is not None and first[0].endswith("/Calls.json")
    assert spec._find("post", CALLS) == first and searched == [CALLS]
    assert spec._find("get", CALLS) is not None and len(searched) == 2  # the method is part of the key


def test_the_memory_starts_over_when_full(monkeypatch):
    monkeypatch.setattr(spec_fastpath, "FOUND_CACHE", 3)
    spec = fresh_spec()
    for n in range(7):  # call SIDs in URLs never repeat
        spec._find("get", CALLS.replace("Calls.json", f"Calls/CA{n:032d}.json"))
    assert 0 < len(spec._found) <= 3
