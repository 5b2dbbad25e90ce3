"""Countries as people and news write them: "the Russians", "Seoul says", "North Korean artillery".

The names, demonyms and capitals come from countryinfo's data (a maintained package; nothing is kept
here by hand). A question that says "russians" should find a story that says "Russia", and the reverse.
"""

from functools import cache

from countryinfo.countryinfo import load_countries  # type: ignore[attr-defined]  # not in its __all__

from retrieval.analysis import words

# Capitals stand for governments in the news ("Seoul is watching"), but the capitals of small
# territories are often ordinary words ("The Valley", "Road Town"): only those of populous countries.
CAPITAL_MIN_POPULATION = 1_000_000

Phrase = tuple[str, ...]


@cache
def other_names() -> dict[Phrase, tuple[Phrase, ...]]:
    """For each way of writing a country, as analysed words, the other ways a story may write it.

    Names and demonyms stand for each other; a capital stands for both. A demonym several countries
    share ("American", "Chinese") stands for the most populous of them.
    """
    names: dict[Phrase, tuple[Phrase, ...]] = {}
    countries = load_countries()["countries"].values()
    for country in sorted(countries, key=lambda c: c.get("population") or 0):  # the most populous last, and kept
        name = tuple(words(country.get("name") or ""))
        demonyms = [tuple(words(demonym)) for demonym in (country.get("demonym") or "").split(",")]
        capitals = country.get("capital") or []
        capitals = [capitals] if isinstance(capitals, str) else capitals  # a list for a few countries
        if (country.get("population") or 0) < CAPITAL_MIN_POPULATION:
            capitals = []
        for demonym in demonyms:
            names[demonym] = (name,)
        names[name] = tuple(demonyms)
        for capital in capitals:
            names[tuple(words(capital))] = (name, *demonyms)
    return {
        phrase: kept
        for phrase, others in names.items()
        if phrase and (kept := tuple(other for other in others if other and other != phrase))
    }
