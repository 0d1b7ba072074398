"""What demo users say to each skill and what the assistant answers: multi-turn scripts with
orders that go wrong, in speech (lower case, numbers as words) or typed in the app, carrying the
names, addresses, phone numbers, e-mails, cards, birthdays and account numbers that redaction
has to catch."""

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from faker import Faker

from gateway.demo_people import BANK, PHARMACY, PIZZA, REWARDS, RIDES, TEST_CARDS, Person


@dataclass(frozen=True)
class Turn:
    utterance: str
    response: str
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    outcome: str = "success"
    order_ref: str = ""
    sensitive: str | None = None


def converse(talk: "Talk", skill: str, kind: str | None = None) -> list[Turn]:
    """One conversation of `talk`'s person with `skill`: the script `kind`, or one drawn at
    random (then sometimes with a closing thanks)."""
    script = _child_talk if talk.person.is_child else _SCRIPTS[skill]
    turns = script(talk, kind)
    if kind is None and not talk.person.is_child and len(turns) < 6 and talk.maybe(0.3):
        thanks = talk.pick(["Thanks", "Thank you", "That's all", "Great, thanks"])
        reply = talk.pick(["You're welcome!", "Anytime.", "Happy to help."])
        turns.append(Turn(talk.say(thanks), reply, "Thanks", order_ref=turns[-1].order_ref))
    return turns


_ONES = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "- - twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_ORDINALS += [f"twenty {o}" for o in _ORDINALS[:9]] + ["thirtieth", "thirty first"]
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_UNSPOKEN = re.compile(r"[,.?!]")


def _two(number: int) -> str:
    if number < 10:
        return _ONES[number]
    if number < 20:
        return _TEENS[number - 10]
    tens, ones = divmod(number, 10)
    return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")


def _pair(number: int) -> str:
    """The last two digits of a house number or a year, as people say them."""
    if number == 0:
        return "hundred"
    return f"oh {_ONES[number]}" if number < 10 else _two(number)


def digits(text: str) -> str:
    return " ".join(_ONES[int(ch)] for ch in text if ch.isdigit())


def _house_number(number: str) -> str:
    value = int(number)
    if len(number) > 4 or number.startswith("0"):
        return digits(number)
    if value < 100:
        return _two(value)
    high, low = divmod(value, 100)
    return f"{_two(high)} {_pair(low)}"


def _year(value: int) -> str:
    if 2000 <= value < 2010:
        return "two thousand" + (f" {_ONES[value - 2000]}" if value > 2000 else "")
    high, low = divmod(value, 100)
    return f"{_two(high)} {_pair(low)}"


def _spoken_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1].lower()} {_ORDINALS[day.day - 1]} {_year(day.year)}"


def _a(words: str) -> str:
    return ("an " if words[0] in "aeiou" else "a ") + words


def _written_phone(phone: str) -> str:
    return f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"


class Talk:
    """One conversation's speaker: the user's data as they say (or type) it, and the helpers
    the scripts share."""

    def __init__(self, rng: random.Random, fake: Faker, person: Person, spoken: bool) -> None:
        self.rng = rng
        self.fake = fake
        self.person = person
        self.spoken = spoken

    def say(self, text: str) -> str:
        """What the transcript shows: speech comes lower case and without punctuation."""
        return _UNSPOKEN.sub("", text).lower() if self.spoken else text

    def pick(self, options: Sequence[str], weights: Sequence[int] | None = None) -> str:
        return self.rng.choices(options, weights)[0]

    def maybe(self, chance: float) -> bool:
        return self.rng.random() < chance

    def name(self) -> str:
        return self.person.name

    def phone(self) -> str:
        p = self.person.phone
        if self.spoken:
            return digits(p)
        return self.pick([_written_phone(p), f"{p[:3]}-{p[3:6]}-{p[6:]}", p])

    def card(self, number: str | None = None) -> str:
        number = number or self.person.card
        groups = [number[i : i + 4] for i in range(0, len(number), 4)]
        if self.spoken:
            return " ".join(digits(g) for g in groups)
        return self.pick([" ".join(groups), number])

    def email(self) -> str:
        email = self.person.email or ""
        if not self.spoken:
            return email
        local, _, domain = email.partition("@")
        local = re.sub(r"\d+", lambda m: f" {_two(int(m.group()))}", local)
        return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"

    def address(self, building: str | None = None, street: str | None = None) -> str:
        p = self.person
        building, street = building or p.building, street or p.street
        if not self.spoken:
            return f"{building} {street}" + (f", {p.unit}" if p.unit and street == p.street else "")
        unit = ""
        if p.unit and street == p.street:
            _, _, number = p.unit.partition(" ")
            unit = " apartment " + (digits(number) if len(number) > 2 else _two(int(number)))
        return f"{_house_number(building)} {street.lower()}{unit}"

    def birthday(self) -> str:
        born = self.person.born
        if self.spoken:
            return _spoken_date(born)
        return self.pick([f"{born:%m/%d/%Y}", f"{_MONTHS[born.month - 1]} {born.day}, {born.year}"])

    def account(self, number: str | None = None) -> str:
        number = number or self.person.account
        return digits(number) if self.spoken else number

    def ref(self, prefix: str, length: int, alphabet: str = "0123456789") -> str:
        return prefix + "".join(self.rng.choices(alphabet, k=length))

    def money(self, low: int, high: int) -> str:
        return f"{self.rng.randint(low, high):,}.{self.rng.choice(['00', '49', '99', '25'])}"


