"""The word lists behind name detection read as their sources say."""

from wordfreq import get_frequency_list, zipf_frequency

from gateway.redaction.detectors import gazetteer, lexicon


def test_wordfreq_read_from_its_data_file_matches_its_public_api():
    # the fast path reads the file itself; a change of layout must not change the words
    assert lexicon._buckets() == get_frequency_list("en", "large")
    for word in ("the", "unread", "mark", "john"):
        assert abs(lexicon.zipf(word) - zipf_frequency(word, "en")) < 0.011


def test_ordinary_words_unknown_tokens_and_proper_nouns():
    assert lexicon.is_word("bring") and not lexicon.is_word("merkel")  # merkel: capitalised
    assert lexicon.is_unknown("zorvath")
    assert not lexicon.is_unknown("unread")  # a rare word (Zipf 2.7) is still no unknown name
    assert not lexicon.is_unknown("merkel")


def test_places_and_regions_are_read_from_the_package_data():
    assert gazetteer.is_place(("new", "york", "city"))
    assert gazetteer.is_place(("norway",))
    assert ("norway",) in gazetteer.regions() and ("manchester",) in gazetteer.places()
