"""Typed models, one module per domain; importing this package registers them all."""
from backend.models.audit import AuditEvent
from backend.models.base import Base
from backend.models.bindings import BindingRequest
from backend.models.people import Membership, User
from backend.models.places import Area, Building, Compound, Household, PropertyCompany, RegisteredOwner

__all__ = [
    "Area",
    "AuditEvent",
    "Base",
    "BindingRequest",
    "Building",
    "Compound",
    "Household",
    "Membership",
    "PropertyCompany",
    "RegisteredOwner",
    "User",
]