Script = Callable[[Talk, str | None], list[Turn]]

_SIZES = ("small", "medium", "large", "extra large")
_TOPPINGS = (
    "pepperoni",
    "margherita",
    "four cheese",
    "veggie",
    "hawaiian",
    "bbq chicken",
    "meat lovers",
    "mushroom and olive",
)
_SIDES = ("garlic bread", "chicken wings", "a two liter soda", "cinnamon sticks")


def _pizza(t: Talk, kind: str | None) -> list[Turn]:
    kind = kind or t.pick(
        [
            "order",
            "new_address",
            "declined",
            "abandoned",
            "wrong_address",
            "late",
            "receipt",
            "error",
        ],
        [34, 10, 8, 14, 10, 9, 8, 7],
    )
    p = t.person
    size, topping = t.pick(_SIZES), t.pick(_TOPPINGS)
    ref = t.ref("PP-", 5)
    item = f"{size} {topping}"
    order = Turn(
        t.say(t.pick([f"Order {_a(item)} pizza", f"I'd like {_a(item)} pizza for delivery"])),
        f"{_a(item).capitalize()} pizza from Pizza Palace. Should it go to {p.building} "
        f"{p.street}?",
        "OrderPizza",
        {"size": size, "topping": topping},
    )
    if kind == "wrong_address":
        wrong = p.building[::-1] if len(set(p.building)) > 1 else str(int(p.building) + 10)
        opener = f"Hi, this is {t.name()}. Where is my pizza? It's been an hour"
        return [
            Turn(
                t.say(opener),
                f"Order {ref} was delivered at 7:42 pm to {wrong} {p.street}.",
                "TrackOrder",
                {"order": ref},
                order_ref=ref,
            ),
            Turn(
                t.say(f"That's the wrong address, I live at {t.address()}"),
                f"I'm sorry, {p.first}. I've reported order {ref} and a new pizza is on its "
                f"way to {p.building} {p.street}.",
                "ReportProblem",
                {"address": t.address()},
                "failure",
                ref,
            ),
            Turn(
                t.say("And I want a refund on my card"),
                f"Done: ${t.money(14, 32)} goes back to the card ending {p.card[-4:]} within "
                "3 to 5 days.",
                "RequestRefund",
                outcome="success",
                order_ref=ref,
            ),
        ][: t.rng.choice([2, 3, 3])]
    if kind == "late":
        return [
            Turn(
                t.say("Where's my order?"),
                f"Order {ref} left the store at 6:55 pm and should arrive in about 10 minutes.",
                "TrackOrder",
                order_ref=ref,
            ),
            Turn(
                t.say(f"It's been over an hour. Have the driver call me at {t.phone()}"),
                f"Sorry for the wait! The driver will call {_written_phone(p.phone)}.",
                "ContactDriver",
                {"phone": t.phone()},
                order_ref=ref,
            ),
        ]
    if kind == "receipt":
        return [
            Turn(
                t.say(f"Email my receipt to {t.email()}"),
                f"I sent the receipt for order {ref} to {p.email}.",
                "SendReceipt",
                {"email": t.email()},
                order_ref=ref,
            ),
            Turn(t.say("Thanks"), "Enjoy your pizza!", "Thanks", order_ref=ref),
        ]
    if kind == "error":
        return [
            Turn(
                order.utterance,
                "Sorry, Pizza Palace isn't responding right now. Please try again in a few "
                "minutes.",
                "OrderPizza",
                order.slots,
                "error",
            ),
            Turn(
                t.say("Try again"),
                "Sorry, Pizza Palace still isn't responding.",
                "OrderPizza",
                order.slots,
                "error",
            ),
        ]
    turns = [order]
    if t.maybe(0.35):  # people change their minds halfway
        other = t.pick([s for s in _SIZES if s != size])
        turns.append(
            Turn(
                t.say(t.pick([f"Actually, make that {_a(other)}", f"No wait, {_a(other)} one"])),
                f"OK, {_a(other)} {topping}. Deliver to {p.building} {p.street}?",
                "ModifyOrder",
                {"size": other},
            )
        )
    if kind == "abandoned":
        turns.append(
            Turn(
                t.say("How much is that?"),
                f"That's ${t.money(12, 30)} with delivery.",
                "GetPrice",
            )
        )
        turns.append(
            Turn(
                t.say(t.pick(["Never mind", "Cancel that", "That's too much, forget it"])),
                "No problem, I've emptied your cart.",
                "CancelOrder",
                outcome="abandoned",
            )
        )
        return turns
    if kind == "new_address":
        building, street = t.fake.building_number(), t.fake.street_name()
        turns.append(
            Turn(
                t.say(f"No, deliver it to {t.address(building, street)} instead"),
                f"Got it, {building} {street}. Pay with the card ending {p.card[-4:]}?",
                "ChangeAddress",
                {"address": t.address(building, street)},
            )
        )
    else:
        turns.append(
            Turn(
                t.say(t.pick(["Yes", "Yes please", "Yeah"])),
                f"Pay with the card ending {p.card[-4:]}?",
                "ConfirmAddress",
            )
        )
    if kind == "declined":
        turns.append(
            Turn(
                t.say(f"No, use my other card, {t.card(t.pick(TEST_CARDS))}"),
                "That card was declined. Would you like to try another one?",
                "ChangePayment",
                outcome="failure",
            )
        )
        turns.append(
            Turn(
                t.say("No, forget it"),
                "OK, I've cancelled the order.",
                "CancelOrder",
                outcome="abandoned",
            )
        )
        return turns
    minutes = t.rng.choice([25, 30, 35, 40, 45])
    turns.append(
        Turn(
            t.say(t.pick(["Yes", "Sure", "Yes, that one"])),
            f"Done! Order {ref} is in the oven and arrives in about {minutes} minutes.",
            "ConfirmOrder",
            order_ref=ref,
        )
    )
    if t.maybe(0.2):
        side = t.pick(_SIDES)
        turns.append(
            Turn(
                t.say(f"Can you add {side}?"),
                f"Added {side} to order {ref}.",
                "ModifyOrder",
                {"item": side},
                order_ref=ref,
            )
        )
    return turns


