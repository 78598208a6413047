"""Countries as ISO 3166-1 alpha-2 codes, from whatever a channel sends (`US`, `USA`, `United States`, `Poland`).

pycountry holds the ISO tables, so names, alpha-3 codes and common short forms resolve without a hand-kept list.
"""

from functools import lru_cache

import pycountry


@lru_cache(maxsize=1024)
def country_code(value: str) -> str:
    """The alpha-2 code for a country name or code; the value unchanged (stripped) when it names no country."""
    text = (value or "").strip()
    if not text:
        return ""
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    try:
        # Fuzzy search also finds common names (`Russia`); more than one match (`Korea`) is no answer.
        matches = pycountry.countries.search_fuzzy(text)
    except LookupError:
        return text
    return str(matches[0].alpha_2) if len(matches) == 1 else text


def country_name(code: str) -> str:
    """The ISO short name of an alpha-2 code, or "" when it is not one."""
    country = pycountry.countries.get(alpha_2=(code or "").upper()) if len(code or "") == 2 else None
    return str(country.name) if country else ""
