"""The platform's users as the gateway knows them: a platform user id to the gateway's id."""

from gateway.exceptions import NotFound
from gateway.models import Conn
from gateway.repositories import users as users_repo


def get_user_id(conn: Conn, platform_user_id: str) -> str:
    """The gateway id of the user the platform calls `platform_user_id`.

    Raises NotFound for a user the platform never sent (or one the caller may not see)."""
    found = users_repo.find_user_ids(conn, [platform_user_id])
    if platform_user_id not in found:
        raise NotFound()
    return found[platform_user_id]