def _rewards(t: Talk, kind: str | None) -> list[Turn]:
    kind = kind or t.pick(["points", "link", "birthday"], [5, 3, 2])
    p = t.person
    points = t.rng.randrange(40, 2400)
    if kind == "link":
        code = t.ref("", 6)
        return [
            Turn(
                t.say(f"Link my rewards account to {t.email()}"),
                f"I sent a confirmation code to {p.email}. What's the code?",
                "LinkAccount",
                {"email": t.email()},
            ),
            Turn(
                t.say(f"The code is {digits(code) if t.spoken else code}"),
                f"Thanks, {p.first}. Your rewards account is linked.",
                "ConfirmCode",
            ),
        ]
    if kind == "birthday":
        return [
            Turn(
                t.say(f"Add my birthday, it's {t.birthday()}"),
                "Saved. You'll get a free dessert in your birthday week.",
                "SetBirthday",
                {"birthday": t.person.born.isoformat()},
            ),
            Turn(t.say("How many points do I have?"), f"You have {points} points.", "CheckPoints"),
        ]
    return [
        Turn(
            t.say("How many points do I have?"),
            f"You have {points} points, {p.first}. That's {points // 400} free garlic breads.",
            "CheckPoints",
        ),
        Turn(
            t.say("Redeem one"),
            "Done, a free garlic bread is added to your next order."
            if points >= 400
            else "You need 400 points for a garlic bread.",
            "RedeemReward",
            {"reward": "garlic bread"},
            "success" if points >= 400 else "failure",
        ),
    ]


