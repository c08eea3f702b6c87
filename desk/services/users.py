"""Desk accounts: creation, password checks with a temporary lockout after repeated failures,
and the session version that ends a user's desk sessions.

Passwords are hashed by Werkzeug (scrypt with a per-password salt), the library
Flask itself ships; nothing here implements cryptography.

Lockout: from the MAX_FAILED_LOGINS-th wrong password in a row, each further one locks the
account for twice as long as the previous lock (FIRST_LOCKOUT, doubling, at most MAX_LOCKOUT),
so guessing stays slow while an operator is never locked out for good; attempts during a
lock are refused without being counted, a right password after the lock (or an administrator's
unlock, reset or reactivation) clears the count. Failures are counted by one atomic UPDATE."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import List, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from desk.models import Role, User
from desk.models.base import utcnow

MAX_FAILED_LOGINS = 5
FIRST_LOCKOUT = timedelta(minutes=1)
MAX_LOCKOUT = timedelta(minutes=15)
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


def end_sessions(session: Session, user_id: int) -> None:
    """Every desk session of the user stops working (it carries the old session version)."""
    session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
        .execution_options(synchronize_session="fetch")
    )


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = _hash(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    end_sessions(session, user.id)


def set_role(session: Session, user: User, role: Role, active: bool = True) -> None:
    user.role = Role(role).value
    user.active = active
    session.flush()
    end_sessions(session, user.id)


def change_role(session: Session, user: User, role: Role) -> None:
    """Give a user another role; the last active admin keeps theirs."""
    role = Role(role)
    if role is not Role.ADMIN:
        _keep_an_admin(session, user)
    user.role = role.value
    session.flush()
    end_sessions(session, user.id)


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
    end_sessions(session, user.id)


def unlock(session: Session, user: User) -> None:
    """An administrator lifts a lockout and clears the failure count."""
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


def lockout_after(failures: int) -> Optional[timedelta]:
    """How long the account stays locked after this many wrong passwords in a row (None: not locked)."""
    if failures < MAX_FAILED_LOGINS:
        return None
    doublings = min(failures - MAX_FAILED_LOGINS, 16)
    return min(FIRST_LOCKOUT * 2 ** doublings, MAX_LOCKOUT)


def authenticate(session: Session, email: str, password: str, now: Optional[datetime] = None) -> LoginResult:
    """Check a login; from MAX_FAILED_LOGINS wrong passwords in a row the account is locked
    (lockout_after), even for the right password. Every refusal costs one password hash,
    so that timing does not tell an unknown login from a locked one."""
    now = now or utcnow()
    user = find_by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        check_password_hash(_DUMMY_HASH, password or "")
        return LoginResult(LoginOutcome.LOCKED, locked_until=user.locked_until)
    if not check_password_hash(user.password_hash, password or ""):
        return _record_failure(session, user, now)
    if not user.active:
        return LoginResult(LoginOutcome.INACTIVE)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return LoginResult(LoginOutcome.OK, user=user)


def _record_failure(session: Session, user: User, now: datetime) -> LoginResult:
    """Count a wrong password atomically (concurrent attempts each count) and lock if due."""
    session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    failures = session.scalar(select(User.failed_logins).where(User.id == user.id))
    lockout = lockout_after(failures)
    locked_until = now + lockout if lockout else None
    if locked_until:
        session.execute(
            update(User).where(User.id == user.id).values(locked_until=locked_until)
            .execution_options(synchronize_session=False)
        )
    session.expire(user, ["failed_logins", "locked_until"])
    if locked_until:
        return LoginResult(LoginOutcome.LOCKED, locked_until=locked_until)
    return LoginResult(LoginOutcome.BAD_CREDENTIALS)


def _hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password)
