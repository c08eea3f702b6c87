"""People who work in the desk: operators, supervisors and administrators."""
from enum import Enum

from sqlalchemy import Boolean, Column, DateTime, Integer, String

from desk.models.base import Base, utcnow


class Role(str, Enum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: "Role") -> bool:
        """A supervisor may do what an operator does; an admin, what a supervisor does."""
        return self.rank >= other.rank


_RANKS = {Role.OPERATOR: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(String(200), nullable=False, unique=True)  # the login, stored lower-case
    display_name = Column(String(200), nullable=False)
    role = Column(String(20), nullable=False, default=Role.OPERATOR.value)
    password_hash = Column(String(400), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    # Stored in a desk session at login; moving it on ends every session of the user
    # (logout, password, role or activity change), copied cookies included.
    session_version = Column(Integer, nullable=False, default=0, server_default="0")
    last_login_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    @property
    def current_role(self) -> Role:
        return Role(self.role)