_CARS = (
    "a gray Toyota Camry",
    "a blue Honda Civic",
    "a white Tesla Model 3",
    "a black Ford Escape",
)
_LOST = ("wallet", "phone", "keys", "backpack", "umbrella")


def _destination(t: Talk) -> str:
    kind = t.pick(["place", "address", "office"], [4, 4, 2])
    if kind == "place":
        return t.pick(["the airport", "Union Station", "the convention center", "downtown"])
    if kind == "office":
        return f"the {t.fake.company()} office on {t.fake.street_name()}"
    return t.fake.street_address()


def _rides(t: Talk, kind: str | None) -> list[Turn]:
    kind = kind or t.pick(["book", "no_cars", "cancel", "lost", "charged_twice"], [11, 2, 3, 2, 2])
    p = t.person
    ref = t.ref("SR-", 6, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    driver, minutes = t.fake.first_name(), t.rng.randint(3, 12)
    if kind == "lost":
        item = t.pick(_LOST)
        return [
            Turn(
                t.say(f"I left my {item} in the car on my last ride"),
                f"I've told the driver of ride {ref}. What number should they call?",
                "ReportLostItem",
                {"item": item},
                order_ref=ref,
            ),
            Turn(
                t.say(t.phone()),
                f"Thanks. {driver} will call {_written_phone(p.phone)} today.",
                "GivePhone",
                {"phone": t.phone()},
                order_ref=ref,
            ),
        ]
    if kind == "charged_twice":
        return [
            Turn(
                t.say(f"I was charged twice for my ride on my card {t.card()}"),
                f"I see two charges on the card ending {p.card[-4:]} for ride {ref}. I've "
                "refunded one of them.",
                "DisputeCharge",
                order_ref=ref,
            ),
            Turn(t.say("Thank you"), "You're welcome. Safe travels!", "Thanks", order_ref=ref),
        ]
    if kind == "cancel":
        return [
            Turn(t.say("Cancel my ride"), f"Cancel ride {ref} with {driver}?", "CancelRide"),
            Turn(
                t.say("Yes"),
                f"Ride {ref} is cancelled. You won't be charged.",
                "ConfirmCancel",
                order_ref=ref,
            ),
        ]
    destination = _destination(t)
    home = t.pick(["home", t.address()]) if t.maybe(0.8) else "here"
    pickup = f"{p.building} {p.street}"
    asked = Turn(
        t.say(f"Book a ride from {home} to {destination}"),
        f"A driver can pick you up at {pickup} in {minutes} minutes. "
        f"The fare is about ${t.money(9, 58)}. Book it?",
        "BookRide",
        {"pickup": home, "destination": destination},
    )
    if kind == "no_cars":
        return [
            Turn(
                asked.utterance,
                f"Sorry, there are no drivers near {pickup} right now.",
                asked.intent,
                asked.slots,
                "failure",
            ),
            Turn(
                t.say("Try again in five minutes"),
                "I'll let you know when a driver is free.",
                "RetryLater",
                outcome="failure",
            ),
        ]
    turns = [
        asked,
        Turn(
            t.say(t.pick(["Yes", "Book it", "Yes please"])),
            f"Booked! {driver} in {t.pick(_CARS)} arrives in {minutes} minutes. Ride {ref}.",
            "ConfirmRide",
            order_ref=ref,
        ),
    ]
    if t.maybe(0.4):
        turns.append(
            Turn(
                t.say(f"Tell the driver to call me at {t.phone()} when they're outside"),
                f"I've shared {_written_phone(p.phone)} with {driver}.",
                "ShareContact",
                {"phone": t.phone()},
                order_ref=ref,
            )
        )
    return turns


_DRUGS = (
    "lisinopril 10 mg",
    "metformin 500 mg",
    "atorvastatin 20 mg",
    "levothyroxine 50 mcg",
    "amlodipine 5 mg",
    "sertraline 50 mg",
    "omeprazole 20 mg",
    "losartan 50 mg",
    "albuterol",
    "gabapentin 300 mg",
)


def _pharmacy(t: Talk, kind: str | None) -> list[Turn]:
    kind = kind or t.pick(["refill", "too_soon", "status", "transfer", "hours"], [9, 2, 4, 2, 3])
    p = t.person
    drug = t.pick(_DRUGS)
    medicine = drug.split()[0]
    rx = t.ref("RX-", 7)
    health = "health"
    store = t.fake.street_name()
    hours = [
        Turn(
            t.say("What time do you close today?"),
            f"The CareWell on {store} is open until 9 pm today.",
            "StoreHours",
        ),
        Turn(
            t.say("Is the pharmacy counter open on Sunday?"),
            "The pharmacy counter is open 10 am to 6 pm on Sundays.",
            "StoreHours",
        ),
    ]
    if kind == "hours":
        return hours
    who = Turn(
        t.say(f"Refill my {medicine} prescription"),
        "Sure. Whose prescription is it?",
        "RefillPrescription",
        {"medication": medicine},
        sensitive=health,
    )
    identify = Turn(
        t.say(f"It's for {t.name()}, date of birth {t.birthday()}"),
        f"Thanks, {p.first}. Prescription {rx} for {drug} will be ready tomorrow after 10 am. "
        f"Pick it up, or deliver it to {p.building} {p.street}?",
        "IdentifyPatient",
        {"name": t.name(), "birthday": p.born.isoformat()},
        order_ref=rx,
        sensitive=health,
    )
    if kind == "showcase":
        return [
            who,
            identify,
            Turn(
                t.say(f"Deliver it to {t.address()}, and call me at {t.phone()} if it's late"),
                f"Done: {rx} goes to {p.building} {p.street} tomorrow, and we'll call "
                f"{_written_phone(p.phone)} if anything changes.",
                "ChooseDelivery",
                {"address": t.address(), "phone": t.phone()},
                order_ref=rx,
                sensitive=health,
            ),
            hours[0],
        ]
    if kind == "too_soon":
        return [
            who,
            Turn(
                identify.utterance,
                f"Prescription {rx} can't be refilled for another 9 days: your plan covers a "
                "refill every 30 days.",
                "IdentifyPatient",
                identify.slots,
                "failure",
                rx,
                health,
            ),
        ]
    if kind == "status":
        return [
            Turn(
                t.say(f"Is my {medicine} ready? My date of birth is {t.birthday()}"),
                "I couldn't find a prescription for that date of birth. What's your full name?",
                "PrescriptionStatus",
                {"medication": medicine, "birthday": p.born.isoformat()},
                "failure",
                sensitive=health,
            ),
            Turn(
                t.say(t.name()),
                f"Found it, {p.first}. {rx} for {drug} is ready for pickup.",
                "IdentifyPatient",
                {"name": t.name()},
                order_ref=rx,
                sensitive=health,
            ),
        ]
    if kind == "transfer":
        doctor = t.fake.last_name()
        return [
            Turn(
                t.say(f"Transfer my {medicine} prescription from the pharmacy on {store}"),
                "Which doctor prescribed it?",
                "TransferPrescription",
                {"medication": medicine},
                sensitive=health,
            ),
            Turn(
                t.say(f"Doctor {doctor}"),
                f"I've asked Dr. {doctor} to send it over. We'll text {_written_phone(p.phone)} "
                "when it's done.",
                "NameDoctor",
                {"doctor": doctor},
                order_ref=rx,
                sensitive=health,
            ),
        ]
    turns = [who, identify]
    if t.maybe(0.5):
        turns.append(
            Turn(
                t.say(t.pick(["I'll pick it up", "Pick up", "I'll come by"])),
                f"Great, {rx} will be at the counter on {store} tomorrow after 10 am.",
                "ChoosePickup",
                order_ref=rx,
                sensitive=health,
            )
        )
    else:
        turns.append(
            Turn(
                t.say(f"Deliver it to {t.address()}"),
                f"Done: {rx} goes to {p.building} {p.street} tomorrow.",
                "ChooseDelivery",
                {"address": t.address()},
                order_ref=rx,
                sensitive=health,
            )
        )
    if t.maybe(0.25):
        turns.append(hours[0])
    return turns


def _bank(t: Talk, kind: str | None) -> list[Turn]:
    kind = kind or t.pick(
        ["balance", "transfer", "lost_card", "routing", "hours", "balance_and_hours"],
        [6, 6, 2, 2, 2, 2],
    )
    p = t.person
    finance = "finance"
    last4 = p.account[-4:]
    balance = Turn(
        t.say("What's my checking balance?"),
        f"Your checking account ending {last4} has ${t.money(40, 9000)}.",
        "CheckBalance",
        {"account": "checking"},
        sensitive=finance,
    )
    hours = Turn(
        t.say(f"When does the branch on {t.fake.street_name()} close?"),
        "That branch closes at 5 pm today and opens at 9 am tomorrow.",
        "BranchHours",
    )
    if kind == "hours":
        return [hours, Turn(t.say("Thanks"), "You're welcome.", "Thanks")]
    if kind == "balance_and_hours":
        return [balance, hours]
    if kind == "balance":
        savings = str(t.rng.randrange(10**9, 10**10))
        return [
            balance,
            Turn(
                t.say(f"And the savings account {t.account(savings)}?"),
                f"Savings ending {savings[-4:]} has ${t.rng.randint(100, 40000):,}.00.",
                "CheckBalance",
                {"account": t.account(savings)},
                sensitive=finance,
            ),
        ]
    if kind == "routing":
        routing = t.fake.aba()
        return [
            Turn(
                t.say("What's my routing number?"),
                f"Northwind Bank's routing number is {routing}. Your checking account number is "
                f"{p.account}.",
                "GetRoutingNumber",
                sensitive=finance,
            ),
            Turn(t.say("Thanks"), "You're welcome.", "Thanks"),
        ]
    if kind == "lost_card":
        said = t.maybe(0.5)
        opener = f"My card {t.card()} was stolen" if said else "I lost my debit card"
        return [
            Turn(
                t.say(opener),
                f"I'm sorry. Should I freeze the card ending {p.card[-4:]}?",
                "ReportCard",
                sensitive=finance,
            ),
            Turn(
                t.say("Yes, freeze it"),
                f"The card ending {p.card[-4:]} is frozen. A new card goes to {p.building} "
                f"{p.street} within 5 business days.",
                "FreezeCard",
                sensitive=finance,
            ),
        ]
    payee = t.fake.name()
    amount = t.rng.choice([20, 25, 40, 50, 75, 100, 150, 200, 250, 400, 1200, 3000])
    ref = t.ref("NB-", 8)
    ask = t.pick(
        [
            f"Send {amount} dollars to {payee}",
            f"Transfer {amount} dollars to {payee} from account {t.account()}",
            f"Pay {payee} {amount} dollars",
        ]
    )
    turns = [
        Turn(
            t.say(ask),
            f"Send ${amount:,} to {payee} from checking ending {last4}?",
            "TransferMoney",
            {"amount": str(amount), "payee": payee},
            sensitive=finance,
        )
    ]
    if amount > 2500:
        turns.append(
            Turn(
                t.say("Yes"),
                "That's more than your daily transfer limit of $2,500.",
                "ConfirmTransfer",
                outcome="failure",
                sensitive=finance,
            )
        )
    elif t.maybe(0.15):
        turns.append(
            Turn(
                t.say("Actually no, cancel"),
                "OK, nothing was sent.",
                "CancelTransfer",
                outcome="abandoned",
                sensitive=finance,
            )
        )
    else:
        turns.append(
            Turn(
                t.say("Yes"),
                f"Done. ${amount:,} is on its way to {payee}, confirmation {ref}.",
                "ConfirmTransfer",
                order_ref=ref,
                sensitive=finance,
            )
        )
    return turns


def _child_talk(t: Talk, kind: str | None) -> list[Turn]:
    """Child profiles: what they say is never readable by any developer (rule 6)."""
    p = t.person
    topping = t.pick(["extra cheese", "pepperoni", "pineapple", "just cheese"])
    if kind != "child" and t.maybe(0.3):
        return [
            Turn(t.say("How many points do we have?"), "You have 120 points.", "CheckPoints"),
            Turn(t.say("Can I get a free pizza?"), "You need 800 points for that.", "RedeemReward"),
        ]
    return [
        Turn(
            t.say(f"I want a pizza with {topping}"),
            "A grown-up on this account has to approve orders. Who's ordering?",
            "OrderPizza",
            {"topping": topping},
        ),
        Turn(
            t.say(f"My name is {p.first} {p.last} and I live at {t.address()}"),
            f"Thanks, {p.first}. I've sent the order to a parent to approve.",
            "IdentifySpeaker",
            {"name": p.first},
            "abandoned",
        ),
    ]


_SCRIPTS: dict[str, Script] = {
    PIZZA: _pizza,
    REWARDS: _rewards,
    RIDES: _rides,
    PHARMACY: _pharmacy,
    BANK: _bank,
}
