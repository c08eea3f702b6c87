"""Desk accounts: creation, password checks with lockout after repeated failures.

Passwords are hashed by Werkzeug (scrypt with a per-password salt), the library
Flask itself ships; nothing here implements cryptography."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from desk.models import Role, User
from desk.models.base import utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# Checked when the login is unknown, so that a wrong login costs as much as a wrong password.
_DUMMY_HASH = generate_password_hash("dialoga-timing-equaliser")


class LoginOutcome(str, Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: Optional[User] = None
    locked_until: Optional[datetime] = None


class WeakPassword(ValueError):
    pass


class InvalidLogin(ValueError):
    pass


class DuplicateLogin(ValueError):
    pass


class LastAdmin(ValueError):
    """The change would leave the desk without an active administrator."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(session: Session, email: str) -> Optional[User]:
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def get(session: Session, user_id: int) -> Optional[User]:
    return session.get(User, user_id)


def list_users(session: Session) -> List[User]:
    return list(session.scalars(select(User).order_by(User.display_name)))


def count_admins(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.active.is_(True)))


def create_user(session: Session, email: str, display_name: str, password: str, role: Role) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 200:
        raise InvalidLogin("the login must be an e-mail address")
    if find_by_email(session, email) is not None:
        raise DuplicateLogin(f"a user with login {email} already exists")
    user = User(email=email, display_name=display_name.strip() or email, role=Role(role).value,
                password_hash=_hash(password), active=True, failed_logins=0, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = _hash(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def set_role(session: Session, user: User, role: Role, active: bool = True) -> None:
    user.role = Role(role).value
    user.active = active
    session.flush()


def change_role(session: Session, user: User, role: Role) -> None:
    """Give a user another role; the last active admin keeps theirs."""
    role = Role(role)
    if role is not Role.ADMIN:
        _keep_an_admin(session, user)
    user.role = role.value
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    """Deactivate (the user can no longer log in, open sessions end) or reactivate;
    the last active admin cannot be deactivated."""
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    session.flush()


def reset_password(session: Session, user: User, password: str) -> None:
    """An administrator sets a new password; it also lifts a lockout."""
    set_password(session, user, password)


def _keep_an_admin(session: Session, user: User) -> None:
    if user.role != Role.ADMIN.value or not user.active:
        return
    # Lock the active admins' rows (PostgreSQL) so that two admins demoting each other
    # at the same moment cannot both pass the check.
    admins = list(session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True)).with_for_update()
    ))
    if admins == [user.id]:
        raise LastAdmin("the desk needs at least one active administrator")


def authenticate(session: Session, email: str, password: str, now: Optional[datetime] = None) -> LoginResult:
    """Check a login; after MAX_FAILED_LOGINS wrong passwords in a row the account is locked
    for LOCKOUT, even for the right password."""
    now = now or utcnow()
    user = find_by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, locked_until=user.locked_until)
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            session.flush()
            return LoginResult(LoginOutcome.LOCKED, locked_until=user.locked_until)
        session.flush()
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if not user.active:
        return LoginResult(LoginOutcome.INACTIVE)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return LoginResult(LoginOutcome.OK, user=user)


def _hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password)
