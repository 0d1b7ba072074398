"""Sign-in attempt limits that a stranger cannot turn into a lockout of the real user.

Only failures count, in two buckets of the rate-limit storage (moving windows):
- per (account, address): SIGN_IN_RATE_LIMIT failures to one account from one address;
- per address: SIGN_IN_ADDRESS_RATE_LIMIT failures from one address, all accounts together.
There is deliberately no per-account bucket across addresses: that is the one a stranger
could fill to lock the owner out. A stranger's failures fill the buckets of the stranger's
own address; the owner, from another address, signs in as before. A success clears the
(account, address) bucket.
"""

import logging

from flask import current_app
from limits import parse

from gateway.limits import limiter

logger = logging.getLogger(__name__)


def _items() -> tuple[object, object]:
    return (
        parse(current_app.config["SIGN_IN_RATE_LIMIT"]),
        parse(current_app.config["SIGN_IN_ADDRESS_RATE_LIMIT"]),
    )


def _key(kind: str, account: str) -> str:
    return f"{kind}:{account.strip().lower()[:200]}"


def refused(kind: str, account: str, address: str) -> bool:
    """Whether this sign-in must be refused unheard (no password check at all)."""
    pair, per_address = _items()
    try:
        strategy = limiter.limiter
        return not (
            strategy.test(pair, "sign-in", _key(kind, account), address)  # type: ignore[arg-type]
            and strategy.test(per_address, "sign-in-address", address)  # type: ignore[arg-type]
        )
    except Exception:  # noqa: BLE001 - the storage is down: Argon2 still makes guessing slow
        logger.warning("sign-in attempt limits unavailable")
        return False


def failed(kind: str, account: str, address: str) -> None:
    """Count one failed sign-in."""
    pair, per_address = _items()
    try:
        strategy = limiter.limiter
        strategy.hit(pair, "sign-in", _key(kind, account), address)  # type: ignore[arg-type]
        strategy.hit(per_address, "sign-in-address", address)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001
        logger.warning("sign-in attempt limits unavailable")


def succeeded(kind: str, account: str, address: str) -> None:
    """Forget the failures of this account from this address."""
    pair, _ = _items()
    try:
        limiter.limiter.clear(pair, "sign-in", _key(kind, account), address)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001
        logger.warning("sign-in attempt limits unavailable")
