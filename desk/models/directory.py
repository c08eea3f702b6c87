"""Directory of local service points: where a user can go, in person or online, for a topic."""
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from desk.models.base import Base, utcnow

# kind -> (Italian label for the desk and the chat, English label for the chat)
SERVICE_POINT_KINDS = {
    "union_desk": ("Sportello sindacale / patronato", "Union desk / patronato"),
    "employer_association": ("Associazione datoriale", "Employer association"),
    "inps_office": ("INPS", "INPS (national social security)"),
    "bilateral_body": ("Ente bilaterale / fondo", "Bilateral body / fund"),
    "ats_network": ("Rete di conciliazione ATS Milano", "ATS Milano conciliation network"),
    "project_office": ("Ufficio del progetto", "Project office"),
    "municipal_service": ("Servizio comunale", "Municipal service"),
    "public_authority": ("Ente pubblico / autorità", "Public body / authority"),
    "online_service": ("Servizio online", "Online service"),
    "other": ("Altro", "Other"),
}


class ServicePoint(Base):
    __tablename__ = "service_points"

    id = Column(Integer, primary_key=True)
    # Stable id of a point that came from data/directory/service_points.yml; NULL for points added in the desk.
    seed_key = Column(String(80), nullable=True, unique=True)
    name = Column(String(200), nullable=False)
    kind = Column(String(40), nullable=False, default="other")
    address = Column(String(300), nullable=False, default="")
    municipality = Column(String(120), nullable=False, default="")
    opening_hours = Column(Text, nullable=False, default="")
    phone = Column(String(120), nullable=False, default="")
    email = Column(String(200), nullable=False, default="")
    website = Column(String(500), nullable=False, default="")
    topics = Column(JSON, nullable=False, default=list)  # topic ids of topics.yml
    notes = Column(Text, nullable=False, default="")  # for operators only, never shown in chat
    source = Column(Text, nullable=False, default="")
    # The official page the contact details were read from, and when.
    source_url = Column(String(500), nullable=False, default="")
    checked_on = Column(Date, nullable=True)
    # Where the point serves: comuni of the ATS Milano area by name, Milan's municipi as
    # "Milano – Municipio N"; empty with `serves_everywhere` for online/regional services.
    areas = Column(JSON, nullable=False, default=list)
    serves_everywhere = Column(Boolean, nullable=False, default=False)
    latitude = Column(Float, nullable=True)
    longitude = Column(Float, nullable=True)
    version = Column(Integer, nullable=False, default=1)
    # "Da completare": some contact details are still missing and must be found by an operator.
    to_complete = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    # True once anyone but the seed changed the point: seeding never overwrites it again.
    edited_in_desk = Column(Boolean, nullable=False, default=False)
    # Deleted points stay as tombstones so that seeding does not bring them back.
    deleted_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(String(200), nullable=False, default="seed")

    def kind_label(self, language: str = "it") -> str:
        labels = SERVICE_POINT_KINDS.get(self.kind, SERVICE_POINT_KINDS["other"])
        return labels[1] if language == "en" else labels[0]


class ServicePointVersion(Base):
    """Every change of a service point, like the knowledge base's versions."""

    __tablename__ = "service_point_versions"
    __table_args__ = (UniqueConstraint("point_id", "version", name="uq_service_point_versions_point_version"),)

    id = Column(Integer, primary_key=True)
    point_id = Column(Integer, ForeignKey("service_points.id", ondelete="CASCADE"), nullable=False, index=True)
    version = Column(Integer, nullable=False)
    content = Column(JSON, nullable=False)
    author = Column(String(200), nullable=False)
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)

    point = relationship("ServicePoint")
