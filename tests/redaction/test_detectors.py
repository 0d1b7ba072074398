"""Each detector on written, lower-case and spoken forms, and what must survive."""

import pytest

from gateway.redaction import Span, detect, redact


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "my number is five five five eight six seven five three oh nine",
            [("PHONE", "five five five eight six seven five three oh nine")],
        ),
        ("call me at (555) 867-5309", [("PHONE", "(555) 867-5309")]),
        ("call me at 555 867 5309 tonight", [("PHONE", "555 867 5309")]),
        ("ring +44 20 7946 0958", [("PHONE", "+44 20 7946 0958")]),
        (
            "double five five eight six seven five three oh nine",
            [("PHONE", "double five five eight six seven five three oh nine")],
        ),
    ],
)
def test_phone(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("send it to john dot smith at gmail dot com", "john dot smith at gmail dot com"),
        ("email J.Smith@example.org now", "J.Smith@example.org"),
        ("it's maria eighty five at yahoo dot com", "maria eighty five at yahoo dot com"),
        ("reach me at j underscore doe at outlook dot com", "j underscore doe at outlook dot com"),
    ],
)
def test_email(text, value):
    assert kinds(text) == [("EMAIL", value)]


@pytest.mark.parametrize(
    "text",
    [
        "card four one one one one one one one one one one one one one one one",
        "card 4111 1111 1111 1111",
        "card 4111-1111-1111-1111",
        "card four one one one, double one one one, one one one one, one one one one",
    ],
)
def test_card(text):
    assert kinds(text) == [("CARD", text[5:])]


def test_luhn_invalid_sixteen_digits_are_still_redacted_as_a_number():
    assert kinds("code 4111 1111 1111 1112") == [("NUMBER", "4111 1111 1111 1112")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("my ssn is 123-45-6789", "123-45-6789"),
        (
            "my social is one two three four five six seven eight nine",
            "one two three four five six seven eight nine",
        ),
    ],
)
def test_ssn(text, value):
    assert kinds(text) == [("SSN", value)]


@pytest.mark.parametrize(
    "value",
    [
        "DE89 3704 0044 0532 0130 00",
        "gb82 west 1234 5698 7654 32",
        "g b eight two w e s t one two three four five six nine eight seven six five four "
        "three two",
    ],
)
def test_iban(value):
    assert kinds(f"iban {value} thanks") == [("IBAN", value)]


def test_iban_with_a_bad_checksum_is_not_an_iban():
    assert all(kind != "IBAN" for kind, _ in kinds("iban DE88 3704 0044 0532 0130 00"))


@pytest.mark.parametrize(
    "value", ["192.168.1.20", "one nine two dot one six eight dot oh dot one", "2001:db8::1"]
)
def test_ip(value):
    assert kinds(f"my ip is {value}") == [("IP", value)]


@pytest.mark.parametrize(
    "value",
    ["March 3, 1985", "03/07/1985", "1985-03-07", "march third nineteen eighty five"],
)
def test_date_of_birth_in_birth_context(value):
    assert kinds(f"I was born on {value}") == [("DOB", value)]


def test_dates_without_birth_context_stay():
    assert kinds("deliver it on March 3, 2027") == []


@pytest.mark.parametrize(
    "value",
    [
        "42 Elm Street",
        "42 Elm Street, Apt. 5, Springfield, IL 62704",
        "forty two elm street",
        "one two three main st apartment four b",
        "P.O. Box 1234",
    ],
)
def test_address(value):
    assert kinds(f"pick me up at {value} please") == [("ADDRESS", value)]


def test_house_number_is_never_trimmed_off_an_address():
    result = redact("Your driver Maria Lopez will pick you up at 42 Elm Street")
    assert result.text == "Your driver [NAME_1] will pick you up at [ADDRESS_1]"
    assert "42" not in result.text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Your driver Maria Lopez is here", "Maria Lopez"),
        ("call john smith please", "john smith"),
        ("my name is xochitl perez", "xochitl perez"),
        ("text sarah that I'm late", "sarah"),
        ("Call Mark Richards at noon", "Mark Richards"),
        ("two large pizzas for jennifer", "jennifer"),
    ],
)
def test_name(text, name):
    assert kinds(text) == [("NAME", name)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("my account number is 12345678", "ACCOUNT", "12345678"),
        ("membership id AB 482913", "ACCOUNT", "AB 482913"),
        ("the serial number is C02XK1JHG8WP", "SERIAL", "C02XK1JHG8WP"),
        ("zip code 62704", "ZIP", "62704"),
        ("reference 58203948", "NUMBER", "58203948"),
    ],
)
def test_context_numbers(text, kind, value):
    assert kinds(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "two large pizzas",
        "the total is $23.50",
        "where is order 8F3K2",
        "pick me up at 7:30 PM",
        "set a timer for 25 minutes",
        "set a timer for twenty five minutes",
        "play the top songs from nineteen eighty five",
        "I'd like a Margherita Pizza and a Diet Coke",
        "set the thermostat to 72 degrees",
        "Mark the order as done",
        "your card ending in 4242 was charged $1,250.00",
        "pay with my card for a medium margherita",
        "one large hawaiian and a small pepperoni",
    ],
)
def test_things_that_must_survive(text):
    assert redact(text).text == text


def test_spans_are_sorted_offsets_in_the_original_text():
    text = "call 555-867-5309 or email a.b@c.io"
    spans = redact(text).spans
    assert spans == [Span("PHONE", 5, 17), Span("EMAIL", 27, 35)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("call chase", "chase"),
        ("text rose", "rose"),
        ("call chase at five", "chase"),
        ("message hope on monday", "hope"),
        ("text grace and tell her I'm late", "grace"),
        ("call will", "will"),
        ("text will smith at noon", "will smith"),
        ("call chase, then order a pizza", "chase"),
    ],
)
def test_common_word_given_name_after_a_contact_verb_is_a_name(text, name):
    assert kinds(text) == [("NAME", name)]


@pytest.mark.parametrize(
    "text",
    [
        "call an uber",
        "call the restaurant",
        "call back",
        "call home",
        "call mom",
        "call ma",
        "text honey",
        "i need to call in",
        "call chase bank",
        "call will be recorded",
        "send a text message",
        "grace period on the loan",
    ],
)
def test_things_one_calls_and_words_outside_the_contact_context_stay(text):
    assert kinds(text) == []
