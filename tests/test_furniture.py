from pathlib import Path

from retrieval.corpus import load_corpus
from retrieval.furniture import ends_story, is_notice, is_prose
from retrieval.index import Index


def test_captions_credits_and_headlines_are_not_prose() -> None:
    assert not is_prose(["File Image"])
    assert not is_prose(["Reuters"])
    assert not is_prose(["Jong Un Kim and Vladimir Putin at the summit in Vladivostok"])
    assert is_prose(["The leaders met on Tuesday."])
    assert is_prose(["They met.", "The government noted that it was closely following the meeting"])


def test_long_unpunctuated_text_is_still_prose() -> None:
    assert is_prose([" ".join(["word"] * 40)])


def test_related_links_headings_end_the_story() -> None:
    for heading in ("Popular posts from this blog", "Related articles", "You may also like", "More stories"):
        assert ends_story(heading)
    assert not ends_story("Popular support for the deal grew over the summer, officials said.")


def test_player_and_call_to_action_notices() -> None:
    assert is_notice("Click Here to watch the moment he arrived.")
    assert is_notice("You must enable JavaScript in your browser to watch this video.")
    assert not is_notice("The leader arrived by train on Tuesday.")


def test_furniture_never_reaches_the_index(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text(
        "A Headline\n\nPhoto caption of the leaders\n\nThe leaders met in the city on Tuesday.\n\n"
        "Click here to watch the video.\n\nThis video cannot be played in your browser.\n\n"
        "Popular posts from this blog\n\nAnother story entirely about other leaders meeting.\n",
        encoding="utf-8",
    )
    index = Index.build(load_corpus(tmp_path))
    quotable = [p.quote(0, len(p.sentences) - 1) for p in map(index.passage, range(len(index)))]
    assert quotable == ["The leaders met in the city on Tuesday."]
    assert [p.paragraph for p in map(index.passage, range(len(index)))] == [2]


def test_the_bundled_story_quotes_no_page_furniture(story) -> None:
    text = " ".join(p.quote(0, len(p.sentences) - 1) for p in map(story.index.passage, range(len(story.index))))
    for furniture in ("File Image", "Click Here", "Popular posts", "JavaScript", "playback", "Reuters", "Otti Adds"):
        assert furniture not in text
