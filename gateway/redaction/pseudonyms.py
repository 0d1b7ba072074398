"""Keyed, per-audience pseudonyms for user identifiers (DESIGN §2 rule 5)."""

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping

_DIGEST_CHARS = 22  # 132 bits of the HMAC: collision-free at any realistic user count


def pseudonymize(value: str, *, scope: str, keys: Mapping[str, bytes], key_id: str) -> str:
    """Return a short URL-safe pseudonym of `value`, stable within `scope`, different across scopes.

    The pseudonym carries the id of the key that made it (``"<key_id>_<digest>"``) so keys can be
    rotated: pseudonyms issued under an older key stay resolvable while that key is kept.
    Raises ``KeyError`` when `key_id` is not among `keys`.
    """
    return _pseudonym(keys[key_id], key_id, scope, value)


# Memoised: a page of the read path makes each user's pseudonym twice (stored, then shown), and
# a developer pages through the same users again and again. A pseudonym is a function of these
# arguments alone (the key's bytes included), so no entry ever needs invalidating; a rotated
# key is another argument. Bounded: about 2.6 MB per process when full.
@functools.lru_cache(maxsize=8192)
def _pseudonym(key: bytes, key_id: str, scope: str, value: str) -> str:
    message = scope.encode() + b"\x00" + value.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    encoded = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return f"{key_id}_{encoded[:_DIGEST_CHARS]}"
